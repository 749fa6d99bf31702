/**
 * RDS baseline: databases are encrypted at rest, have no public address, keep automated backups
 * long enough to notice a mistake, and, where the stack's config asks (prod), refuse deletion
 * and keep a standby in a second zone.
 *
 * DB instances (`aws.rds.Instance`) and Aurora clusters (`aws.rds.Cluster`, with public access
 * on their `aws.rds.ClusterInstance`s) are checked; Aurora keeps its storage in three zones
 * whatever the instance count, so Multi-AZ is asked of instances only.
 */
import { StackResource, resourcePolicy, stackPolicy } from "./lib/define";
import { referencedThrough } from "./lib/references";
import { asNumber, asRecord, isSet, isTrue, isUnknown } from "./lib/values";

const INSTANCE = "aws:rds/instance:Instance";
const CLUSTER = "aws:rds/cluster:Cluster";
const CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance";
const what = (type: string, name: string) =>
    `${type === CLUSTER ? "RDS cluster" : type === CLUSTER_INSTANCE ? "RDS cluster instance" : "RDS instance"} "${name}"`;

const SNAPSHOT = "aws:rds/snapshot:Snapshot";
const SNAPSHOT_COPY = "aws:rds/snapshotCopy:SnapshotCopy";
const CLUSTER_SNAPSHOT = "aws:rds/clusterSnapshot:ClusterSnapshot";

/** Where a database that copies another takes its data from, and the setting that names it. */
function sourceOf(props: Record<string, unknown>): { setting: string; value: unknown } | undefined {
    if (isSet(props.replicateSourceDb)) return { setting: "replicateSourceDb", value: props.replicateSourceDb };
    if (isSet(props.snapshotIdentifier)) return { setting: "snapshotIdentifier", value: props.snapshotIdentifier };
    const pointInTime = asRecord(props.restoreToPointInTime);
    if (pointInTime) {
        const source = pointInTime.sourceDbInstanceIdentifier ?? pointInTime.sourceClusterIdentifier;
        return { setting: "restoreToPointInTime", value: source };
    }
    return undefined;
}

/**
 * Whether AWS will encrypt it: its own storageEncrypted, or for a copy (replica, snapshot
 * restore, point-in-time restore) its source's encryption, which RDS carries over ("You can't
 * restore an unencrypted snapshot to an encrypted DB instance", RDS User Guide, "Limitations of
 * Amazon RDS encrypted DB instances"); an Aurora restore given a kmsKeyId is encrypted whatever
 * its snapshot (RestoreDBClusterFromSnapshot). Undefined when the source is outside the stack.
 */
function encryptedAsCreated(
    db: StackResource,
    all: readonly StackResource[],
    seen = new Set<string>(),
): boolean | undefined {
    const p = db.props;
    if (isTrue(p.storageEncrypted) || isUnknown(p.storageEncrypted)) return true;
    if (p.storageEncrypted === false || p.storageEncrypted === "false") return false;
    const source = sourceOf(p);
    if (!source) return db.type === SNAPSHOT_COPY ? undefined : false;
    if (db.type === CLUSTER && isSet(p.kmsKeyId) && source.setting === "snapshotIdentifier") return true;
    if (db.type === SNAPSHOT_COPY && isSet(p.kmsKeyId)) return true;
    if (seen.has(db.urn)) return undefined;
    seen.add(db.urn);
    const candidates = all.filter((r) =>
        [INSTANCE, CLUSTER, SNAPSHOT, SNAPSHOT_COPY, CLUSTER_SNAPSHOT].includes(r.type),
    );
    const origin = referencedThrough(db, source.setting, [source.value], candidates, [
        "id",
        "arn",
        "identifier",
        "clusterIdentifier",
        "dbSnapshotIdentifier",
        "dbClusterSnapshotIdentifier",
        "targetDbSnapshotIdentifier",
    ])[0];
    if (!origin) return undefined;
    if (origin.type === SNAPSHOT || origin.type === CLUSTER_SNAPSHOT) {
        const of = origin.type === SNAPSHOT ? "dbInstanceIdentifier" : "dbClusterIdentifier";
        const database = referencedThrough(origin, of, [origin.props[of]], candidates, [
            "id",
            "identifier",
            "clusterIdentifier",
        ])[0];
        return database ? encryptedAsCreated(database, all, seen) : undefined;
    }
    if (origin.type === SNAPSHOT_COPY) {
        const copied = {
            ...origin,
            props: { ...origin.props, snapshotIdentifier: origin.props.sourceDbSnapshotIdentifier },
        };
        return encryptedAsCreated(copied, all, seen);
    }
    return encryptedAsCreated(origin, all, seen);
}

export const rdsStorageEncrypted = stackPolicy({
    name: "rds-storage-encrypted",
    description:
        "RDS instances and Aurora clusters encrypt their storage, snapshots and backups, as AWS will create them: storageEncrypted true (with a kmsKeyId " +
        "for a key of the stack's own); a read replica, snapshot restore or point-in-time restore takes its source's encryption, so it passes when its " +
        "source (an instance, snapshot or encrypted snapshot copy of the stack) is encrypted or it declares storageEncrypted: true, and is reported " +
        "when it sets storageEncrypted: false or copies an unencrypted source.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources, _config, report) => {
        for (const db of resources.filter((r) => r.type === INSTANCE || r.type === CLUSTER)) {
            const encrypted = encryptedAsCreated(db, resources);
            const source = sourceOf(db.props);
            if (encrypted === true || (encrypted === undefined && source?.setting === "replicateSourceDb")) continue;
            if (!source) {
                report(
                    `${what(db.type, db.name)} leaves its storage unencrypted; set storageEncrypted: true and a kmsKeyId (encryption cannot be turned on later without a restore).`,
                    db.urn,
                );
                continue;
            }
            const state =
                encrypted === false && db.props.storageEncrypted !== false && db.props.storageEncrypted !== "false"
                    ? `copies an unencrypted source (${source.setting})`
                    : encrypted === false
                      ? `sets storageEncrypted: false for a copy of ${source.setting}`
                      : `copies a source outside the stack (${source.setting}) whose encryption cannot be seen`;
            report(
                `${what(db.type, db.name)} ${state}, so AWS creates it ${encrypted === false ? "unencrypted" : "encrypted only if that source is"}; ` +
                    "restore from an encrypted copy (aws.rds.SnapshotCopy with a kmsKeyId; Aurora: a kmsKeyId on the cluster) and set storageEncrypted: true.",
                db.urn,
            );
        }
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
