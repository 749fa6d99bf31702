/**
 * Storage baseline: S3 buckets block public access, grant nothing to the public and declare
 * their default encryption; SQS queues are encrypted and their policies are not open to
 * everyone. Buckets are checked at the stack level because their settings live on separate
 * resources (a public access block, an encryption configuration) that name the bucket.
 */
import { StackResource, resourcePolicy, stackPolicy } from "./lib/define";
import {
    allowsEveryone,
    isAllow,
    restrictingCondition,
    statementName,
    statementsOf,
    stringsOf,
} from "./lib/policy-documents";
import { providerAccounts } from "./lib/provider-accounts";
import { referencedBy } from "./lib/references";
import { Props, asList, asRecord, asString, isSet, isTrue, isUnknown, listing } from "./lib/values";

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
function settingsByBucket(
    resources: readonly StackResource[],
    types: readonly string[],
): Map<StackResource, StackResource[]> {
    const buckets = resources.filter((r) => BUCKET_TYPES.includes(r.type));
    const byBucket = new Map(buckets.map((b) => [b, [] as StackResource[]]));
    for (const setting of resources.filter((r) => types.includes(r.type))) {
        for (const bucket of referencedBy(setting, "bucket", buckets)) byBucket.get(bucket)!.push(setting);
    }
    return byBucket;
}

const allBlocked = (block: StackResource) =>
    BLOCK_SETTINGS.every((s) => isTrue(block.props[s]) || isUnknown(block.props[s]));

/**
 * An account-wide block covers the buckets of its own account only: those made through the same
 * AWS provider, and, when it names an account, only if that is the provider's account (one its
 * allowedAccountIds or assumed role names). A block for some other account protects none of them.
 */
function accountBlockCovers(block: StackResource, bucket: StackResource): boolean {
    if (block.provider !== bucket.provider) return false;
    const accountId = block.props.accountId;
    if (accountId === undefined || accountId === "" || isUnknown(accountId)) return true;
    return providerAccounts(block.providerProps).includes(
        typeof accountId === "number" ? String(accountId) : (asString(accountId) ?? ""),
    );
}

export const s3PublicAccessBlocked = stackPolicy({
    name: "s3-public-access-blocked",
    description:
        "Every S3 bucket has an aws.s3.BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets " +
        "all true (or the stack sets the same four on an aws.s3.AccountPublicAccessBlock of the bucket's own account: same AWS provider, and an accountId, if " +
        "set, that the provider is pinned to). Each defaults to false when unset.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources, _config, report) => {
        const accountBlocks = resources.filter((r) => r.type === ACCOUNT_PUBLIC_ACCESS_BLOCK && allBlocked(r));
        const all = `set ${listing([...BLOCK_SETTINGS])} to true`;
        for (const [bucket, blocks] of settingsByBucket(resources, [PUBLIC_ACCESS_BLOCK])) {
            if (accountBlocks.some((block) => accountBlockCovers(block, bucket))) continue;
            if (blocks.length === 0) {
                report(
                    `bucket "${bucket.name}" has no public access block; create an aws.s3.BucketPublicAccessBlock with bucket: <the bucket>.id and ${all}.`,
                    bucket.urn,
                );
            }
            for (const block of blocks.filter((b) => !allBlocked(b))) {
                const off = BLOCK_SETTINGS.filter((s) => !isTrue(block.props[s]) && !isUnknown(block.props[s]));
                report(
                    `bucket "${bucket.name}": its public access block "${block.name}" leaves ${listing(off)} off; ${all}.`,
                    bucket.urn,
                );
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
        requireKms: {
            type: "boolean",
            description: "Require SSE-KMS (aws:kms or aws:kms:dsse) rather than SSE-S3 (AES256).",
            default: false,
        },
    },
    validate: (resources, { requireKms }, report) => {
        const wanted = requireKms ? `"aws:kms" and a kmsMasterKeyId` : `"AES256" (or "aws:kms" with a kmsMasterKeyId)`;
        for (const [bucket, configurations] of settingsByBucket(resources, ENCRYPTION_CONFIGURATIONS)) {
            const inline = asRecord(asRecord(bucket.props.serverSideEncryptionConfiguration)?.rule);
            const rules = [
                ...configurations.flatMap((c) => asList(c.props.rules).map(asRecord)),
                ...(inline ? [inline] : []),
            ];
            const algorithms = rules
                .map((rule) => asRecord(rule?.applyServerSideEncryptionByDefault)?.sseAlgorithm)
                .filter(isSet);
            if (algorithms.length === 0) {
                report(
                    `bucket "${bucket.name}" declares no default encryption; add an aws.s3.BucketServerSideEncryptionConfiguration with bucket: <the bucket>.id ` +
                        `and rules[0].applyServerSideEncryptionByDefault.sseAlgorithm ${wanted}.`,
                    bucket.urn,
                );
            } else if (
                requireKms &&
                !algorithms.some((a) => isUnknown(a) || KMS_ALGORITHMS.includes(asString(a) ?? ""))
            ) {
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
        if (isTrue(props.sqsManagedSseEnabled) || isUnknown(props.sqsManagedSseEnabled) || isSet(props.kmsMasterKeyId))
            return;
        report(
            `queue "${name}" sets neither sqsManagedSseEnabled: true nor a kmsMasterKeyId; set sqsManagedSseEnabled: true (SSE-SQS), or kmsMasterKeyId for SSE-KMS.`,
        );
    },
});

/** Canned ACLs that grant to everyone (AllUsers) or to every AWS account (AuthenticatedUsers), which S3 counts as public. */
const PUBLIC_CANNED_ACLS = ["public-read", "public-read-write", "authenticated-read"];
const PUBLIC_GRANTEES = /^https?:\/\/acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)$/i;

/** Where each S3 resource type grants access: canned ACLs, ACL grants and bucket policies. */
const S3_GRANTS: Record<
    string,
    (p: Props) => { acls: [string, unknown][]; grants: [string, unknown][]; policies: [string, unknown][] }
> = {
    "aws:s3/bucket:Bucket": (p) => ({
        acls: [["acl", p.acl]],
        grants: asList(p.grants).map((g, i) => [`grants[${i}]`, g]),
        policies: [["policy", p.policy]],
    }),
    "aws:s3/bucketV2:BucketV2": (p) => ({
        acls: [["acl", p.acl]],
        grants: asList(p.grants).map((g, i) => [`grants[${i}]`, g]),
        policies: [["policy", p.policy]],
    }),
    "aws:s3/bucketAclV2:BucketAclV2": aclResource,
    "aws:s3/bucketAcl:BucketAcl": aclResource,
    "aws:s3/bucketPolicy:BucketPolicy": (p) => ({ acls: [], grants: [], policies: [["policy", p.policy]] }),
    "aws:s3/bucketObject:BucketObject": (p) => ({ acls: [["acl", p.acl]], grants: [], policies: [] }),
    "aws:s3/bucketObjectv2:BucketObjectv2": (p) => ({ acls: [["acl", p.acl]], grants: [], policies: [] }),
};

function aclResource(p: Props) {
    const grants = asList(asRecord(p.accessControlPolicy)?.grants).map((g, i): [string, unknown] => [
        `accessControlPolicy.grants[${i}]`,
        asRecord(g)?.grantee,
    ]);
    return { acls: [["acl", p.acl]] as [string, unknown][], grants, policies: [] };
}

export const s3NoPublicGrants = resourcePolicy({
    name: "s3-no-public-grants",
    description:
        "No S3 bucket or object is made public: no public canned ACL (public-read, public-read-write, authenticated-read), no ACL grant to the " +
        'AllUsers or AuthenticatedUsers groups, and no bucket policy statement that allows everyone (Principal "*" or {"AWS": "*"}) without a condition ' +
        'that pins the caller (aws:SourceVpce, aws:SourceArn, aws:PrincipalOrgID, ...), as S3 itself judges "public". Refused whatever public access ' +
        "block applies: a block makes such a grant fail at apply or lie dormant until the block is lifted, and an account-level one may be another account's.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: Object.keys(S3_GRANTS),
    validate: ({ type, name, props }, _config, report) => {
        const what = `${type.split(":").pop()} "${name}"`;
        const { acls, grants, policies } = S3_GRANTS[type](props);
        for (const [setting, acl] of acls) {
            if (typeof acl === "string" && PUBLIC_CANNED_ACLS.includes(acl.trim().toLowerCase())) {
                report(
                    `${what} sets ${setting} to "${acl}", which makes it readable${acl.includes("write") ? " and writable" : ""} by ${acl.startsWith("authenticated") ? "every AWS account" : "anyone"}; set ${setting} to "private" (or leave it unset) and grant access with IAM policies.`,
                );
            }
        }
        for (const [setting, grant] of grants) {
            const uri = asString(asRecord(grant)?.uri);
            if (uri && PUBLIC_GRANTEES.test(uri.trim()))
                report(
                    `${what}: ${setting} grants to ${uri.trim()}, which S3 counts as public; remove the grant and give access through IAM policies.`,
                );
        }
        for (const [setting, document] of policies) reportOpenStatements(what, setting, document, "bucket", report);
    },
});

export const sqsNoPublicPolicy = resourcePolicy({
    name: "sqs-no-public-policy",
    description:
        'No SQS queue policy allows everyone (Principal "*", {"AWS": "*"}, or an Allow with NotPrincipal) without a condition that pins the caller or ' +
        "the source (aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID, ...): anyone could send, read or purge its messages.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: ["aws:sqs/queuePolicy:QueuePolicy", "aws:sqs/queue:Queue"],
    validate: ({ type, name, props }, _config, report) => {
        reportOpenStatements(`${type.split(":").pop()} "${name}"`, "policy", props.policy, "queue", report);
    },
});

/** Reports each Allow statement of a resource policy that lets everyone in with no pinning condition. */
function reportOpenStatements(
    what: string,
    setting: string,
    document: unknown,
    target: string,
    report: (message: string) => void,
): void {
    statementsOf(document).forEach((statement, i) => {
        if (!isAllow(statement) || !allowsEveryone(statement) || restrictingCondition(statement)) return;
        const principal =
            statement.NotPrincipal !== undefined
                ? "NotPrincipal (everyone else)"
                : `Principal ${JSON.stringify(statement.Principal)}`;
        report(
            `${what}: ${setting} ${statementName(statement, i)} allows ${listing(stringsOf(statement.Action ?? statement.NotAction))} to everyone (${principal}); ` +
                `name the principals in Principal, or pin the caller with a condition on aws:SourceArn, aws:SourceAccount, aws:SourceVpce or aws:PrincipalOrgID, so the ${target} is not public.`,
        );
    });
}
