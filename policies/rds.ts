/**
 * RDS baseline: databases are encrypted at rest, have no public address, keep automated backups
 * long enough to notice a mistake, and, where the stack's config asks (prod), refuse deletion
 * and keep a standby in a second zone.
 *
 * DB instances (`aws.rds.Instance`) and Aurora clusters (`aws.rds.Cluster`, with public access
 * on their `aws.rds.ClusterInstance`s) are checked; Aurora keeps its storage in three zones
 * whatever the instance count, so Multi-AZ is asked of instances only.
 */
import { resourcePolicy } from "./lib/define";
import { asNumber, isTrue, isUnknown } from "./lib/values";

const INSTANCE = "aws:rds/instance:Instance";
const CLUSTER = "aws:rds/cluster:Cluster";
const CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance";
const what = (type: string, name: string) =>
    `${type === CLUSTER ? "RDS cluster" : type === CLUSTER_INSTANCE ? "RDS cluster instance" : "RDS instance"} "${name}"`;

/** A read replica or a restore takes its encryption from its source: it is not asked for. */
const copiesItsSource = (props: Record<string, unknown>) =>
    props.replicateSourceDb !== undefined || props.snapshotIdentifier !== undefined;

export const rdsStorageEncrypted = resourcePolicy({
    name: "rds-storage-encrypted",
    description:
        "RDS instances and Aurora clusters encrypt their storage, snapshots and backups: storageEncrypted true (with a kmsKeyId for a key of the stack's own).",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [INSTANCE, CLUSTER],
    validate: ({ type, name, props }, _config, report) => {
        if (isTrue(props.storageEncrypted) || isUnknown(props.storageEncrypted) || copiesItsSource(props)) return;
        report(
            `${what(type, name)} leaves its storage unencrypted; set storageEncrypted: true and a kmsKeyId (encryption cannot be turned on later without a restore).`,
        );
    },
});

export const rdsNotPublic = resourcePolicy({
    name: "rds-not-public",
    description:
        "RDS instances and Aurora cluster instances have no public address: publiclyAccessible false or unset; clients reach them inside the VPC.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [INSTANCE, CLUSTER_INSTANCE],
    validate: ({ type, name, props }, _config, report) => {
        if (isUnknown(props.publiclyAccessible) || !isTrue(props.publiclyAccessible)) return;
        report(
            `${what(type, name)} is publicly accessible; set publiclyAccessible: false and reach it from inside the VPC.`,
        );
    },
});

export const rdsBackups = resourcePolicy({
    name: "rds-backups",
    description:
        "RDS instances and Aurora clusters keep automated backups at least minBackupRetentionDays days (backupRetentionPeriod; 0 turns backups off).",
    enforcementLevel: "mandatory",
    config: {
        minBackupRetentionDays: {
            type: "integer",
            minimum: 1,
            maximum: 35,
            description: "Fewest days automated backups are kept.",
            default: 7,
        },
    },
    resourceTypes: [INSTANCE, CLUSTER],
    validate: ({ type, name, props }, { minBackupRetentionDays }, report) => {
        if (isUnknown(props.backupRetentionPeriod) || props.replicateSourceDb !== undefined) return;
        // Unset, RDS keeps one day (the API's default for instances and clusters).
        const days = asNumber(props.backupRetentionPeriod) ?? 1;
        if (days >= minBackupRetentionDays) return;
        report(
            `${what(type, name)} keeps automated backups ${days} day${days === 1 ? "" : "s"}; set backupRetentionPeriod to ${minBackupRetentionDays} or more.`,
        );
    },
});

export const rdsProtected = resourcePolicy({
    name: "rds-protected",
    description:
        "Where the stack asks (prod): RDS instances and Aurora clusters refuse deletion (deletionProtection true) and keep a final snapshot when deleted anyway " +
        "(skipFinalSnapshot false), and instances keep a standby in a second zone (multiAz true).",
    enforcementLevel: "mandatory",
    config: {
        requireDeletionProtection: {
            type: "boolean",
            description: "Require deletion protection and a final snapshot.",
            default: true,
        },
        requireMultiAz: { type: "boolean", description: "Require a Multi-AZ standby (DB instances).", default: true },
    },
    resourceTypes: [INSTANCE, CLUSTER],
    validate: ({ type, name, props }, { requireDeletionProtection, requireMultiAz }, report) => {
        const missing: string[] = [];
        if (requireDeletionProtection) {
            if (!isTrue(props.deletionProtection) && !isUnknown(props.deletionProtection))
                missing.push("deletionProtection: true");
            // The provider skips the final snapshot unless told not to.
            if (
                props.skipFinalSnapshot !== false &&
                props.skipFinalSnapshot !== "false" &&
                !isUnknown(props.skipFinalSnapshot)
            ) {
                missing.push("skipFinalSnapshot: false with a finalSnapshotIdentifier");
            }
        }
        if (requireMultiAz && type === INSTANCE && !isTrue(props.multiAz) && !isUnknown(props.multiAz))
            missing.push("multiAz: true");
        if (missing.length === 0) return;
        report(`${what(type, name)} is not protected as this stack requires; set ${missing.join(", ")}.`);
    },
});
