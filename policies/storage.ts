/**
 * Storage baseline: S3 buckets block public access and declare their default encryption; SQS
 * queues are encrypted. Buckets are checked at the stack level because their settings live on
 * separate resources (a public access block, an encryption configuration) that name the bucket.
 */
import { StackResource, resourcePolicy, stackPolicy } from "./lib/define";
import { referencedBy } from "./lib/references";
import { asList, asRecord, asString, isSet, isTrue, isUnknown, listing } from "./lib/values";

const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock";
const ENCRYPTION_CONFIGURATIONS = [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
const BLOCK_SETTINGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;
const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];

/** Each bucket with the resources of `types` that target it through their `bucket` property. */
function settingsByBucket(resources: readonly StackResource[], types: readonly string[]): Map<StackResource, StackResource[]> {
    const buckets = resources.filter((r) => BUCKET_TYPES.includes(r.type));
    const byBucket = new Map(buckets.map((b) => [b, [] as StackResource[]]));
    for (const setting of resources.filter((r) => types.includes(r.type))) {
        for (const bucket of referencedBy(setting, "bucket", buckets)) byBucket.get(bucket)!.push(setting);
    }
    return byBucket;
}

const allBlocked = (block: StackResource) => BLOCK_SETTINGS.every((s) => isTrue(block.props[s]) || isUnknown(block.props[s]));

export const s3PublicAccessBlocked = stackPolicy({
    name: "s3-public-access-blocked",
    description:
        "Every S3 bucket has an aws.s3.BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets " +
        "all true (or the stack sets the same four on an account-wide aws.s3.AccountPublicAccessBlock). Each defaults to false when unset.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources, _config, report) => {
        if (resources.some((r) => r.type === ACCOUNT_PUBLIC_ACCESS_BLOCK && allBlocked(r))) return;
        const all = `set ${listing([...BLOCK_SETTINGS])} to true`;
        for (const [bucket, blocks] of settingsByBucket(resources, [PUBLIC_ACCESS_BLOCK])) {
            if (blocks.length === 0) {
                report(`bucket "${bucket.name}" has no public access block; create an aws.s3.BucketPublicAccessBlock with bucket: <the bucket>.id and ${all}.`, bucket.urn);
            }
            for (const block of blocks.filter((b) => !allBlocked(b))) {
                const off = BLOCK_SETTINGS.filter((s) => !isTrue(block.props[s]) && !isUnknown(block.props[s]));
                report(`bucket "${bucket.name}": its public access block "${block.name}" leaves ${listing(off)} off; ${all}.`, bucket.urn);
            }
        }
    },
});

export const s3DefaultEncryption = stackPolicy({
    name: "s3-default-encryption",
    description:
        "Every S3 bucket declares its default encryption: an aws.s3.BucketServerSideEncryptionConfiguration (or the bucket's inline " +
        "serverSideEncryptionConfiguration) with an sseAlgorithm, SSE-KMS (aws:kms) when requireKms is set. S3 has encrypted all new objects with " +
        "SSE-S3 since 5 January 2023 whatever a bucket says, so encryption is never off; what this asks is that the choice be in the code, reviewed " +
        "and drift-checked, and that stacks holding sensitive data use a KMS key whose use is logged and can be revoked.",
    enforcementLevel: "mandatory",
    config: {
        requireKms: { type: "boolean", description: "Require SSE-KMS (aws:kms or aws:kms:dsse) rather than SSE-S3 (AES256).", default: false },
    },
    validate: (resources, { requireKms }, report) => {
        const wanted = requireKms ? `"aws:kms" and a kmsMasterKeyId` : `"AES256" (or "aws:kms" with a kmsMasterKeyId)`;
        for (const [bucket, configurations] of settingsByBucket(resources, ENCRYPTION_CONFIGURATIONS)) {
            const inline = asRecord(asRecord(bucket.props.serverSideEncryptionConfiguration)?.rule);
            const rules = [...configurations.flatMap((c) => asList(c.props.rules).map(asRecord)), ...(inline ? [inline] : [])];
            const algorithms = rules.map((rule) => asRecord(rule?.applyServerSideEncryptionByDefault)?.sseAlgorithm).filter(isSet);
            if (algorithms.length === 0) {
                report(
                    `bucket "${bucket.name}" declares no default encryption; add an aws.s3.BucketServerSideEncryptionConfiguration with bucket: <the bucket>.id ` +
                        `and rules[0].applyServerSideEncryptionByDefault.sseAlgorithm ${wanted}.`,
                    bucket.urn,
                );
            } else if (requireKms && !algorithms.some((a) => isUnknown(a) || KMS_ALGORITHMS.includes(asString(a) ?? ""))) {
                report(
                    `bucket "${bucket.name}" is encrypted with ${listing(algorithms.map(String))}, but this stack requires SSE-KMS; ` +
                        `set its encryption configuration's rules[0].applyServerSideEncryptionByDefault.sseAlgorithm to ${wanted}.`,
                    bucket.urn,
                );
            }
        }
    },
});

export const sqsEncryption = resourcePolicy({
    name: "sqs-encryption",
    description:
        "Every SQS queue is encrypted at rest, and says so: sqsManagedSseEnabled true (SSE-SQS) or a kmsMasterKeyId (SSE-KMS), " +
        "so no provider default or later change leaves messages in clear.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: ["aws:sqs/queue:Queue"],
    validate: ({ name, props }, _config, report) => {
        if (isTrue(props.sqsManagedSseEnabled) || isUnknown(props.sqsManagedSseEnabled) || isSet(props.kmsMasterKeyId)) return;
        report(`queue "${name}" sets neither sqsManagedSseEnabled: true nor a kmsMasterKeyId; set sqsManagedSseEnabled: true (SSE-SQS), or kmsMasterKeyId for SSE-KMS.`);
    },
});
