/**
 * Encryption at rest, judged on the setting AWS will apply rather than the field a check
 * expects:
 * - EBS: a volume is encrypted when it says so, when the launch template an instance or node
 *   group uses encrypts it, or when the stack turns on the account's EBS encryption by default
 *   for the same provider and region ("After you enable encryption by default, the EBS volumes
 *   that you create are always encrypted", EC2 API Reference, EnableEbsEncryptionByDefault). A
 *   volume left unset otherwise takes its AMI's or snapshot's state, which is unencrypted unless
 *   known otherwise; turning the account default off is itself a violation.
 * - EFS file systems set `encrypted` (the API's default is off); SNS topics name a KMS key,
 *   a customer managed one when CloudWatch alarms of the stack publish to them (the AWS managed
 *   key's policy cannot grant CloudWatch its use: SNS Developer Guide, "Enable compatibility
 *   between event sources from AWS services and encrypted topics").
 * - KMS keys that can rotate (symmetric, in AWS KMS's own key store) rotate.
 * - Log groups expire their events, including the ones Lambda, CodeBuild and EKS would create
 *   on their own (kept forever) when the stack does not create them first.
 */
import { StackResource, resourcePolicy, stackPolicy } from "./lib/define";
import { referencedBy, referencedThrough } from "./lib/references";
import { Props, asList, asNumber, asRecord, asString, isSet, isUnknown, listing } from "./lib/values";

const VOLUME = "aws:ebs/volume:Volume";
const INSTANCE = "aws:ec2/instance:Instance";
const SPOT_INSTANCE_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const SNAPSHOT_COPY = "aws:ebs/snapshotCopy:SnapshotCopy";
const ENCRYPTION_BY_DEFAULT = "aws:ebs/encryptionByDefault:EncryptionByDefault";

/** One EBS volume a resource creates, and where its setting lives. */
interface VolumeSetting {
    /** `rootBlockDevice`, `ebsBlockDevices[1]`, `blockDeviceMappings[0].ebs` */
    readonly at: string;
    readonly encrypted: unknown;
}

const isOn = (value: unknown) => value === true || value === "true" || isUnknown(value);
const isOff = (value: unknown) => value === false || value === "false";

/** The EBS volumes a resource declares; `missingRoot` when it launches instances without saying anything of the root volume. */
function volumesOf(r: StackResource): { volumes: VolumeSetting[]; missingRoot: boolean } {
    const p = r.props;
    const listed = (key: string, encryptedOf: (d: Props) => unknown = (d) => d.encrypted) =>
        asList(p[key]).flatMap((d, i) => {
            const device = asRecord(d) ?? {};
            return device.noDevice === true || isSet(device.virtualName)
                ? []
                : [{ at: `${key}[${i}]`, encrypted: encryptedOf(device) }];
        });
    switch (r.type) {
        case VOLUME:
        case SNAPSHOT_COPY:
            return { volumes: [{ at: "", encrypted: p.encrypted }], missingRoot: false };
        case INSTANCE:
        case SPOT_INSTANCE_REQUEST:
        case LAUNCH_CONFIGURATION: {
            const root = asRecord(p.rootBlockDevice);
            const volumes = [
                ...(root ? [{ at: "rootBlockDevice", encrypted: root.encrypted }] : []),
                ...listed("ebsBlockDevices"),
            ];
            return { volumes, missingRoot: !root };
        }
        case LAUNCH_TEMPLATE: {
            const mappings = asList(p.blockDeviceMappings).flatMap((m, i) => {
                const ebs = asRecord(asRecord(m)?.ebs);
                return ebs ? [{ at: `blockDeviceMappings[${i}].ebs`, encrypted: ebs.encrypted }] : [];
            });
            return { volumes: mappings, missingRoot: mappings.length === 0 };
        }
        default:
            return { volumes: [], missingRoot: false };
    }
}

/** The launch template an instance, spot request or node group names, when the stack creates it. */
function templateOf(r: StackResource, templates: readonly StackResource[]): StackResource | undefined {
    const spec = asRecord(r.props.launchTemplate);
    if (!spec) return undefined;
    const names = [spec.id, spec.name];
    return referencedThrough(r, "launchTemplate", names, templates, ["id", "name"])[0];
}

/** Whether every volume a launch template declares is encrypted (and it declares one). */
function templateEncrypts(template: StackResource): boolean {
    const { volumes, missingRoot } = volumesOf(template);
    return !missingRoot && volumes.every((v) => isOn(v.encrypted));
}

const regionOf = (r: StackResource) => asString(r.props.region) ?? asString(r.providerProps?.region) ?? "";

export const ebsEncrypted = stackPolicy({
    name: "ebs-encrypted",
    description:
        "Every EBS volume the stack creates is encrypted at rest, as AWS will create it: aws.ebs.Volume and SnapshotCopy (encrypted), instances and " +
        "spot requests (rootBlockDevice and ebsBlockDevices, or the launch template they use), launch templates (blockDeviceMappings[].ebs.encrypted, a " +
        "root mapping included), launch configurations, and EKS node groups (through their launch template; without one EKS leaves the root volume " +
        "to the AMI). A volume left unset counts as encrypted only where the stack turns on aws.ebs.EncryptionByDefault for the same provider and " +
        "region; an EncryptionByDefault with enabled false is itself a violation.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources, _config, report) => {
        const defaults = resources.filter((r) => r.type === ENCRYPTION_BY_DEFAULT);
        for (const off of defaults.filter((d) => isOff(d.props.enabled)))
            report(
                `aws.ebs.EncryptionByDefault "${off.name}" turns off the account's EBS encryption by default in ${regionOf(off) || "its region"}, so every volume that does not ask for encryption is created unencrypted; set enabled: true.`,
                off.urn,
            );
        const byDefault = (r: StackResource) =>
            defaults.some((d) => !isOff(d.props.enabled) && d.provider === r.provider && regionOf(d) === regionOf(r));
        const templates = resources.filter((r) => r.type === LAUNCH_TEMPLATE);
        const fix =
            "set encrypted: true (with a kmsKeyId for a key of the stack's own), or turn on the account default with aws.ebs.EncryptionByDefault { enabled: true }";
        for (const r of resources) {
            if (byDefault(r)) continue;
            const template = templateOf(r, templates);
            if (r.type === NODE_GROUP) {
                if (!template && !isUnknown(r.props.launchTemplate))
                    report(
                        `node group "${r.name}" has no launch template, so EKS creates its nodes' root volumes as the AMI has them, unencrypted; ` +
                            'give it a launch template whose blockDeviceMappings set ebs.encrypted: "true", or turn on aws.ebs.EncryptionByDefault.',
                        r.urn,
                    );
                continue;
            }
            const { volumes, missingRoot } = volumesOf(r);
            const fromTemplate = template !== undefined && templateEncrypts(template);
            const what = `${describeKind(r.type)} "${r.name}"`;
            if (missingRoot && !fromTemplate)
                report(
                    `${what} declares no root volume, so its instances get the AMI's, unencrypted unless the snapshot is; ` +
                        `declare it (${r.type === LAUNCH_TEMPLATE ? 'blockDeviceMappings[].ebs with encrypted: "true"' : "rootBlockDevice with encrypted: true"}) or turn on aws.ebs.EncryptionByDefault.`,
                    r.urn,
                );
            const plain = volumes.filter((v) => !isOn(v.encrypted) && !(fromTemplate && !isOff(v.encrypted)));
            if (plain.length === 0) continue;
            const where = plain.map((v) => (v.at ? `${v.at}.encrypted` : "encrypted"));
            const found = plain.some((v) => isOff(v.encrypted)) ? "sets" : "leaves unset";
            report(
                `${what} ${found} ${listing(where)}, so AWS creates ${plain.length === 1 ? "that volume" : "those volumes"} unencrypted; ${fix}.`,
                r.urn,
            );
        }
    },
});

function describeKind(type: string): string {
    return (
        {
            [VOLUME]: "EBS volume",
            [SNAPSHOT_COPY]: "EBS snapshot copy",
            [INSTANCE]: "instance",
            [SPOT_INSTANCE_REQUEST]: "spot instance request",
            [LAUNCH_TEMPLATE]: "launch template",
            [LAUNCH_CONFIGURATION]: "launch configuration",
        }[type] ?? type
    );
}

export const efsEncrypted = resourcePolicy({
    name: "efs-encrypted",
    description:
        "EFS file systems encrypt their data at rest: encrypted true (the API's default is false), with a kmsKeyId for a key of the stack's own.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: ["aws:efs/fileSystem:FileSystem"],
    validate: ({ name, props }, _config, report) => {
        if (isOn(props.encrypted)) return;
        report(
            `EFS file system "${name}" ${isOff(props.encrypted) ? "sets encrypted: false" : "leaves encrypted unset"}, so AWS stores its files unencrypted; ` +
                "set encrypted: true (and a kmsKeyId); encryption cannot be turned on later without copying the data to a new file system.",
        );
    },
});

const TOPIC = "aws:sns/topic:Topic";
const METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm";
const AWS_MANAGED_SNS_KEY = /^(alias\/aws\/sns|arn:[^:]+:kms:[^:]*:[^:]*:alias\/aws\/sns)$/;

export const snsEncrypted = stackPolicy({
    name: "sns-encrypted",
    description:
        "SNS topics encrypt messages at rest with a KMS key (kmsMasterKeyId); a topic that CloudWatch alarms of the stack publish to uses a customer " +
        "managed key, since the AWS managed key (alias/aws/sns) cannot be shared with CloudWatch and the alarms' notifications would be dropped.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources, _config, report) => {
        const alarms = resources.filter((r) => r.type === METRIC_ALARM || r.type === COMPOSITE_ALARM);
        for (const topic of resources.filter((r) => r.type === TOPIC)) {
            const key = topic.props.kmsMasterKeyId;
            if (!isSet(key)) {
                report(
                    `SNS topic "${topic.name}" sets no kmsMasterKeyId, so AWS stores its messages unencrypted; set kmsMasterKeyId to a KMS key (alias/aws/sns, or a key of the stack's own).`,
                    topic.urn,
                );
                continue;
            }
            if (!AWS_MANAGED_SNS_KEY.test(asString(key)?.trim() ?? "")) continue;
            const publishing = alarms.filter((a) =>
                ["alarmActions", "okActions", "insufficientDataActions"].some(
                    (s) => referencedBy(a, s, [topic]).length > 0 && asList(a.props[s]).length > 0,
                ),
            );
            if (publishing.length === 0) continue;
            report(
                `SNS topic "${topic.name}" is encrypted with the AWS managed key alias/aws/sns, which CloudWatch cannot use, so the notifications of ` +
                    `${listing(publishing.map((a) => `alarm "${a.name}"`))} are dropped; set kmsMasterKeyId to a customer managed key whose policy lets ` +
                    "cloudwatch.amazonaws.com call kms:Decrypt and kms:GenerateDataKey* (conditioned on aws:SourceAccount).",
                topic.urn,
            );
        }
    },
});

export const kmsKeyRotation = resourcePolicy({
    name: "kms-key-rotation",
    description:
        "KMS keys that AWS KMS can rotate (symmetric encryption keys in its own key store) rotate their key material: enableKeyRotation true. " +
        "Asymmetric and HMAC keys, keys in a custom key store and keys with imported material (aws.kms.ExternalKey) cannot, and are not asked.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: ["aws:kms/key:Key"],
    validate: ({ name, props }, _config, report) => {
        const spec = props.customerMasterKeySpec ?? "SYMMETRIC_DEFAULT";
        const usage = props.keyUsage ?? "ENCRYPT_DECRYPT";
        if (spec !== "SYMMETRIC_DEFAULT" || usage !== "ENCRYPT_DECRYPT" || isSet(props.customKeyStoreId)) return;
        if (isOn(props.enableKeyRotation)) return;
        report(
            `KMS key "${name}" does not rotate its key material (enableKeyRotation ${isOff(props.enableKeyRotation) ? "false" : "unset, which is false"}); ` +
                "set enableKeyRotation: true (yearly, or rotationPeriodInDays).",
        );
    },
});

const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";

export const logGroupRetention = stackPolicy({
    name: "log-group-retention",
    description:
        "Log groups expire their events: retentionInDays set and not 0 (0 or unset keeps them forever, paid for every month), at least minRetentionDays. " +
        "Lambda functions, CodeBuild projects and EKS clusters with control-plane logs write to log groups they create themselves, kept forever, " +
        "unless the stack creates that group first (/aws/lambda/<function>, the project's logsConfig group or /aws/codebuild/<project>, /aws/eks/<cluster>/cluster).",
    enforcementLevel: "mandatory",
    config: {
        minRetentionDays: {
            type: "integer",
            minimum: 1,
            description: "Fewest days a log group keeps its events (audit needs).",
            default: 1,
        },
    },
    validate: (resources, { minRetentionDays }, report) => {
        const groups = resources.filter((r) => r.type === LOG_GROUP);
        for (const group of groups) {
            const days = group.props.retentionInDays;
            if (isUnknown(days) || group.props.logGroupClass === "DELIVERY") continue;
            const n = asNumber(days) ?? 0;
            if (n >= minRetentionDays) continue;
            report(
                n === 0
                    ? `log group "${group.name}" keeps its events forever (retentionInDays ${days === undefined ? "unset" : "0"}); set retentionInDays (30, 90, 365, ...).`
                    : `log group "${group.name}" keeps its events ${n} days, fewer than this stack's ${minRetentionDays}; set retentionInDays to ${minRetentionDays} or more.`,
                group.urn,
            );
        }
        for (const { owner, groupName } of implicitLogGroups(resources)) {
            const created = groups.some(
                (g) => g.props.name === groupName || referencedBy(g, "name", [owner]).includes(owner),
            );
            if (created || groupName === undefined) continue;
            report(
                `${owner.type.split(":").pop()} "${owner.name}" writes to log group ${groupName}, which the stack does not create, so AWS creates it and keeps its events forever; ` +
                    `create an aws.cloudwatch.LogGroup named ${groupName} with retentionInDays (before the resource, with dependsOn).`,
                owner.urn,
            );
        }
    },
});

/** The log groups Lambda, CodeBuild and EKS create on their own, by the names their documentation gives. */
function implicitLogGroups(resources: readonly StackResource[]): { owner: StackResource; groupName?: string }[] {
    const found: { owner: StackResource; groupName?: string }[] = [];
    for (const r of resources) {
        const name = asString(r.props.name);
        if (r.type === "aws:lambda/function:Function") {
            const configured = asString(asRecord(r.props.loggingConfig)?.logGroup);
            found.push({ owner: r, groupName: configured ?? (name ? `/aws/lambda/${name}` : undefined) });
        } else if (r.type === "aws:codebuild/project:Project") {
            const logs = asRecord(asRecord(r.props.logsConfig)?.cloudwatchLogs);
            if (logs?.status === "DISABLED") continue;
            found.push({
                owner: r,
                groupName: asString(logs?.groupName) ?? (name ? `/aws/codebuild/${name}` : undefined),
            });
        } else if (r.type === "aws:eks/cluster:Cluster" && asList(r.props.enabledClusterLogTypes).length > 0) {
            found.push({ owner: r, groupName: name ? `/aws/eks/${name}/cluster` : undefined });
        }
    }
    return found.filter((f) => !isUnknown(f.groupName));
}
