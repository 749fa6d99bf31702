import * as assert from "assert";
import { ebsEncrypted, efsEncrypted, kmsKeyRotation, logGroupRetention, snsEncrypted } from "../encryption";
import { rdsStorageEncrypted } from "../rds";
import { AWS_PROVIDER_REF, awsProvider, changed, resource, theViolation, violationsOf } from "./support/check";

const TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const INSTANCE = "aws:ec2/instance:Instance";
/** As the platform's node pools declare it: one encrypted gp3 root volume. */
const template = resource(TEMPLATE, "pool-template", {
    blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeSize: 50, volumeType: "gp3" } }],
});
const instance = {
    ami: "ami-0123456789abcdef0",
    instanceType: "m7i.large",
    rootBlockDevice: { encrypted: true, volumeSize: 20 },
    ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: true, volumeSize: 100 }],
};
const onProvider = { provider: AWS_PROVIDER_REF };

describe("policies: encryption at rest", () => {
    describe("ebs-encrypted", () => {
        it("passes encrypted volumes, instances, spot requests, launch configurations and templates", async () => {
            const resources = [
                template,
                resource(INSTANCE, "box", instance),
                resource("aws:ec2/spotInstanceRequest:SpotInstanceRequest", "spot-box", instance),
                resource("aws:ec2/launchConfiguration:LaunchConfiguration", "legacy", {
                    imageId: "ami-1",
                    instanceType: "m7i.large",
                    rootBlockDevice: { encrypted: true },
                }),
                resource("aws:ebs/volume:Volume", "data", {
                    availabilityZone: "us-east-1a",
                    size: 100,
                    encrypted: true,
                }),
            ];
            assert.deepStrictEqual(await violationsOf(ebsEncrypted, resources), []);
        });

        it("reports an instance's root and attached volumes left unencrypted, naming each setting", async () => {
            const v = await theViolation(ebsEncrypted, [
                resource(
                    INSTANCE,
                    "box",
                    changed(
                        changed(instance, "rootBlockDevice.encrypted", undefined),
                        "ebsBlockDevices.0.encrypted",
                        false,
                    ),
                ),
            ]);
            assert.strictEqual(
                v.message,
                'instance "box" sets rootBlockDevice.encrypted and ebsBlockDevices[0].encrypted, so AWS creates those volumes unencrypted; ' +
                    "set encrypted: true (with a kmsKeyId for a key of the stack's own), or turn on the account default with aws.ebs.EncryptionByDefault { enabled: true }.",
            );
        });

        it("reports an instance that declares no root volume (the AMI's is unencrypted)", async () => {
            const v = await theViolation(ebsEncrypted, [
                resource(INSTANCE, "box", changed(instance, "rootBlockDevice", undefined)),
            ]);
            assert.match(v.message, /^instance "box" declares no root volume, so its instances get the AMI's/);
        });

        it("reports a volume, a spot request and a launch configuration each", async () => {
            for (const [type, inputs, expected] of [
                [
                    "aws:ebs/volume:Volume",
                    { availabilityZone: "us-east-1a", size: 10 },
                    /^EBS volume "x" leaves unset encrypted, so AWS creates that volume unencrypted/,
                ],
                [
                    "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
                    changed(instance, "ebsBlockDevices.0.encrypted", false),
                    /^spot instance request "x" sets ebsBlockDevices\[0\]\.encrypted/,
                ],
                [
                    "aws:ec2/launchConfiguration:LaunchConfiguration",
                    { imageId: "ami-1", rootBlockDevice: { encrypted: false } },
                    /^launch configuration "x" sets rootBlockDevice\.encrypted/,
                ],
                [
                    "aws:ebs/snapshotCopy:SnapshotCopy",
                    { sourceSnapshotId: "snap-1", sourceRegion: "us-west-2" },
                    /^EBS snapshot copy "x" leaves unset encrypted/,
                ],
            ] as const) {
                const v = await theViolation(ebsEncrypted, [resource(type, "x", inputs)]);
                assert.match(v.message, expected);
            }
        });

        it("reports a launch template whose block device is unencrypted, or that declares none", async () => {
            const v = await theViolation(ebsEncrypted, [
                resource(
                    TEMPLATE,
                    "pool-template",
                    changed(template.inputs, "blockDeviceMappings.0.ebs.encrypted", "false"),
                ),
            ]);
            assert.match(v.message, /^launch template "pool-template" sets blockDeviceMappings\[0\]\.ebs\.encrypted/);
            const none = await theViolation(ebsEncrypted, [resource(TEMPLATE, "bare", { instanceType: "m7i.large" })]);
            assert.match(none.message, /^launch template "bare" declares no root volume/);
        });

        it("passes an instance whose volumes its encrypting launch template declares, and reports one whose template does not", async () => {
            const fromTemplate = (t: typeof template) =>
                resource(INSTANCE, "box", { launchTemplate: { id: "lt-placeholder" } }, { dependencies: [t.urn] });
            assert.deepStrictEqual(await violationsOf(ebsEncrypted, [template, fromTemplate(template)]), []);
            const bare = resource(TEMPLATE, "pool-template", { instanceType: "m7i.large" });
            const violations = await violationsOf(ebsEncrypted, [bare, fromTemplate(bare)]);
            assert.deepStrictEqual(
                violations.map((v) => v.urn),
                [bare.urn, fromTemplate(bare).urn],
            );
        });

        it("reports an EKS node group without a launch template, and passes one with an encrypting template", async () => {
            const group = {
                clusterName: "c",
                nodeRoleArn: "arn:aws:iam::111122223333:role/n",
                subnetIds: ["s"],
                scalingConfig: { minSize: 0, maxSize: 1, desiredSize: 0 },
            };
            const v = await theViolation(ebsEncrypted, [resource("aws:eks/nodeGroup:NodeGroup", "cpu", group)]);
            assert.match(
                v.message,
                /^node group "cpu" has no launch template, so EKS creates its nodes' root volumes as the AMI has them, unencrypted/,
            );
            const withTemplate = resource(
                "aws:eks/nodeGroup:NodeGroup",
                "cpu",
                { ...group, launchTemplate: { id: "lt-1", version: "1" } },
                { dependencies: [template.urn] },
            );
            assert.deepStrictEqual(await violationsOf(ebsEncrypted, [template, withTemplate]), []);
        });

        it("passes unset volumes where the stack turns on EBS encryption by default for the same provider and region", async () => {
            const byDefault = resource(
                "aws:ebs/encryptionByDefault:EncryptionByDefault",
                "ebs-default",
                { enabled: true },
                onProvider,
            );
            const volume = resource(
                "aws:ebs/volume:Volume",
                "data",
                { availabilityZone: "us-east-1a", size: 10 },
                onProvider,
            );
            assert.deepStrictEqual(await violationsOf(ebsEncrypted, [awsProvider, byDefault, volume]), []);
            // The account default of another region covers nothing here.
            const elsewhere = resource(
                "aws:ebs/encryptionByDefault:EncryptionByDefault",
                "ebs-default",
                { enabled: true, region: "eu-west-1" },
                onProvider,
            );
            const v = await theViolation(ebsEncrypted, [awsProvider, elsewhere, volume]);
            assert.strictEqual(v.urn, volume.urn);
        });

        it("reports turning the account default off", async () => {
            const off = resource(
                "aws:ebs/encryptionByDefault:EncryptionByDefault",
                "ebs-default",
                { enabled: false },
                onProvider,
            );
            const v = await theViolation(ebsEncrypted, [awsProvider, off]);
            assert.strictEqual(
                v.message,
                'aws.ebs.EncryptionByDefault "ebs-default" turns off the account\'s EBS encryption by default in us-east-1, so every volume that does not ask for encryption is created unencrypted; set enabled: true.',
            );
        });
    });

    describe("efs-encrypted", () => {
        const fs = (encrypted?: boolean) =>
            resource("aws:efs/fileSystem:FileSystem", "shared", { encrypted, kmsKeyId: undefined });
        it("passes an encrypted file system", async () => {
            assert.deepStrictEqual(await violationsOf(efsEncrypted, [fs(true)]), []);
        });
        it("reports one left unset (the API's default is unencrypted) or false", async () => {
            const v = await theViolation(efsEncrypted, [fs()]);
            assert.match(
                v.message,
                /^EFS file system "shared" leaves encrypted unset, so AWS stores its files unencrypted; set encrypted: true/,
            );
            assert.match((await theViolation(efsEncrypted, [fs(false)])).message, /sets encrypted: false/);
        });
    });

    describe("sns-encrypted", () => {
        const topic = (kmsMasterKeyId?: string) =>
            resource(
                "aws:sns/topic:Topic",
                "alerts",
                { kmsMasterKeyId },
                { outputs: { arn: "arn:aws:sns:us-east-1:111122223333:alerts" } },
            );
        const alarm = resource("aws:cloudwatch/metricAlarm:MetricAlarm", "dlq-not-empty", {
            alarmActions: ["arn:aws:sns:us-east-1:111122223333:alerts"],
            comparisonOperator: "GreaterThanThreshold",
        });

        it("passes a topic with a key of its own, alarms or not, and one with the AWS managed key that no alarm uses", async () => {
            assert.deepStrictEqual(
                await violationsOf(snsEncrypted, [topic("arn:aws:kms:us-east-1:111122223333:key/1"), alarm]),
                [],
            );
            assert.deepStrictEqual(await violationsOf(snsEncrypted, [topic("alias/aws/sns")]), []);
        });

        it("reports a topic without a key", async () => {
            const v = await theViolation(snsEncrypted, [topic()]);
            assert.match(
                v.message,
                /^SNS topic "alerts" sets no kmsMasterKeyId, so AWS stores its messages unencrypted/,
            );
        });

        it("reports CloudWatch alarms publishing to a topic under alias/aws/sns, which CloudWatch cannot use", async () => {
            const v = await theViolation(snsEncrypted, [topic("alias/aws/sns"), alarm]);
            assert.match(
                v.message,
                /^SNS topic "alerts" is encrypted with the AWS managed key alias\/aws\/sns, which CloudWatch cannot use, so the notifications of alarm "dlq-not-empty" are dropped/,
            );
        });
    });

    describe("kms-key-rotation", () => {
        const key = (inputs: Record<string, unknown>) => resource("aws:kms/key:Key", "data-key", inputs);
        it("passes a rotating key, and keys AWS KMS cannot rotate (asymmetric, HMAC, custom key store)", async () => {
            for (const inputs of [
                { enableKeyRotation: true },
                { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" },
                { customerMasterKeySpec: "HMAC_256", keyUsage: "GENERATE_VERIFY_MAC" },
                { customKeyStoreId: "cks-1234567890abcdef0" },
            ])
                assert.deepStrictEqual(await violationsOf(kmsKeyRotation, [key(inputs)]), [], JSON.stringify(inputs));
        });
        it("reports a symmetric key that does not rotate, unset (the default is false) or false", async () => {
            const v = await theViolation(kmsKeyRotation, [key({ description: "data" })]);
            assert.strictEqual(
                v.message,
                'KMS key "data-key" does not rotate its key material (enableKeyRotation unset, which is false); set enableKeyRotation: true (yearly, or rotationPeriodInDays).',
            );
            assert.match(
                (await theViolation(kmsKeyRotation, [key({ enableKeyRotation: false })])).message,
                /enableKeyRotation false/,
            );
        });
    });

    describe("log-group-retention", () => {
        const group = (retentionInDays?: number, name?: string) =>
            resource("aws:cloudwatch/logGroup:LogGroup", "app-logs", { retentionInDays, name });

        it("passes a log group that expires its events", async () => {
            assert.deepStrictEqual(await violationsOf(logGroupRetention, [group(30)]), []);
        });

        it("reports one kept forever, unset or 0, and one shorter than the stack asks", async () => {
            for (const days of [undefined, 0])
                assert.match(
                    (await theViolation(logGroupRetention, [group(days)])).message,
                    /^log group "app-logs" keeps its events forever/,
                );
            const v = await theViolation(logGroupRetention, [group(30)], { minRetentionDays: 365 });
            assert.match(v.message, /keeps its events 30 days, fewer than this stack's 365/);
        });

        it("reports a Lambda function whose log group AWS would create, kept forever, and passes it once the stack creates it", async () => {
            const fn = resource("aws:lambda/function:Function", "handler", {
                name: "handler",
                role: "arn:aws:iam::111122223333:role/r",
            });
            const v = await theViolation(logGroupRetention, [fn]);
            assert.match(
                v.message,
                /^Function "handler" writes to log group \/aws\/lambda\/handler, which the stack does not create, so AWS creates it and keeps its events forever/,
            );
            assert.deepStrictEqual(await violationsOf(logGroupRetention, [fn, group(30, "/aws/lambda/handler")]), []);
        });

        it("does the same for CodeBuild projects and EKS clusters with control-plane logs", async () => {
            const project = resource("aws:codebuild/project:Project", "build", { name: "build" });
            assert.match((await theViolation(logGroupRetention, [project])).message, /\/aws\/codebuild\/build/);
            const cluster = resource("aws:eks/cluster:Cluster", "c", {
                name: "gpu",
                enabledClusterLogTypes: ["api", "audit"],
            });
            assert.match((await theViolation(logGroupRetention, [cluster])).message, /\/aws\/eks\/gpu\/cluster/);
            assert.deepStrictEqual(
                await violationsOf(logGroupRetention, [cluster, group(90, "/aws/eks/gpu/cluster")]),
                [],
            );
        });
    });

    describe("rds-storage-encrypted on copies (restores, replicas)", () => {
        const INSTANCE_DB = "aws:rds/instance:Instance";
        const source = resource(INSTANCE_DB, "source-db", { identifier: "source-db", storageEncrypted: true });
        const plainSource = resource(INSTANCE_DB, "source-db", { identifier: "source-db", storageEncrypted: false });

        it("reports a restore from a snapshot that sets storageEncrypted: false", async () => {
            const v = await theViolation(rdsStorageEncrypted, [
                resource(INSTANCE_DB, "restored", { snapshotIdentifier: "snap-outside", storageEncrypted: false }),
            ]);
            assert.match(
                v.message,
                /^RDS instance "restored" sets storageEncrypted: false for a copy of snapshotIdentifier, so AWS creates it unencrypted/,
            );
        });

        it("reports a restore from a snapshot outside the stack that does not declare encryption", async () => {
            const v = await theViolation(rdsStorageEncrypted, [
                resource(INSTANCE_DB, "restored", { snapshotIdentifier: "snap-outside" }),
            ]);
            assert.match(
                v.message,
                /copies a source outside the stack \(snapshotIdentifier\) whose encryption cannot be seen/,
            );
        });

        it("follows a snapshot of the stack to its database", async () => {
            const snapshot = resource("aws:rds/snapshot:Snapshot", "snap", {
                dbInstanceIdentifier: "source-db",
                dbSnapshotIdentifier: "snap-1",
            });
            const restored = resource(INSTANCE_DB, "restored", { snapshotIdentifier: "snap-1" });
            assert.deepStrictEqual(await violationsOf(rdsStorageEncrypted, [source, snapshot, restored]), []);
            const violations = await violationsOf(rdsStorageEncrypted, [plainSource, snapshot, restored]);
            assert.deepStrictEqual(
                violations.map((v) => v.urn),
                [plainSource.urn, restored.urn],
            );
            assert.match(
                violations[1].message,
                /^RDS instance "restored" copies an unencrypted source \(snapshotIdentifier\)/,
            );
        });

        it("passes an Aurora restore given a kmsKeyId, and a copy of an unencrypted snapshot encrypted with a key", async () => {
            const aurora = resource("aws:rds/cluster:Cluster", "aurora", {
                snapshotIdentifier: "snap-outside",
                kmsKeyId: "arn:aws:kms:us-east-1:111122223333:key/1",
            });
            assert.deepStrictEqual(await violationsOf(rdsStorageEncrypted, [aurora]), []);
            const copy = resource("aws:rds/snapshotCopy:SnapshotCopy", "copy", {
                sourceDbSnapshotIdentifier: "snap-outside",
                targetDbSnapshotIdentifier: "snap-enc",
                kmsKeyId: "arn:aws:kms:us-east-1:111122223333:key/1",
            });
            assert.deepStrictEqual(
                await violationsOf(rdsStorageEncrypted, [
                    copy,
                    resource(INSTANCE_DB, "restored", { snapshotIdentifier: "snap-enc" }),
                ]),
                [],
            );
        });

        it("reports a replica of an unencrypted database of the stack", async () => {
            const replica = resource(INSTANCE_DB, "replica", { replicateSourceDb: "source-db" });
            const violations = await violationsOf(rdsStorageEncrypted, [plainSource, replica]);
            assert.ok(
                violations.some(
                    (v) =>
                        v.urn === replica.urn && /copies an unencrypted source \(replicateSourceDb\)/.test(v.message),
                ),
                JSON.stringify(violations),
            );
        });
    });
});
