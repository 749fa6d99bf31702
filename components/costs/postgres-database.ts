import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";

export const POSTGRES_DATABASE_TYPE = `${PACKAGE}:costs:PostgresDatabase`;

/** PostgreSQL's port. */
export const POSTGRES_PORT = 5432;

export interface PostgresDatabaseArgs {
    /** The VPC the database's security group belongs to. Required. */
    vpcId: pulumi.Input<string>;
    /** Private subnets in two or more zones (RDS needs two for its subnet group). Required. */
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Security groups whose members may connect on 5432, besides those granted later with `allowFrom`. Default none. */
    allowedSecurityGroupIds?: pulumi.Input<string>[];
    /** The instance class, e.g. `"db.t4g.small"`. Default `"db.t4g.micro"`. */
    instanceClass?: string;
    /** Provisioned gp3 storage in GiB, 20 to 1000; RDS grows it up to `maxAllocatedStorageGiB` when it fills. Default 20. */
    allocatedStorageGiB?: number;
    /** Ceiling of storage autoscaling in GiB. Default 5 × `allocatedStorageGiB`. */
    maxAllocatedStorageGiB?: number;
    /** Days automated backups are kept, 7 to 35. Default 7. */
    backupRetentionDays?: number;
    /** A standby in a second zone that RDS fails over to. Default false; the platform sets it in prod. */
    multiAz?: boolean;
    /**
     * Protect the data: RDS deletion protection, a final snapshot when the instance is deleted
     * anyway, and Pulumi `protect`. Default false; the platform sets it in prod.
     */
    protect?: boolean;
    /** PostgreSQL major version. Default `"17"`; RDS applies minor versions in the maintenance window. */
    engineVersion?: string;
    /** The database created at launch. Default `"app"`. */
    databaseName?: string;
    /** The master user; RDS generates its password into Secrets Manager. Default `"dbadmin"`. */
    masterUsername?: string;
    /** KMS key for storage, snapshots and backups. Default: a key of its own, rotated yearly. */
    kmsKeyArn?: pulumi.Input<string>;
}

/**
 * PostgreSQL on RDS that only given security groups can reach: storage encrypted with KMS, no
 * public address, TLS required by its parameter group (`rds.force_ssl`), the master password
 * generated and rotated by RDS in Secrets Manager (never in config or state), backups kept 7
 * days or more; with `protect`, deletion protection, a final snapshot and Pulumi `protect`.
 *
 * ```ts
 * const db = new PostgresDatabase("mlflow-db", { vpcId, subnetIds: privateSubnetIds, multiAz: true, protect: true });
 * db.allowFrom("mlflow", mlflowPodsSecurityGroupId);
 * // a client reads db.secretArn (JSON {username, password}) and connects to db.address:db.port with sslmode=verify-full
 * ```
 *
 * Its security group has no egress and admits only the groups it is given, on 5432; a later
 * component is granted access explicitly with `allowFrom` (one ingress rule each).
 *
 * Cost: the instance-hours (doubled with `multiAz`), gp3 storage per GB-month (doubled with
 * `multiAz`), the master password's secret, and the KMS key.
 */
export class PostgresDatabase extends pulumi.ComponentResource {
    public readonly instance: aws.rds.Instance;
    public readonly securityGroup: aws.ec2.SecurityGroup;
    public readonly parameterGroup: aws.rds.ParameterGroup;
    public readonly subnetGroup: aws.rds.SubnetGroup;
    /** The key its storage is encrypted with: its own unless `kmsKeyArn` was given. */
    public readonly kmsKey?: aws.kms.Key;
    /** Secrets Manager secret RDS keeps the master credentials in: JSON `{"username", "password"}`. */
    public readonly secretArn: pulumi.Output<string>;
    /** Host name to connect to. */
    public readonly address: pulumi.Output<string>;
    public readonly port: pulumi.Output<number>;
    public readonly databaseName: string;
    public readonly masterUsername: string;
    /** Ingress rules admitting the given security groups, by the name given to `allowFrom` (or `allowed-<i>`). */
    public readonly accessRules: Record<string, aws.vpc.SecurityGroupIngressRule> = {};
    private readonly logicalName: string;

    constructor(name: string, args: PostgresDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("PostgresDatabase", name, postgresDatabaseArgsProblems(args));
        super(POSTGRES_DATABASE_TYPE, name, {}, opts);
        this.logicalName = name;
        const s = resolveArgs(args);
        this.databaseName = s.databaseName;
        this.masterUsername = s.masterUsername;

        this.kmsKey = args.kmsKeyArn
            ? undefined
            : new aws.kms.Key(
                  `${name}-key`,
                  {
                      description: `Storage encryption of the ${name} database`,
                      enableKeyRotation: true,
                      deletionWindowInDays: 30,
                  },
                  { parent: this },
              );
        this.securityGroup = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            // No ingress or egress of its own: the rules below and `allowFrom` are the only way in; RDS starts no connection out.
            { vpcId: args.vpcId, description: `PostgreSQL ${name}: only the security groups granted access` },
            { parent: this },
        );
        (args.allowedSecurityGroupIds ?? []).forEach((groupId, i) => this.allowFrom(`allowed-${i}`, groupId));
        this.subnetGroup = new aws.rds.SubnetGroup(
            `${name}-subnets`,
            { subnetIds: args.subnetIds, description: `Private subnets of ${name}` },
            { parent: this },
        );
        this.parameterGroup = new aws.rds.ParameterGroup(
            `${name}-params`,
            {
                family: `postgres${s.engineVersion.split(".")[0]}`,
                description: `${name}: TLS required`,
                parameters: [{ name: "rds.force_ssl", value: "1" }],
            },
            { parent: this },
        );
        this.instance = this.createInstance(name, s, args.kmsKeyArn ?? this.kmsKey!.arn);
        this.secretArn = this.instance.masterUserSecrets.apply((secrets) => secrets[0]?.secretArn);
        this.address = this.instance.address;
        this.port = this.instance.port;
        this.registerOutputs({
            secretArn: this.secretArn,
            address: this.address,
            port: this.port,
            securityGroupId: this.securityGroup.id,
        });
    }

    /**
     * Admits one more security group on 5432, for a component that needs the database (the
     * portal's Backstage and MLflow, say). `grantee` names the rule: `${name}-from-${grantee}`.
     */
    allowFrom(grantee: string, securityGroupId: pulumi.Input<string>): aws.vpc.SecurityGroupIngressRule {
        const rule = new aws.vpc.SecurityGroupIngressRule(
            `${this.logicalName}-from-${grantee}`,
            {
                securityGroupId: this.securityGroup.id,
                referencedSecurityGroupId: securityGroupId,
                ipProtocol: "tcp",
                fromPort: POSTGRES_PORT,
                toPort: POSTGRES_PORT,
                description: `PostgreSQL from ${grantee}`,
            },
            { parent: this },
        );
        this.accessRules[grantee] = rule;
        return rule;
    }

    private createInstance(name: string, s: ResolvedDatabase, kmsKeyId: pulumi.Input<string>): aws.rds.Instance {
        return new aws.rds.Instance(
            `${name}-instance`,
            {
                engine: "postgres",
                engineVersion: s.engineVersion,
                // At the end of standard support RDS upgrades the major version rather than billing extended support.
                engineLifecycleSupport: "open-source-rds-extended-support-disabled",
                autoMinorVersionUpgrade: true,
                instanceClass: s.instanceClass,
                allocatedStorage: s.allocatedStorageGiB,
                maxAllocatedStorage: s.maxAllocatedStorageGiB,
                storageType: "gp3",
                storageEncrypted: true,
                kmsKeyId,
                dbName: s.databaseName,
                username: s.masterUsername,
                manageMasterUserPassword: true,
                dbSubnetGroupName: this.subnetGroup.name,
                vpcSecurityGroupIds: [this.securityGroup.id],
                parameterGroupName: this.parameterGroup.name,
                publiclyAccessible: false,
                multiAz: s.multiAz,
                backupRetentionPeriod: s.backupRetentionDays,
                copyTagsToSnapshot: true,
                deletionProtection: s.protect,
                skipFinalSnapshot: !s.protect,
                finalSnapshotIdentifier: s.protect ? `${name}-final` : undefined,
                caCertIdentifier: "rds-ca-rsa2048-g1",
            },
            { parent: this, protect: s.protect },
        );
    }
}

type ResolvedDatabase = Required<
    Omit<PostgresDatabaseArgs, "vpcId" | "subnetIds" | "allowedSecurityGroupIds" | "kmsKeyArn">
>;

function resolveArgs(args: PostgresDatabaseArgs): ResolvedDatabase {
    const allocatedStorageGiB = args.allocatedStorageGiB ?? 20;
    return {
        instanceClass: args.instanceClass ?? "db.t4g.micro",
        allocatedStorageGiB,
        maxAllocatedStorageGiB: args.maxAllocatedStorageGiB ?? allocatedStorageGiB * 5,
        backupRetentionDays: args.backupRetentionDays ?? 7,
        multiAz: args.multiAz ?? false,
        protect: args.protect ?? false,
        engineVersion: args.engineVersion ?? "17",
        databaseName: args.databaseName ?? "app",
        masterUsername: args.masterUsername ?? "dbadmin",
    };
}

const IDENTIFIER = /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/;

/** Every problem with the arguments, keyed by argument name. */
export function postgresDatabaseArgsProblems(
    args: Omit<PostgresDatabaseArgs, "vpcId" | "subnetIds">,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key, message });
    const storage = args.allocatedStorageGiB ?? 20;
    if (!Number.isInteger(storage) || storage < 20 || storage > 1000)
        add("allocatedStorageGiB", `must be a whole number of GiB from 20 (gp3's smallest) to 1000 (found ${storage})`);
    if (args.maxAllocatedStorageGiB !== undefined && !(args.maxAllocatedStorageGiB >= storage)) {
        add(
            "maxAllocatedStorageGiB",
            `must be at least allocatedStorageGiB (${storage}) (found ${args.maxAllocatedStorageGiB})`,
        );
    }
    const backups = args.backupRetentionDays ?? 7;
    if (!Number.isInteger(backups) || backups < 7 || backups > 35)
        add("backupRetentionDays", `must be a whole number of days from 7 to 35 (found ${backups})`);
    if (args.instanceClass !== undefined && !/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(args.instanceClass)) {
        add("instanceClass", `must be an RDS instance class such as db.t4g.small (found "${args.instanceClass}")`);
    }
    if (args.engineVersion !== undefined && !/^\d{2}(\.\d+)?$/.test(args.engineVersion))
        add("engineVersion", `must be a PostgreSQL version such as "17" or "17.6" (found "${args.engineVersion}")`);
    if (args.databaseName !== undefined && !IDENTIFIER.test(args.databaseName))
        add("databaseName", "must start with a letter and hold only letters, digits and _ (63 at most)");
    if (
        args.masterUsername !== undefined &&
        (!IDENTIFIER.test(args.masterUsername) || args.masterUsername.toLowerCase() === "rdsadmin")
    ) {
        add(
            "masterUsername",
            "must start with a letter, hold only letters, digits and _, and not be rdsadmin (RDS's own user)",
        );
    }
    return problems;
}
