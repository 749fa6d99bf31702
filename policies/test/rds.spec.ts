import * as assert from "assert";
import { rdsBackups, rdsNotPublic, rdsProtected, rdsStorageEncrypted } from "../rds";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const INSTANCE = "aws:rds/instance:Instance";
const CLUSTER = "aws:rds/cluster:Cluster";
/** A production-grade PostgreSQL instance: every policy passes it. */
const db = {
    engine: "postgres",
    instanceClass: "db.t4g.small",
    storageEncrypted: true,
    kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/1234",
    publiclyAccessible: false,
    backupRetentionPeriod: 14,
    deletionProtection: true,
    skipFinalSnapshot: false,
    finalSnapshotIdentifier: "tracker-final",
    multiAz: true,
};
const prodProtection = { requireDeletionProtection: true, requireMultiAz: true };

describe("policies: rds", () => {
    it("pass a production-grade instance", async () => {
        for (const policy of [rdsStorageEncrypted, rdsNotPublic, rdsBackups, rdsProtected]) {
            assert.deepStrictEqual(
                await violationsOf(
                    policy,
                    [resource(INSTANCE, "tracker-db", db)],
                    policy === rdsBackups ? { minBackupRetentionDays: 14 } : {},
                ),
                [],
                policy.name,
            );
        }
    });

    describe("rds-storage-encrypted", () => {
        it("reports an instance with unencrypted storage, unset or false", async () => {
            for (const value of [undefined, false]) {
                const v = await theViolation(rdsStorageEncrypted, [
                    resource(INSTANCE, "tracker-db", changed(db, "storageEncrypted", value)),
                ]);
                assert.strictEqual(
                    v.message,
                    'RDS instance "tracker-db" leaves its storage unencrypted; set storageEncrypted: true and a kmsKeyId (encryption cannot be turned on later without a restore).',
                );
            }
        });

        it("checks Aurora clusters too, and passes a read replica, which takes its source's encryption", async () => {
            const v = await theViolation(rdsStorageEncrypted, [
                resource(CLUSTER, "aurora", { engine: "aurora-postgresql" }),
            ]);
            assert.match(v.message, /^RDS cluster "aurora" leaves its storage unencrypted/);
            assert.deepStrictEqual(
                await violationsOf(rdsStorageEncrypted, [
                    resource(INSTANCE, "replica", { replicateSourceDb: "tracker-db" }),
                ]),
                [],
            );
        });
    });

    describe("rds-not-public", () => {
        it("reports a publicly accessible instance", async () => {
            const v = await theViolation(rdsNotPublic, [
                resource(INSTANCE, "tracker-db", changed(db, "publiclyAccessible", true)),
            ]);
            assert.strictEqual(
                v.message,
                'RDS instance "tracker-db" is publicly accessible; set publiclyAccessible: false and reach it from inside the VPC.',
            );
        });
    });

    describe("rds-backups", () => {
        it("reports backups kept fewer days than the stack asks, and unset backups as RDS's one day", async () => {
            const short = await theViolation(
                rdsBackups,
                [resource(INSTANCE, "tracker-db", changed(db, "backupRetentionPeriod", 7))],
                { minBackupRetentionDays: 14 },
            );
            assert.strictEqual(
                short.message,
                'RDS instance "tracker-db" keeps automated backups 7 days; set backupRetentionPeriod to 14 or more.',
            );
            const unset = await theViolation(rdsBackups, [
                resource(INSTANCE, "tracker-db", changed(db, "backupRetentionPeriod", undefined)),
            ]);
            assert.strictEqual(
                unset.message,
                'RDS instance "tracker-db" keeps automated backups 1 day; set backupRetentionPeriod to 7 or more.',
            );
        });
    });

    describe("rds-protected", () => {
        it("reports an instance without deletion protection, naming every missing setting", async () => {
            const v = await theViolation(
                rdsProtected,
                [resource(INSTANCE, "tracker-db", changed(db, "deletionProtection", false))],
                prodProtection,
            );
            assert.strictEqual(
                v.message,
                'RDS instance "tracker-db" is not protected as this stack requires; set deletionProtection: true.',
            );
        });

        it("reports an instance that would skip its final snapshot (the provider's default)", async () => {
            const v = await theViolation(
                rdsProtected,
                [resource(INSTANCE, "tracker-db", changed(db, "skipFinalSnapshot", undefined))],
                prodProtection,
            );
            assert.strictEqual(
                v.message,
                'RDS instance "tracker-db" is not protected as this stack requires; set skipFinalSnapshot: false with a finalSnapshotIdentifier.',
            );
        });

        it("reports a single-zone instance", async () => {
            const v = await theViolation(
                rdsProtected,
                [resource(INSTANCE, "tracker-db", changed(db, "multiAz", false))],
                prodProtection,
            );
            assert.strictEqual(
                v.message,
                'RDS instance "tracker-db" is not protected as this stack requires; set multiAz: true.',
            );
        });

        it("asks nothing of a stack that does not require it (dev)", async () => {
            const devDb = { ...db, deletionProtection: false, skipFinalSnapshot: true, multiAz: false };
            assert.deepStrictEqual(
                await violationsOf(rdsProtected, [resource(INSTANCE, "tracker-db", devDb)], {
                    requireDeletionProtection: false,
                    requireMultiAz: false,
                }),
                [],
            );
        });
    });
});
