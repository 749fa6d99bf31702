import * as assert from "assert";
import {
    s3DefaultEncryption,
    s3NoPublicGrants,
    s3PublicAccessBlocked,
    sqsEncryption,
    sqsNoPublicPolicy,
} from "../storage";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const BUCKET = "aws:s3/bucket:Bucket";
const BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";

const bucket = (name = "datasets") =>
    resource(BUCKET, name, {}, { outputs: { bucket: name, arn: `arn:aws:s3:::${name}` } });
/** As the offline plan records it: the bucket reference is a placeholder id, the dependency names the bucket. */
const settingOf = (type: string, name: string, target: ReturnType<typeof bucket>, inputs: Record<string, unknown>) =>
    resource(type, name, { bucket: `${target.name}-placeholder-id`, ...inputs }, { dependencies: [target.urn] });

const allBlocked = {
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
};
const aes256 = { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] };

describe("policies: storage", () => {
    describe("s3-public-access-blocked", () => {
        it("passes a bucket with a public access block that sets all four settings", async () => {
            const b = bucket();
            assert.deepStrictEqual(
                await violationsOf(s3PublicAccessBlocked, [b, settingOf(BLOCK, "datasets-pab", b, allBlocked)]),
                [],
            );
        });

        it("matches a block to its bucket by the bucket's name too (known ids, or names set explicitly)", async () => {
            const block = resource(BLOCK, "datasets-pab", { bucket: "datasets", ...allBlocked });
            assert.deepStrictEqual(await violationsOf(s3PublicAccessBlocked, [bucket(), block]), []);
        });

        it("passes every bucket when the stack blocks public access account-wide", async () => {
            const account = resource("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account", allBlocked);
            assert.deepStrictEqual(await violationsOf(s3PublicAccessBlocked, [bucket(), account]), []);
        });

        it("reports a bucket without a public access block, against the bucket", async () => {
            const v = await theViolation(s3PublicAccessBlocked, [bucket()]);
            assert.strictEqual(v.urn, bucket().urn);
            assert.strictEqual(
                v.message,
                'bucket "datasets" has no public access block; create an aws.s3.BucketPublicAccessBlock with bucket: <the bucket>.id and ' +
                    "set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true.",
            );
        });

        it("reports a block that leaves a setting off, naming it", async () => {
            const b = bucket();
            const v = await theViolation(s3PublicAccessBlocked, [
                b,
                settingOf(BLOCK, "datasets-pab", b, changed(allBlocked, "blockPublicPolicy", false)),
            ]);
            assert.match(
                v.message,
                /^bucket "datasets": its public access block "datasets-pab" leaves blockPublicPolicy off; set .* to true\.$/,
            );
        });

        it("reports the bucket a block does not target", async () => {
            const [covered, uncovered] = [bucket("covered"), bucket("uncovered")];
            const v = await theViolation(s3PublicAccessBlocked, [
                covered,
                uncovered,
                settingOf(BLOCK, "covered-pab", covered, allBlocked),
            ]);
            assert.strictEqual(v.urn, uncovered.urn);
        });
    });

    describe("s3-default-encryption", () => {
        it("passes a bucket with an encryption configuration, or an inline one", async () => {
            const b = bucket();
            assert.deepStrictEqual(
                await violationsOf(s3DefaultEncryption, [b, settingOf(SSE, "datasets-sse", b, aes256)]),
                [],
            );
            const inline = resource(BUCKET, "inline", { serverSideEncryptionConfiguration: { rule: aes256.rules[0] } });
            assert.deepStrictEqual(await violationsOf(s3DefaultEncryption, [inline]), []);
        });

        it("reports a bucket that declares no default encryption, naming the setting", async () => {
            const v = await theViolation(s3DefaultEncryption, [bucket()]);
            assert.match(
                v.message,
                /^bucket "datasets" declares no default encryption; add an aws\.s3\.BucketServerSideEncryptionConfiguration .* rules\[0\]\.applyServerSideEncryptionByDefault\.sseAlgorithm "AES256"/,
            );
        });

        it("reports SSE-S3 where the stack requires KMS, and passes aws:kms there", async () => {
            const b = bucket();
            const v = await theViolation(s3DefaultEncryption, [b, settingOf(SSE, "datasets-sse", b, aes256)], {
                requireKms: true,
            });
            assert.match(
                v.message,
                /is encrypted with AES256, but this stack requires SSE-KMS; set .*sseAlgorithm to "aws:kms" and a kmsMasterKeyId\.$/,
            );
            const kms = changed(aes256, "rules.0.applyServerSideEncryptionByDefault", {
                sseAlgorithm: "aws:kms",
                kmsMasterKeyId: "arn:aws:kms:us-east-1:123456789012:key/k",
            });
            assert.deepStrictEqual(
                await violationsOf(s3DefaultEncryption, [b, settingOf(SSE, "datasets-sse", b, kms)], {
                    requireKms: true,
                }),
                [],
            );
        });
    });

    describe("sqs-encryption", () => {
        const QUEUE = "aws:sqs/queue:Queue";
        const queue = (inputs: Record<string, unknown>) =>
            resource(QUEUE, "jobs", { messageRetentionSeconds: 1209600, ...inputs });

        it("passes SSE-SQS and SSE-KMS queues", async () => {
            assert.deepStrictEqual(
                await violationsOf(sqsEncryption, [
                    queue({ sqsManagedSseEnabled: true }),
                    queue({ kmsMasterKeyId: "alias/queues" }),
                ]),
                [],
            );
        });

        it("reports a queue that turns SSE-SQS off without a KMS key", async () => {
            const v = await theViolation(sqsEncryption, [queue({ sqsManagedSseEnabled: false })]);
            assert.strictEqual(
                v.message,
                'queue "jobs" sets neither sqsManagedSseEnabled: true nor a kmsMasterKeyId; set sqsManagedSseEnabled: true (SSE-SQS), or kmsMasterKeyId for SSE-KMS.',
            );
        });
    });

    describe("s3-public-access-blocked: an account-wide block covers its own account only", () => {
        const ACCOUNT_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock";
        const provider = (name: string, inputs: Record<string, unknown>) =>
            resource("pulumi:providers:aws", name, { region: "us-east-1", ...inputs });
        const pinned = provider("pinned", { allowedAccountIds: ["123456789012"] });
        const ref = (p: ReturnType<typeof provider>) => `${p.urn}::${p.name}-id`;

        it("passes a bucket when the block names the account its provider is pinned to", async () => {
            const block = resource(
                ACCOUNT_BLOCK,
                "account",
                { accountId: "123456789012", ...allBlocked },
                { provider: ref(pinned) },
            );
            const b = resource(BUCKET, "datasets", {}, { provider: ref(pinned) });
            assert.deepStrictEqual(await violationsOf(s3PublicAccessBlocked, [pinned, block, b]), []);
        });

        it("reports the bucket when the block is claimed for some other account", async () => {
            const block = resource(ACCOUNT_BLOCK, "account", { accountId: "999999999999", ...allBlocked });
            const v = await theViolation(s3PublicAccessBlocked, [block, bucket()]);
            assert.match(v.message, /^bucket "datasets" has no public access block/);
        });

        it("reports the bucket when the block is made through another account's provider", async () => {
            const other = provider("other", { assumeRole: { roleArn: "arn:aws:iam::999999999999:role/admin" } });
            const block = resource(ACCOUNT_BLOCK, "account", allBlocked, { provider: ref(other) });
            assert.strictEqual((await violationsOf(s3PublicAccessBlocked, [other, block, bucket()])).length, 1);
        });
    });

    describe("s3-no-public-grants", () => {
        const ACL = "aws:s3/bucketAclV2:BucketAclV2";
        const POLICY = "aws:s3/bucketPolicy:BucketPolicy";
        const doc = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
        const denyInsecure = {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: "arn:aws:s3:::datasets/*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        };
        const readFromVpce = {
            Sid: "ReadFromEndpoint",
            Effect: "Allow",
            Principal: "*",
            Action: "s3:GetObject",
            Resource: "arn:aws:s3:::datasets/*",
            Condition: { StringEquals: { "aws:SourceVpce": "vpce-1a2b3c4d" } },
        };

        it("passes a private ACL, a deny for everyone, and an allow for everyone pinned to a VPC endpoint", async () => {
            const acl = resource(ACL, "datasets-acl", { bucket: "datasets", acl: "private" });
            assert.deepStrictEqual(
                await violationsOf(s3NoPublicGrants, [
                    acl,
                    resource(POLICY, "datasets-policy", {
                        bucket: "datasets",
                        policy: doc(denyInsecure, readFromVpce),
                    }),
                ]),
                [],
            );
        });

        it("reports public canned ACLs on a bucket ACL, a bucket and an object", async () => {
            const messages = (
                await violationsOf(s3NoPublicGrants, [
                    resource(ACL, "datasets-acl", { bucket: "datasets", acl: "public-read" }),
                    resource(BUCKET, "legacy", { acl: "authenticated-read" }),
                    resource("aws:s3/bucketObjectv2:BucketObjectv2", "model", {
                        bucket: "datasets",
                        key: "model.bin",
                        acl: "public-read-write",
                    }),
                ])
            ).map((v) => v.message.split(";")[0]);
            assert.deepStrictEqual(messages, [
                'BucketAclV2 "datasets-acl" sets acl to "public-read", which makes it readable by anyone',
                'Bucket "legacy" sets acl to "authenticated-read", which makes it readable by every AWS account',
                'BucketObjectv2 "model" sets acl to "public-read-write", which makes it readable and writable by anyone',
            ]);
        });

        it("reports an ACL grant to AllUsers", async () => {
            const grant = {
                grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" },
                permission: "READ",
            };
            const v = await theViolation(s3NoPublicGrants, [
                resource(ACL, "datasets-acl", {
                    bucket: "datasets",
                    accessControlPolicy: { owner: { id: "o" }, grants: [grant] },
                }),
            ]);
            assert.match(
                v.message,
                /^BucketAclV2 "datasets-acl": accessControlPolicy\.grants\[0\] grants to http:\/\/acs\.amazonaws\.com\/groups\/global\/AllUsers, which S3 counts as public/,
            );
        });

        for (const [what, statement] of [
            ['Principal "*"', { ...readFromVpce, Condition: undefined }],
            ['{"AWS": "*"}', { ...readFromVpce, Principal: { AWS: "*" }, Condition: undefined }],
            [
                "a source address condition that admits the whole internet",
                { ...readFromVpce, Condition: { IpAddress: { "aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"] } } },
            ],
            [
                "a condition with a wildcard",
                { ...readFromVpce, Condition: { StringLike: { "aws:SourceVpce": "vpce-*" } } },
            ],
        ] as const) {
            it(`reports a bucket policy that allows everyone through ${what}`, async () => {
                const v = await theViolation(s3NoPublicGrants, [
                    resource(POLICY, "datasets-policy", { bucket: "datasets", policy: doc(denyInsecure, statement) }),
                ]);
                assert.match(
                    v.message,
                    /^BucketPolicy "datasets-policy": policy statement "ReadFromEndpoint" allows s3:GetObject to everyone .* so the bucket is not public\.$/,
                );
            });
        }
    });

    describe("sqs-no-public-policy", () => {
        const fromBucket = {
            Sid: "S3Events",
            Effect: "Allow",
            Principal: { Service: "s3.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: "arn:aws:sqs:us-east-1:123456789012:jobs",
            Condition: { ArnEquals: { "aws:SourceArn": "arn:aws:s3:::datasets" } },
        };
        const queuePolicy = (statement: object) =>
            resource("aws:sqs/queuePolicy:QueuePolicy", "jobs-policy", {
                queueUrl: "https://sqs/jobs",
                policy: JSON.stringify({ Statement: [statement] }),
            });

        it("passes the pipeline's policy (S3 events from its bucket), and an open statement pinned to the source bucket", async () => {
            assert.deepStrictEqual(
                await violationsOf(sqsNoPublicPolicy, [
                    queuePolicy(fromBucket),
                    queuePolicy({ ...fromBucket, Principal: "*" }),
                ]),
                [],
            );
        });

        it("reports a queue policy open to everyone, and a queue's inline one", async () => {
            const v = await theViolation(sqsNoPublicPolicy, [
                queuePolicy({ ...fromBucket, Principal: "*", Condition: undefined }),
            ]);
            assert.match(
                v.message,
                /^QueuePolicy "jobs-policy": policy statement "S3Events" allows sqs:SendMessage to everyone \(Principal "\*"\); name the principals/,
            );
            const inline = resource("aws:sqs/queue:Queue", "jobs", {
                policy: JSON.stringify({
                    Statement: [{ ...fromBucket, Principal: { AWS: ["*"] }, Condition: undefined }],
                }),
            });
            assert.strictEqual((await violationsOf(sqsNoPublicPolicy, [inline])).length, 1);
        });
    });
});
