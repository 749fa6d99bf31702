import * as assert from "assert";
import { s3DefaultEncryption, s3PublicAccessBlocked, sqsEncryption } from "../storage";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const BUCKET = "aws:s3/bucket:Bucket";
const BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";

const bucket = (name = "datasets") => resource(BUCKET, name, {}, { outputs: { bucket: name, arn: `arn:aws:s3:::${name}` } });
/** As the offline plan records it: the bucket reference is a placeholder id, the dependency names the bucket. */
const settingOf = (type: string, name: string, target: ReturnType<typeof bucket>, inputs: Record<string, unknown>) =>
    resource(type, name, { bucket: `${target.name}-placeholder-id`, ...inputs }, { dependencies: [target.urn] });

const allBlocked = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
const aes256 = { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] };

describe("policies: storage", () => {
    describe("s3-public-access-blocked", () => {
        it("passes a bucket with a public access block that sets all four settings", async () => {
            const b = bucket();
            assert.deepStrictEqual(await violationsOf(s3PublicAccessBlocked, [b, settingOf(BLOCK, "datasets-pab", b, allBlocked)]), []);
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
            const v = await theViolation(s3PublicAccessBlocked, [b, settingOf(BLOCK, "datasets-pab", b, changed(allBlocked, "blockPublicPolicy", false))]);
            assert.match(v.message, /^bucket "datasets": its public access block "datasets-pab" leaves blockPublicPolicy off; set .* to true\.$/);
        });

        it("reports the bucket a block does not target", async () => {
            const [covered, uncovered] = [bucket("covered"), bucket("uncovered")];
            const v = await theViolation(s3PublicAccessBlocked, [covered, uncovered, settingOf(BLOCK, "covered-pab", covered, allBlocked)]);
            assert.strictEqual(v.urn, uncovered.urn);
        });
    });

    describe("s3-default-encryption", () => {
        it("passes a bucket with an encryption configuration, or an inline one", async () => {
            const b = bucket();
            assert.deepStrictEqual(await violationsOf(s3DefaultEncryption, [b, settingOf(SSE, "datasets-sse", b, aes256)]), []);
            const inline = resource(BUCKET, "inline", { serverSideEncryptionConfiguration: { rule: aes256.rules[0] } });
            assert.deepStrictEqual(await violationsOf(s3DefaultEncryption, [inline]), []);
        });

        it("reports a bucket that declares no default encryption, naming the setting", async () => {
            const v = await theViolation(s3DefaultEncryption, [bucket()]);
            assert.match(v.message, /^bucket "datasets" declares no default encryption; add an aws\.s3\.BucketServerSideEncryptionConfiguration .* rules\[0\]\.applyServerSideEncryptionByDefault\.sseAlgorithm "AES256"/);
        });

        it("reports SSE-S3 where the stack requires KMS, and passes aws:kms there", async () => {
            const b = bucket();
            const v = await theViolation(s3DefaultEncryption, [b, settingOf(SSE, "datasets-sse", b, aes256)], { requireKms: true });
            assert.match(v.message, /is encrypted with AES256, but this stack requires SSE-KMS; set .*sseAlgorithm to "aws:kms" and a kmsMasterKeyId\.$/);
            const kms = changed(aes256, "rules.0.applyServerSideEncryptionByDefault", { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:us-east-1:123456789012:key/k" });
            assert.deepStrictEqual(await violationsOf(s3DefaultEncryption, [b, settingOf(SSE, "datasets-sse", b, kms)], { requireKms: true }), []);
        });
    });

    describe("sqs-encryption", () => {
        const QUEUE = "aws:sqs/queue:Queue";
        const queue = (inputs: Record<string, unknown>) => resource(QUEUE, "jobs", { messageRetentionSeconds: 1209600, ...inputs });

        it("passes SSE-SQS and SSE-KMS queues", async () => {
            assert.deepStrictEqual(await violationsOf(sqsEncryption, [queue({ sqsManagedSseEnabled: true }), queue({ kmsMasterKeyId: "alias/queues" })]), []);
        });

        it("reports a queue that turns SSE-SQS off without a KMS key", async () => {
            const v = await theViolation(sqsEncryption, [queue({ sqsManagedSseEnabled: false })]);
            assert.strictEqual(v.message, 'queue "jobs" sets neither sqsManagedSseEnabled: true nor a kmsMasterKeyId; set sqsManagedSseEnabled: true (SSE-SQS), or kmsMasterKeyId for SSE-KMS.');
        });
    });
});
