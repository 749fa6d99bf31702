import * as assert from "assert";
import { dataStoresEncrypted, dataStoresNotPublic } from "../data-stores";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const KEY = "arn:aws:kms:us-east-1:111122223333:key/1";
/** One passing resource per type, then one setting broken per case (the message names what to set). */
const PASSING: Record<string, Record<string, unknown>> = {
    "aws:dynamodb/table:Table": { hashKey: "id", serverSideEncryption: { enabled: true, kmsKeyArn: KEY } },
    "aws:elasticache/replicationGroup:ReplicationGroup": {
        description: "cache",
        engine: "redis",
        atRestEncryptionEnabled: true,
        transitEncryptionEnabled: true,
    },
    "aws:elasticache/cluster:Cluster": { engine: "memcached", transitEncryptionEnabled: true },
    "aws:opensearch/domain:Domain": {
        encryptAtRest: { enabled: true },
        nodeToNodeEncryption: { enabled: true },
        domainEndpointOptions: { enforceHttps: true },
        vpcOptions: { subnetIds: ["subnet-a"] },
    },
    "aws:elasticsearch/domain:Domain": {
        encryptAtRest: { enabled: true },
        nodeToNodeEncryption: { enabled: true },
        domainEndpointOptions: { enforceHttps: true },
        vpcOptions: { subnetIds: ["subnet-a"] },
    },
    "aws:docdb/cluster:Cluster": { storageEncrypted: true, kmsKeyId: KEY },
    "aws:redshift/cluster:Cluster": { clusterIdentifier: "dw", nodeType: "ra3.xlplus", publiclyAccessible: false },
    "aws:redshiftserverless/workgroup:Workgroup": {
        namespaceName: "dw",
        workgroupName: "dw",
        publiclyAccessible: false,
    },
};

const broken: [string, string, unknown, RegExp][] = [
    [
        "aws:dynamodb/table:Table",
        "serverSideEncryption",
        undefined,
        /^DynamoDB table "store" encrypts its data only with a key AWS owns.*set serverSideEncryption: \{ enabled: true, kmsKeyArn \}\.$/,
    ],
    [
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "atRestEncryptionEnabled",
        undefined,
        /set atRestEncryptionEnabled: true\.$/,
    ],
    [
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "transitEncryptionEnabled",
        false,
        /set transitEncryptionEnabled: true\.$/,
    ],
    ["aws:elasticache/cluster:Cluster", "engine", "redis", /a single cache cluster cannot encrypt at rest/],
    ["aws:elasticache/cluster:Cluster", "transitEncryptionEnabled", undefined, /set transitEncryptionEnabled: true\.$/],
    [
        "aws:opensearch/domain:Domain",
        "encryptAtRest.enabled",
        false,
        /^OpenSearch domain "store" .*set encryptAtRest: \{ enabled: true \}\.$/,
    ],
    [
        "aws:opensearch/domain:Domain",
        "nodeToNodeEncryption",
        undefined,
        /set nodeToNodeEncryption: \{ enabled: true \}\.$/,
    ],
    [
        "aws:elasticsearch/domain:Domain",
        "domainEndpointOptions.enforceHttps",
        false,
        /^Elasticsearch domain "store" .*enforceHttps: true/,
    ],
    [
        "aws:docdb/cluster:Cluster",
        "storageEncrypted",
        undefined,
        /^DocumentDB cluster "store" .*set storageEncrypted: true/,
    ],
    ["aws:redshift/cluster:Cluster", "encrypted", "false", /^Redshift cluster "store" .*set encrypted: "true"/],
];

describe("policies: data stores", () => {
    it("pass each store configured as it should be", async () => {
        for (const [type, inputs] of Object.entries(PASSING)) {
            assert.deepStrictEqual(
                await violationsOf(dataStoresEncrypted, [resource(type, "store", inputs)]),
                [],
                type,
            );
            assert.deepStrictEqual(
                await violationsOf(dataStoresNotPublic, [resource(type, "store", inputs)]),
                [],
                type,
            );
        }
    });

    describe("data-stores-encrypted", () => {
        for (const [type, path, value, expected] of broken)
            it(`reports ${type.split(":").pop()} with ${path} ${JSON.stringify(value) ?? "unset"}`, async () => {
                const v = await theViolation(dataStoresEncrypted, [
                    resource(type, "store", changed(PASSING[type], path, value)),
                ]);
                assert.match(v.message, expected);
            });

        it("takes Valkey's default (encrypted at rest), and a DocumentDB restore given a key", async () => {
            const valkey = { description: "cache", engine: "valkey", transitEncryptionEnabled: true };
            assert.deepStrictEqual(
                await violationsOf(dataStoresEncrypted, [
                    resource("aws:elasticache/replicationGroup:ReplicationGroup", "store", valkey),
                ]),
                [],
            );
            const restore = { snapshotIdentifier: "snap", kmsKeyId: KEY };
            assert.deepStrictEqual(
                await violationsOf(dataStoresEncrypted, [resource("aws:docdb/cluster:Cluster", "store", restore)]),
                [],
            );
        });
    });

    describe("data-stores-not-public", () => {
        it("reports an OpenSearch domain outside a VPC", async () => {
            const v = await theViolation(dataStoresNotPublic, [
                resource(
                    "aws:opensearch/domain:Domain",
                    "store",
                    changed(PASSING["aws:opensearch/domain:Domain"], "vpcOptions", undefined),
                ),
            ]);
            assert.match(v.message, /^OpenSearch domain "store" has no vpcOptions, so AWS gives it a public endpoint/);
        });

        it("reports a publicly accessible Redshift cluster and workgroup", async () => {
            for (const type of ["aws:redshift/cluster:Cluster", "aws:redshiftserverless/workgroup:Workgroup"]) {
                const v = await theViolation(dataStoresNotPublic, [
                    resource(type, "store", changed(PASSING[type], "publiclyAccessible", true)),
                ]);
                assert.match(
                    v.message,
                    /"store" is publicly accessible, so AWS gives it a public address; set publiclyAccessible: false/,
                );
            }
        });
    });
});
