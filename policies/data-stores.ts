/**
 * The data stores a team reaches for beside RDS (DynamoDB, ElastiCache, OpenSearch,
 * DocumentDB, Redshift): encrypted at rest (and in transit where the engine lets it be turned
 * off), and not reachable from the internet. Each setting is read with the API's default for
 * what is unset, quoted from the @pulumi/aws 7.48 documentation of the argument.
 */
import { resourcePolicy } from "./lib/define";
import { Props, asList, asRecord, asString, isSet, isUnknown } from "./lib/values";

const on = (value: unknown) => value === true || value === "true" || isUnknown(value);
const off = (value: unknown) => value === false || value === "false";

const TABLE = "aws:dynamodb/table:Table";
const REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup";
const CACHE_CLUSTER = "aws:elasticache/cluster:Cluster";
const OPENSEARCH = "aws:opensearch/domain:Domain";
const ELASTICSEARCH = "aws:elasticsearch/domain:Domain";
const DOCDB = "aws:docdb/cluster:Cluster";
const REDSHIFT = "aws:redshift/cluster:Cluster";
const REDSHIFT_WORKGROUP = "aws:redshiftserverless/workgroup:Workgroup";

/** For each type: what it is called, and the settings it leaves unencrypted (each `setting: what to set`). */
const ENCRYPTION: Record<string, { kind: string; effect?: string; unencrypted: (p: Props) => string[] }> = {
    // DynamoDB encrypts every table with a key AWS owns; serverSideEncryption.enabled makes it a KMS key whose use is logged (awsguard dynamodb-table-encryption-enabled).
    [TABLE]: {
        kind: "DynamoDB table",
        effect: "encrypts its data only with a key AWS owns, which no key policy of yours governs and no CloudTrail entry logs",
        unencrypted: (p) =>
            on(asRecord(p.serverSideEncryption)?.enabled) ? [] : ["serverSideEncryption: { enabled: true, kmsKeyArn }"],
    },
    [REPLICATION_GROUP]: {
        kind: "ElastiCache replication group",
        unencrypted: (p) => {
            // "When engine is redis, default is false. When engine is valkey, default is true." (atRestEncryptionEnabled)
            const atRestDefault = asString(p.engine) === "valkey";
            const atRest = p.atRestEncryptionEnabled === undefined ? atRestDefault : on(p.atRestEncryptionEnabled);
            return [
                ...(atRest ? [] : ["atRestEncryptionEnabled: true"]),
                ...(on(p.transitEncryptionEnabled) ? [] : ["transitEncryptionEnabled: true"]),
            ];
        },
    },
    // A single-node cache cluster of Redis or Valkey cannot encrypt at rest; Memcached only in transit.
    [CACHE_CLUSTER]: {
        kind: "ElastiCache cluster",
        unencrypted: (p) => {
            if (isSet(p.replicationGroupId)) return [];
            const engine = asString(p.engine) ?? "";
            if (engine === "memcached") return on(p.transitEncryptionEnabled) ? [] : ["transitEncryptionEnabled: true"];
            return [
                "an aws.elasticache.ReplicationGroup with atRestEncryptionEnabled: true instead (a single cache cluster cannot encrypt at rest)",
            ];
        },
    },
    [OPENSEARCH]: { kind: "OpenSearch domain", unencrypted: domainUnencrypted },
    [ELASTICSEARCH]: { kind: "Elasticsearch domain", unencrypted: domainUnencrypted },
    [DOCDB]: {
        kind: "DocumentDB cluster",
        // storageEncrypted defaults to false; a restore given a kmsKeyId is encrypted whatever its snapshot.
        unencrypted: (p) =>
            on(p.storageEncrypted) || (isSet(p.snapshotIdentifier) && isSet(p.kmsKeyId) && !off(p.storageEncrypted))
                ? []
                : ["storageEncrypted: true (with a kmsKeyId)"],
    },
    // "If true, the data in the cluster is encrypted at rest. Default is true." (encrypted, a string in 7.x)
    [REDSHIFT]: {
        kind: "Redshift cluster",
        unencrypted: (p) => (off(p.encrypted) ? ['encrypted: "true" (with a kmsKeyId)'] : []),
    },
};

function domainUnencrypted(p: Props): string[] {
    const endpoint = asRecord(p.domainEndpointOptions);
    return [
        ...(on(asRecord(p.encryptAtRest)?.enabled) ? [] : ["encryptAtRest: { enabled: true }"]),
        ...(on(asRecord(p.nodeToNodeEncryption)?.enabled) ? [] : ["nodeToNodeEncryption: { enabled: true }"]),
        ...(on(endpoint?.enforceHttps)
            ? []
            : ['domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: "Policy-Min-TLS-1-2-2019-07" }']),
    ];
}

export const dataStoresEncrypted = resourcePolicy({
    name: "data-stores-encrypted",
    description:
        "DynamoDB tables, ElastiCache replication groups and clusters, OpenSearch and Elasticsearch domains, DocumentDB clusters and Redshift clusters " +
        "encrypt their data: DynamoDB with a KMS key (serverSideEncryption.enabled), ElastiCache at rest and in transit (at rest is off by default for " +
        "Redis, and a single Redis cache cluster cannot encrypt at all), OpenSearch at rest, between nodes and HTTPS only, DocumentDB storageEncrypted " +
        '(off by default), Redshift encrypted (not "false").',
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: Object.keys(ENCRYPTION),
    validate: ({ type, name, props }, _config, report) => {
        const { kind, effect, unencrypted } = ENCRYPTION[type];
        const missing = unencrypted(props);
        if (missing.length === 0) return;
        report(`${kind} "${name}" ${effect ?? "keeps data unencrypted as configured"}; set ${missing.join(", ")}.`);
    },
});

export const dataStoresNotPublic = resourcePolicy({
    name: "data-stores-not-public",
    description:
        "OpenSearch and Elasticsearch domains live in a VPC (vpcOptions with subnetIds; without it the domain has a public endpoint, guarded only by " +
        "its access policy), and Redshift clusters and Redshift Serverless workgroups are not publicly accessible (publiclyAccessible true gives them " +
        "a public address).",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [OPENSEARCH, ELASTICSEARCH, REDSHIFT, REDSHIFT_WORKGROUP],
    validate: ({ type, name, props }, _config, report) => {
        if (type === OPENSEARCH || type === ELASTICSEARCH) {
            const vpc = props.vpcOptions;
            if (isUnknown(vpc) || asList(asRecord(vpc)?.subnetIds).length > 0 || isUnknown(asRecord(vpc)?.subnetIds))
                return;
            report(
                `${ENCRYPTION[type].kind} "${name}" has no vpcOptions, so AWS gives it a public endpoint reachable from the internet; ` +
                    "set vpcOptions: { subnetIds: <private subnets>, securityGroupIds: [...] } (a domain cannot move into a VPC later: create a new one).",
            );
            return;
        }
        if (!on(props.publiclyAccessible) || isUnknown(props.publiclyAccessible)) return;
        const kind = type === REDSHIFT ? "Redshift cluster" : "Redshift Serverless workgroup";
        report(
            `${kind} "${name}" is publicly accessible, so AWS gives it a public address; set publiclyAccessible: false and reach it from inside the VPC.`,
        );
    },
});
