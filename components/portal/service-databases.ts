import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { CPU_NODE_SELECTOR, PORTAL_NAMESPACES } from "@gpu-platform/catalog";
import { IrsaRole, OidcProvider, PolicyStatement } from "../shared/irsa";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { RDS_CA_MOUNT, RDS_CA_VOLUME, libpqVerifyFullEnv, rdsCaInitContainer } from "../shared/rds-ca";
import { PACKAGE } from "../shared/tokens";
import type { ServiceDatabase } from "./database";
import { ExternalSecrets, externalSecret } from "./external-secrets";
import { portalNamespace } from "./namespace";

export const SERVICE_DATABASES_TYPE = `${PACKAGE}:portal:ServiceDatabases`;

export const SERVICE_DATABASES_DEFAULTS = {
    namespace: PORTAL_NAMESPACES.databases,
    serviceAccount: "database-bootstrap",
    masterSecret: "postgres-master",
    awsCliImage: "public.ecr.aws/aws-cli/aws-cli:2.22.0",
    postgresImage: "public.ecr.aws/docker/library/postgres:17.2-alpine",
} as const;

const POSTGRES_IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

export interface ServiceDatabasesArgs {
    /** The cluster's OIDC provider, for the bootstrap job's IRSA role. */
    oidc: OidcProvider;
    /** The PostgreSQL server: its host name and port (an RDS instance's address). */
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    /** The database's region: its RDS CA bundle verifies the server's certificate (`sslmode=verify-full`). */
    region: string;
    /** The server's master user secret (`{"username", "password"}`, e.g. RDS-managed); synced into the job's namespace only. */
    masterSecretArn: pulumi.Input<string>;
    /** The External Secrets Operator, which syncs the master secret. Its store must admit `namespace`. */
    externalSecrets: ExternalSecrets;
    /** One database and user per service, by service name: the database and the user take the service's name. */
    services: string[];
    /** Prefix of the Secrets Manager secrets' names, e.g. `gpu-platform-prod/portal`. */
    secretNamePrefix: string;
    /** Namespace of the job and the synced master secret. Default `"portal-databases"`. */
    namespace?: string;
    /** Protect the users' secrets (deleting one would lock the service out). Default false; the platform sets it in prod. */
    protect?: boolean;
}

/**
 * Each service's own database and user on a private PostgreSQL server (Backstage's, MLflow's),
 * created by a Kubernetes Job inside the cluster: the server is reachable only from the VPC, so
 * neither `pulumi up`'s machine nor a Pulumi PostgreSQL provider can reach it.
 *
 * For each service there is a Secrets Manager secret (`<prefix>/<service>-database`) that this
 * component creates empty. The job, on every run:
 * 1. (`credentials`, aws-cli) reads each service's secret; where it has no value yet, asks
 *    Secrets Manager for a random password and stores `{"username", "password"}` first, so a
 *    password is never in use before it is saved;
 * 2. (`database`, psql as the master user, whose credentials the External Secrets Operator
 *    syncs from the RDS-managed secret) creates the user if missing and sets its password from
 *    the secret, creates its database owned by it, and revokes the database from PUBLIC.
 * It is idempotent: run again (`pulumi up --replace` on the job) it re-applies the stored
 * passwords; empty a service's secret value first to rotate its password.
 *
 * No password passes through Pulumi: not in config, values, inputs, state or outputs. Services
 * read their secret through the External Secrets Operator.
 *
 * Cost: one secret per service ($0.40 a month each); the job's pod runs for seconds.
 */
export class ServiceDatabases extends pulumi.ComponentResource {
    /** Each service's database, for its component's `database` argument. */
    public readonly databases: Record<string, ServiceDatabase>;
    /** Each service's credentials secret. */
    public readonly secrets: Record<string, aws.secretsmanager.Secret>;
    public readonly role: aws.iam.Role;
    public readonly job: k8s.batch.v1.Job;
    public readonly namespace: string;

    constructor(name: string, args: ServiceDatabasesArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("ServiceDatabases", name, serviceDatabasesArgsProblems(args));
        super(SERVICE_DATABASES_TYPE, name, {}, opts);
        this.namespace = args.namespace ?? SERVICE_DATABASES_DEFAULTS.namespace;
        const protect = args.protect ?? false;
        this.secrets = this.createSecrets(name, args, protect);
        this.databases = Object.fromEntries(
            args.services.map((service) => [
                service,
                {
                    host: args.host,
                    port: args.port,
                    region: args.region,
                    name: service,
                    credentialsSecretArn: this.secrets[service].arn,
                },
            ]),
        );
        this.role = new IrsaRole(
            `${name}-irsa`,
            {
                oidc: args.oidc,
                namespace: this.namespace,
                serviceAccount: SERVICE_DATABASES_DEFAULTS.serviceAccount,
                statements: bootstrapStatements(Object.values(this.secrets).map((s) => s.arn)),
            },
            { parent: this },
        ).role;
        const namespace = portalNamespace(`${name}-namespace`, this.namespace, { parent: this });
        const inNamespace = { parent: this, dependsOn: [namespace] };
        const masterSecret = externalSecret(
            `${name}-master-secret`,
            {
                externalSecrets: args.externalSecrets,
                namespace: this.namespace,
                secretName: SERVICE_DATABASES_DEFAULTS.masterSecret,
                remoteSecret: args.masterSecretArn,
                properties: { username: "username", password: "password" },
            },
            inNamespace,
        );
        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-service-account`,
            {
                metadata: {
                    name: SERVICE_DATABASES_DEFAULTS.serviceAccount,
                    namespace: this.namespace,
                    annotations: { "eks.amazonaws.com/role-arn": this.role.arn },
                },
            },
            inNamespace,
        );
        const secretArns = Object.values(this.secrets).map((s) => s.arn);
        this.job = new k8s.batch.v1.Job(
            `${name}-bootstrap`,
            {
                metadata: { name: "database-bootstrap", namespace: this.namespace },
                spec: pulumi.all([args.host, args.port, pulumi.all(secretArns)]).apply(([host, port, arns]) =>
                    bootstrapJobSpec({
                        host,
                        port,
                        region: args.region,
                        services: args.services.map((service, i) => ({ service, secretArn: arns[i] })),
                    }),
                ),
            },
            { parent: this, dependsOn: [namespace, masterSecret, serviceAccount] },
        );
        this.registerOutputs({
            secretArns: Object.fromEntries(
                Object.entries(this.secrets).map(([service, secret]) => [service, secret.arn]),
            ),
        });
    }

    /** One credentials secret per service, which the bootstrap job fills. */
    private createSecrets(
        name: string,
        args: ServiceDatabasesArgs,
        protect: boolean,
    ): Record<string, aws.secretsmanager.Secret> {
        return Object.fromEntries(
            args.services.map((service) => [
                service,
                new aws.secretsmanager.Secret(
                    `${name}-${service}-credentials`,
                    {
                        name: `${args.secretNamePrefix}/${service}-database`,
                        description: `PostgreSQL user and password of ${service}; written by the portal's database bootstrap job`,
                        // A fixed name: a secret scheduled for deletion (30 days by default) would block
                        // re-creating the stack under the same name. Kept secrets keep the window.
                        ...(protect ? {} : { recoveryWindowInDays: 0 }),
                    },
                    { parent: this, protect, retainOnDelete: protect },
                ),
            ]),
        );
    }
}

export function serviceDatabasesArgsProblems(
    args: Pick<ServiceDatabasesArgs, "services" | "secretNamePrefix">,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    if (args.services.length === 0) problems.push({ key: "services", message: "is empty; name at least one service" });
    const seen = new Set<string>();
    args.services.forEach((service, i) => {
        if (!POSTGRES_IDENTIFIER.test(service))
            problems.push({
                key: `services[${i}]`,
                message: `"${service}" must be a lower-case PostgreSQL name: letters, digits and _, starting with a letter`,
            });
        if (seen.has(service)) problems.push({ key: `services[${i}]`, message: `"${service}" is listed twice` });
        seen.add(service);
    });
    if (!/^[\w/+=.@-]{1,400}$/.test(args.secretNamePrefix))
        problems.push({
            key: "secretNamePrefix",
            message: `must be a Secrets Manager name prefix (found "${args.secretNamePrefix}")`,
        });
    return problems;
}

/**
 * The job's access: read and write exactly the services' secrets. `GetRandomPassword` has no
 * resource to scope to (Secrets Manager's service authorization reference lists none).
 */
export function bootstrapStatements(secretArns: pulumi.Input<string>[]): PolicyStatement[] {
    return [
        {
            Sid: "ServiceCredentials",
            Effect: "Allow",
            // What its script calls (get-secret-value, put-secret-value), nothing more (the pack's iam-least-privilege).
            Action: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
            Resource: secretArns,
        },
        { Sid: "GeneratePasswords", Effect: "Allow", Action: ["secretsmanager:GetRandomPassword"], Resource: "*" },
    ];
}

/** The job's pod: store each missing password first (aws-cli), then apply them all (psql as the master user). */
export function bootstrapJobSpec(s: {
    host: string;
    port: number;
    region: string;
    services: { service: string; secretArn: string }[];
}): k8s.types.input.batch.v1.JobSpec {
    const work = { name: "work", mountPath: "/work" };
    const restricted = {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
    };
    const services = s.services.map(({ service, secretArn }) => `${service}=${secretArn}`).join(" ");
    return {
        backoffLimit: 4,
        activeDeadlineSeconds: 900,
        template: {
            spec: {
                serviceAccountName: SERVICE_DATABASES_DEFAULTS.serviceAccount,
                restartPolicy: "OnFailure",
                nodeSelector: { ...CPU_NODE_SELECTOR },
                securityContext: {
                    runAsNonRoot: true,
                    runAsUser: 70,
                    runAsGroup: 70,
                    fsGroup: 70,
                    seccompProfile: { type: "RuntimeDefault" },
                },
                volumes: [{ name: "work", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } }, RDS_CA_VOLUME],
                initContainers: [
                    rdsCaInitContainer(s.region),
                    {
                        name: "credentials",
                        image: SERVICE_DATABASES_DEFAULTS.awsCliImage,
                        command: ["/bin/sh", "-ec", CREDENTIALS_SCRIPT],
                        env: [
                            { name: "SERVICES", value: services },
                            { name: "HOME", value: "/work" },
                        ],
                        volumeMounts: [work],
                        securityContext: restricted,
                        resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
                    },
                ],
                containers: [
                    {
                        name: "database",
                        image: SERVICE_DATABASES_DEFAULTS.postgresImage,
                        command: ["/bin/sh", "-ec", DATABASE_SCRIPT],
                        env: [
                            { name: "SERVICES", value: s.services.map(({ service }) => service).join(" ") },
                            { name: "PGHOST", value: s.host },
                            { name: "PGPORT", value: String(s.port) },
                            { name: "PGDATABASE", value: "postgres" },
                            // Verified against RDS's CA bundle, which the rds-ca init container fetched.
                            ...libpqVerifyFullEnv(),
                            {
                                name: "PGUSER",
                                valueFrom: {
                                    secretKeyRef: { name: SERVICE_DATABASES_DEFAULTS.masterSecret, key: "username" },
                                },
                            },
                            {
                                name: "PGPASSWORD",
                                valueFrom: {
                                    secretKeyRef: { name: SERVICE_DATABASES_DEFAULTS.masterSecret, key: "password" },
                                },
                            },
                        ],
                        volumeMounts: [work, RDS_CA_MOUNT],
                        securityContext: restricted,
                        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
                    },
                ],
            },
        },
    };
}

// Each service's secret value, stored before use; alphanumeric passwords need no JSON escaping.
const CREDENTIALS_SCRIPT = `umask 077
for entry in $SERVICES; do
  service=\${entry%%=*}; arn=\${entry#*=}
  if ! aws secretsmanager get-secret-value --secret-id "$arn" --query SecretString --output text > "/work/$service.json" 2> /work/error; then
    grep -q ResourceNotFoundException /work/error || { cat /work/error >&2; exit 1; }
    password=$(aws secretsmanager get-random-password --password-length 40 --exclude-punctuation --query RandomPassword --output text)
    printf '{"username":"%s","password":"%s"}' "$service" "$password" > "/work/$service.json"
    aws secretsmanager put-secret-value --secret-id "$arn" --secret-string "file:///work/$service.json" > /dev/null
    echo "stored a new password for $service"
  fi
done`;

/**
 * Run by psql as the master user for one service (`-v service=… -v file=…`), on every job run.
 * The master is not a superuser: on RDS it has CREATEROLE and CREATEDB (RDS docs, "Master user
 * account privileges"). So the user's attributes are set once, at CREATE ROLE, and never named in
 * ALTER ROLE: naming SUPERUSER there, even NOSUPERUSER, needs a superuser (15 and later); since 16
 * so does changing CREATEDB, REPLICATION or BYPASSRLS without holding it, and any ALTER of another
 * role needs ADMIN OPTION on it, which CREATE ROLE gives its non-superuser creator (PostgreSQL 16
 * release notes, "Restrict the privileges of CREATEROLE"; src/backend/commands/user.c, CreateRole
 * and AlterRole, REL_17_STABLE). docs/portal-database-bootstrap.md has the rules and the runs. A role of that name found with a server-wide
 * privilege, or out of the master's reach, is refused with a line that says so. Idempotent: a
 * re-run sets the stored password again and leaves the rest as it is.
 * psql reads the secret from its file and parses it: the password is on no command line and in no log.
 */
export const SERVICE_DATABASE_SQL = `\\set credentials \`cat :'file'\`
SELECT (:'credentials')::json->>'username' AS username, (:'credentials')::json->>'password' AS password \\gset
SELECT format('CREATE ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L', :'username', :'password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'username') \\gexec
SELECT format('DO $$BEGIN RAISE EXCEPTION %L; END$$', 'role ' || rolname || ' exists with a server-wide privilege (superuser, createdb, createrole, replication or bypassrls); drop it or take the privilege away first')
  FROM pg_roles WHERE rolname = :'username' AND (rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls) \\gexec
SELECT format('DO $$BEGIN RAISE EXCEPTION %L; END$$', 'role ' || :'username' || ' exists and ' || current_user || ' has no ADMIN OPTION on it, which PostgreSQL 16 and later require to set its password; grant it WITH ADMIN OPTION to ' || current_user || ' as a superuser or its creator, or drop the role')
 WHERE current_setting('server_version_num')::int >= 160000
   AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
   AND NOT pg_has_role(current_user, :'username', 'MEMBER WITH ADMIN OPTION') \\gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'username', :'password') \\gexec
SELECT format('GRANT %I TO CURRENT_USER', :'username') \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'service', :'username') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'service') \\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'service') \\gexec
`;

const DATABASE_SCRIPT = `for service in $SERVICES; do
  psql -v ON_ERROR_STOP=1 -q -v service="$service" -v file="/work/$service.json" <<'SQL'
${SERVICE_DATABASE_SQL}SQL
  echo "database and user ready: $service"
done`;
