import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface PrivateBucketArgs {
    /** Lifecycle rules; none when empty. */
    rules: aws.types.input.s3.BucketLifecycleConfigurationRule[];
    /** KMS key for SSE-KMS with bucket keys. Default SSE-S3 (AES256). */
    kmsKeyArn?: pulumi.Input<string>;
    /** Protect and retain the bucket, so deleting the stack cannot lose its objects. */
    protect: boolean;
    /** Tags on the bucket, over the provider's default tags. Default none. */
    tags?: Record<string, string>;
}

/**
 * A private bucket: owner-enforced objects, every public access blocked, default encryption,
 * versioning, lifecycle rules, and a policy refusing requests without TLS. Its settings are
 * children of `parent`, named after the bucket (`<name>-public-access`, `<name>-encryption`, …).
 */
export function privateBucket(name: string, args: PrivateBucketArgs, parent: pulumi.Resource): aws.s3.Bucket {
    const bucket = new aws.s3.Bucket(
        name,
        { tags: args.tags },
        { parent, protect: args.protect, retainOnDelete: args.protect },
    );
    const child = { parent };
    new aws.s3.BucketOwnershipControls(
        `${name}-ownership`,
        { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
        child,
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
        `${name}-public-access`,
        {
            bucket: bucket.id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        },
        child,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-encryption`,
        {
            bucket: bucket.id,
            rules: [
                {
                    applyServerSideEncryptionByDefault: args.kmsKeyArn
                        ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn }
                        : { sseAlgorithm: "AES256" },
                    bucketKeyEnabled: args.kmsKeyArn ? true : undefined,
                },
            ],
        },
        child,
    );
    new aws.s3.BucketVersioning(
        `${name}-versioning`,
        { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
        child,
    );
    if (args.rules.length > 0)
        new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, { bucket: bucket.id, rules: args.rules }, child);
    new aws.s3.BucketPolicy(
        `${name}-policy`,
        { bucket: bucket.id, policy: pulumi.jsonStringify(tlsOnlyBucketPolicy(bucket.arn)) },
        // S3 rejects concurrent changes to one bucket's policy and public access block.
        { parent, dependsOn: [publicAccess] },
    );
    return bucket;
}

function tlsOnlyBucketPolicy(bucketArn: pulumi.Input<string>) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [bucketArn, pulumi.interpolate`${bucketArn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    };
}

/** Old versions and abandoned uploads go after `noncurrentDays`; current objects stay until another rule expires them. */
export function housekeepingRules(noncurrentDays: number): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
    return [
        {
            id: "expire-old-versions",
            status: "Enabled",
            filter: { prefix: "" },
            noncurrentVersionExpiration: { noncurrentDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
    ];
}
