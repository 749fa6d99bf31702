import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { CPU_NODE_SELECTOR } from "@gpu-platform/catalog";
import { housekeepingRules, privateBucket } from "../shared/bucket";
import { CHARTS } from "../shared/charts";
import { HelmValues, mergeValues, pinnedRelease } from "../shared/helm";
import { IrsaRole, OidcProvider, PolicyStatement } from "../shared/irsa";
import { SettingProblem, countProblems, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";
import { RDS_CA_MOUNT, RDS_CA_VOLUME, libpqVerifyFullEnv, rdsCaInitContainer } from "../shared/rds-ca";
import type { ServiceDatabase } from "./database";
import { ExternalSecrets, externalSecret } from "./external-secrets";
import { PortalIngressSettings, ingressProblems, portalIngress, portalUrl } from "./ingress";
import { MLFLOW_USERS, MlflowTeamUsers, generatedCredentials, mlflowTeamUsersArgsProblems } from "./mlflow-users";
import { portalNamespace } from "./namespace";

export const MLFLOW_TYPE = `${PACKAGE}:portal:Mlflow`;

/** Names the chart gives MLflow's objects for the release `mlflow` (its fullname). */
export const MLFLOW = {
    namespace: CHARTS.mlflow.namespace,
    service: "mlflow",
    serviceAccount: "mlflow",
    databaseSecret: "mlflow-db",
    authDatabaseSecret: "mlflow-auth-db",
} as const;

/**
 * The server image the chart runs by default (mlflow 1.11.5 values.yaml `image.repository`, tag
 * its Chart.yaml appVersion 3.15.1): the platform's own migration init container uses it too.
 */
export const MLFLOW_IMAGE = "burakince/mlflow:3.15.1";
/** What a user who was granted nothing may do: nothing (MLflow's basic-auth `default_permission`). */
export const MLFLOW_DEFAULT_PERMISSION = "NO_PERMISSIONS";

export const MLFLOW_DEFAULTS = { replicas: 1, artifactPath: "artifacts", noncurrentVersionDays: 30 } as const;

export interface MlflowArgs {
    /** The cluster's OIDC provider, for the server's IRSA role. */
    oidc: OidcProvider;
    /** Region of the artifact bucket. */
    region: string;
    /** Host name of the UI and API, e.g. `mlflow.portal.example.internal`. */
    host: string;
    /** How the ALB is reached. Default internal, HTTP inside the VPC. */
    ingress?: PortalIngressSettings;
    /** The load balancer controller, whose webhook validates the Ingress: it must run first. */
    loadBalancerController: pulumi.Resource;
    /** The External Secrets Operator, which syncs the database credentials. */
    externalSecrets: ExternalSecrets;
    /** The backend store: MLflow's own database and user. */
    database: ServiceDatabase;
    /**
     * Authentication (MLflow's basic-auth app), required: its user and permission database (its
     * own database and user, e.g. `mlflow_auth` from `ServiceDatabases`), where the admin's
     * credentials are kept (`<secretNamePrefix>/mlflow-admin`), and the teams that get a user
     * each (`<teamSecretsPrefix>/teams/<team>/mlflow`).
     */
    auth: MlflowAuthArgs;
    /** Server replicas. Default 1. */
    replicas?: number;
    /** KMS key for the artifact bucket (SSE-KMS); the server may use it. Default SSE-S3. */
    kmsKeyArn?: pulumi.Input<string>;
    /** Protect and retain the artifact bucket, so deleting the stack cannot lose models. Default false; the platform sets it in prod. */
    protect?: boolean;
    /** Helm values merged over the component's, last. Default none. */
    values?: HelmValues;
}

export interface MlflowAuthArgs {
    /** The auth app's own database and user. */
    database: ServiceDatabase;
    /** Prefix of the admin's secret, e.g. `gpu-platform-prod/portal`. */
    secretNamePrefix: string;
    /** The teams, one MLflow user each. Default none. */
    teams?: string[];
    /** The stack's prefix for team secrets (the teams' SecretStores read `<prefix>/teams/<team>/*`). */
    teamSecretsPrefix: string;
}

/**
 * MLflow's tracking server and model registry (pinned community `mlflow` chart): its backend
 * store in its own PostgreSQL database and user, its artifacts in an S3 bucket of its own, and
 * an internal ALB ingress.
 *
 * ```ts
 * new Mlflow("mlflow", {
 *     oidc: cluster.oidcProvider, region: "us-east-1", host: "mlflow.portal.example.internal",
 *     loadBalancerController: lbc.release, externalSecrets: eso, database: databases.mlflow, protect: true,
 * }, { providers: { aws: awsProvider, kubernetes: cluster.provider } });
 * ```
 *
 * - **Artifacts are served through the server** (`--serve-artifacts`): clients upload and
 *   download through MLflow's API and never need S3 credentials. The server's IRSA role may
 *   list exactly its bucket and read, write and delete objects in it, nothing else.
 *   `MLFLOW_S3_ENDPOINT_URL` stays unset. Experiments created before proxying keep `s3://`
 *   artifact locations that clients write directly (mlflow#6181): create them anew.
 * - **The bucket** is private (public access blocked, owner-enforced), encrypted, versioned,
 *   TLS-only; old versions expire after 30 days; protected and retained with `protect`.
 * - **The database** credentials reach the pod from Secrets Manager through the External
 *   Secrets Operator (`backendStore.existingDatabaseSecret`); the schema is migrated by an init
 *   container of the platform's, after the one that fetches RDS's CA bundle. Connections verify
 *   the server (`PGSSLMODE=verify-full`, docs/database-tls.md).
 * - **Authentication** (docs/mlflow-access.md): MLflow's basic-auth app checks every request
 *   inside the server, so it holds for a pod that calls the Service directly as well as through
 *   the ALB. Nobody has any permission unless granted (`default_permission = NO_PERMISSIONS`);
 *   whoever creates an experiment or model gets MANAGE on it. The proxied artifact routes
 *   (`/api/2.0/mlflow-artifacts/artifacts/<experiment id>/…`) are checked against the
 *   experiment in their path, and a path without one falls to the default: nothing. Users and
 *   permissions live in their own PostgreSQL database; the admin's password is generated into
 *   Secrets Manager; one user per team (`MlflowTeamUsers`).
 * - **Host check** (MLflow ≥ 3.5 refuses unknown Host headers): the ingress host and the
 *   Service's cluster names are allowed, so in-cluster clients (team pods, the team-users job,
 *   which send the Service's name) get through; `/health` is exempt, so the ALB's health check does too.
 *
 * Cost: one pod on the CPU pool; S3 storage and requests by use.
 */
export class Mlflow extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly artifactBucket: aws.s3.Bucket;
    /** The server's IRSA role: exactly the artifact bucket. */
    public readonly role: aws.iam.Role;
    public readonly databaseSecret: k8s.apiextensions.CustomResource;
    /** The admin's credentials in Secrets Manager (`{"username", "password"}`): for the platform team. */
    public readonly adminSecret: aws.secretsmanager.Secret;
    /** One MLflow user per team, its credentials under the team's secret prefix. */
    public readonly teamUsers: MlflowTeamUsers;
    public readonly release: k8s.helm.v3.Release;
    public readonly ingress: k8s.networking.v1.Ingress;
    public readonly url: string;
    /** The server inside the cluster, for in-cluster clients (team pods, the team-users job). */
    public readonly internalUrl = `http://${MLFLOW.service}.${MLFLOW.namespace}.svc`;

    constructor(name: string, args: MlflowArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("Mlflow", name, mlflowArgsProblems(args));
        super(MLFLOW_TYPE, name, {}, opts);
        const ingress = args.ingress ?? {};
        this.url = portalUrl(args.host, ingress);
        ({ bucket: this.artifactBucket, role: this.role } = artifactStore(name, args, this));
        this.namespace = portalNamespace(`${name}-namespace`, MLFLOW.namespace, { parent: this });
        // Alphanumeric: the chart pastes it into a sed expression (templates/deployment.yaml, ini-file-initializer).
        this.adminSecret = generatedCredentials(
            `${name}-admin`,
            {
                secretName: `${args.auth.secretNamePrefix}/mlflow-admin`,
                username: MLFLOW_USERS.adminUsername,
                description: "MLflow's admin user and password (basic-auth app); the platform team's only",
                protect: args.protect ?? false,
            },
            this,
        ).secret;
        const secrets = this.syncSecrets(name, args);
        this.databaseSecret = secrets[0];
        this.release = pinnedRelease(`${name}-release`, CHARTS.mlflow, this.values(args), {
            parent: this,
            dependsOn: [this.namespace, ...secrets],
        });
        this.ingress = portalIngress(
            `${name}-ingress`,
            {
                namespace: MLFLOW.namespace,
                host: args.host,
                serviceName: MLFLOW.service,
                servicePort: 80,
                healthCheckPath: "/health",
                settings: ingress,
            },
            { parent: this, dependsOn: [this.release, args.loadBalancerController] },
        );
        this.teamUsers = new MlflowTeamUsers(
            `${name}-team-users`,
            {
                teams: args.auth.teams ?? [],
                teamSecretsPrefix: args.auth.teamSecretsPrefix,
                namespace: MLFLOW.namespace,
                url: this.internalUrl,
                externalSecrets: args.externalSecrets,
                server: this.release,
                protect: args.protect,
            },
            { parent: this },
        );
        this.registerOutputs({
            url: this.url,
            internalUrl: this.internalUrl,
            artifactBucket: this.artifactBucket.bucket,
            adminSecretArn: this.adminSecret.arn,
        });
    }

    /** The Secrets the pods read, synced from Secrets Manager: the backend store's credentials (first), the auth database's, the admin's. */
    private syncSecrets(name: string, args: MlflowArgs): k8s.apiextensions.CustomResource[] {
        const sync = (role: string, secretName: string, remoteSecret: pulumi.Input<string>) =>
            externalSecret(
                `${name}-${role}-secret`,
                {
                    externalSecrets: args.externalSecrets,
                    namespace: MLFLOW.namespace,
                    secretName,
                    remoteSecret,
                    properties: { username: "username", password: "password" },
                },
                { parent: this, dependsOn: [this.namespace] },
            );
        return [
            sync("database", MLFLOW.databaseSecret, args.database.credentialsSecretArn),
            sync("auth-database", MLFLOW.authDatabaseSecret, args.auth.database.credentialsSecretArn),
            sync("admin", MLFLOW_USERS.adminSecret, this.adminSecret.arn),
        ];
    }

    private values(args: MlflowArgs): pulumi.Output<HelmValues> {
        const { database, auth } = args;
        return pulumi
            .all([
                database.host,
                database.port,
                auth.database.host,
                auth.database.port,
                this.artifactBucket.bucket,
                this.role.arn,
            ])
            .apply(([host, port, authHost, authPort, bucket, roleArn]) =>
                mergeValues(
                    mlflowValues({
                        host: args.host,
                        region: args.region,
                        replicas: args.replicas ?? MLFLOW_DEFAULTS.replicas,
                        database: { host, port, name: database.name },
                        authDatabase: { host: authHost, port: authPort, name: auth.database.name },
                        bucket,
                        roleArn,
                    }),
                    args.values,
                ),
            );
    }
}

/** The artifact bucket, and the server's IRSA role that reaches exactly it. */
function artifactStore(
    name: string,
    args: MlflowArgs,
    parent: pulumi.Resource,
): { bucket: aws.s3.Bucket; role: aws.iam.Role } {
    const bucket = privateBucket(
        `${name}-artifacts`,
        {
            rules: housekeepingRules(MLFLOW_DEFAULTS.noncurrentVersionDays),
            kmsKeyArn: args.kmsKeyArn,
            protect: args.protect ?? false,
        },
        parent,
    );
    const role = new IrsaRole(
        `${name}-irsa`,
        {
            oidc: args.oidc,
            namespace: MLFLOW.namespace,
            serviceAccount: MLFLOW.serviceAccount,
            statements: mlflowStatements(bucket.arn, args.kmsKeyArn),
        },
        { parent },
    ).role;
    return { bucket, role };
}

export function mlflowArgsProblems(args: Pick<MlflowArgs, "replicas" | "ingress" | "auth">): SettingProblem[] {
    const problems = [
        ...ingressProblems("ingress.", args.ingress ?? {}),
        ...countProblems("replicas", args.replicas, 1),
    ];
    if (!args.auth)
        return [
            ...problems,
            { key: "auth", message: "is required: MLflow without authentication is open to every pod" },
        ];
    if (!/^[\w+=.@-]+(\/[\w+=.@-]+)*$/.test(args.auth.secretNamePrefix))
        problems.push({
            key: "auth.secretNamePrefix",
            message: `must be a Secrets Manager name prefix, e.g. gpu-platform-dev/portal (found "${args.auth.secretNamePrefix}")`,
        });
    const teamProblems = mlflowTeamUsersArgsProblems({
        teams: args.auth.teams ?? [],
        teamSecretsPrefix: args.auth.teamSecretsPrefix,
    });
    return [...problems, ...teamProblems.map((p) => ({ ...p, key: `auth.${p.key}` }))];
}

/** The chart values (mlflow 1.11.5). */
export function mlflowValues(s: {
    host: string;
    region: string;
    replicas: number;
    database: { host: string; port: number; name: string };
    /** The basic-auth app's own database (users and permissions). */
    authDatabase: { host: string; port: number; name: string };
    bucket: string;
    roleArn: string;
}): HelmValues {
    const service = `${MLFLOW.service}.${MLFLOW.namespace}.svc`;
    return {
        replicaCount: s.replicas,
        serviceAccount: {
            create: true,
            name: MLFLOW.serviceAccount,
            annotations: { "eks.amazonaws.com/role-arn": s.roleArn },
        },
        backendStore: {
            // The chart runs its migration before any init container of ours, without our
            // environment (mlflow 1.11.5 templates/deployment.yaml): it could not verify TLS. Ours runs after the bundle's fetch.
            databaseMigration: false,
            databaseConnectionCheck: true,
            postgres: { enabled: true, host: s.database.host, port: s.database.port, database: s.database.name },
            existingDatabaseSecret: { name: MLFLOW.databaseSecret, usernameKey: "username", passwordKey: "password" },
        },
        auth: mlflowAuthValues(s.authDatabase),
        artifactRoot: {
            proxiedArtifactStorage: true,
            s3: { enabled: true, bucket: s.bucket, path: MLFLOW_DEFAULTS.artifactPath },
        },
        serverAllowedHosts: [
            s.host,
            service,
            `${service}:80`,
            `${service}.cluster.local`,
            `${service}.cluster.local:80`,
        ],
        // RDS forces TLS; libpq (psycopg2) verifies the server against RDS's CA bundle (PGSSLMODE, PGSSLROOTCERT).
        extraEnvVars: {
            ...Object.fromEntries(libpqVerifyFullEnv().map((e) => [e.name, e.value])),
            AWS_DEFAULT_REGION: s.region,
        },
        initContainers: [rdsCaInitContainer(s.region), mlflowMigrationContainer()],
        extraVolumes: [RDS_CA_VOLUME],
        extraVolumeMounts: [RDS_CA_MOUNT],
        telemetry: { enabled: false },
        nodeSelector: { ...CPU_NODE_SELECTOR },
        resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { memory: "2Gi" } },
    };
}

/**
 * The chart's own migration (mlflow 1.11.5 templates/configmap.yaml, `migrations.py`: an engine
 * on `postgresql://` from libpq's environment, then `_initialize_tables`), run after the RDS CA
 * bundle's fetch with verify-full. The chart's env ConfigMap gives PGHOST, PGPORT and PGDATABASE.
 */
export function mlflowMigrationContainer(): HelmValues {
    const fromDatabaseSecret = (key: string) => ({ secretKeyRef: { name: MLFLOW.databaseSecret, key } });
    return {
        name: "mlflow-db-migration",
        image: MLFLOW_IMAGE,
        command: [
            "python",
            "-c",
            "from mlflow.store.db import utils; utils._initialize_tables(utils.create_sqlalchemy_engine_with_retry('postgresql://'))",
        ],
        envFrom: [{ configMapRef: { name: `${MLFLOW.service}-env-configmap` } }],
        env: [
            { name: "PGUSER", valueFrom: fromDatabaseSecret("username") },
            { name: "PGPASSWORD", valueFrom: fromDatabaseSecret("password") },
            ...libpqVerifyFullEnv(),
        ],
        volumeMounts: [RDS_CA_MOUNT, { name: "tmp", mountPath: "/tmp" }],
        securityContext: {
            runAsNonRoot: true,
            runAsUser: 1001,
            runAsGroup: 1001,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        },
        resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "1Gi" } },
    };
}

/**
 * The chart's `auth` block (mlflow 1.11.5, templates/auth_ini_configmap.yaml and
 * deployment.yaml): `--app-name basic-auth`; an INI file whose admin and database credentials an
 * init container pastes in from the named Secrets (`existingAdminSecret`,
 * `postgres.existingSecret`), so no credential is in the values; users and permissions in
 * PostgreSQL (`postgresql://…`, TLS through `PGSSLMODE`), shared by every replica.
 */
export function mlflowAuthValues(database: { host: string; port: number; name: string }): HelmValues {
    return {
        enabled: true,
        appName: "basic-auth",
        defaultPermission: MLFLOW_DEFAULT_PERMISSION,
        existingAdminSecret: { name: MLFLOW_USERS.adminSecret, usernameKey: "username", passwordKey: "password" },
        postgres: {
            enabled: true,
            host: database.host,
            port: database.port,
            database: database.name,
            existingSecret: { name: MLFLOW.authDatabaseSecret, usernameKey: "username", passwordKey: "password" },
        },
    };
}

/** The server's access: list its bucket, read, write and delete its objects (proxied uploads, downloads, garbage collection). */
export function mlflowStatements(bucketArn: pulumi.Input<string>, kmsKeyArn?: pulumi.Input<string>): PolicyStatement[] {
    const statements: PolicyStatement[] = [
        { Sid: "ListArtifacts", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn] },
        {
            Sid: "ReadWriteArtifacts",
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            Resource: [pulumi.interpolate`${bucketArn}/*`],
        },
    ];
    if (kmsKeyArn)
        statements.push({
            Sid: "UseBucketKey",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: [kmsKeyArn],
        });
    return statements;
}
