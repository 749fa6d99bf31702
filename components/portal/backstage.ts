import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { CPU_NODE_SELECTOR } from "@gpu-platform/catalog";
import { CHARTS } from "../shared/charts";
import { HelmValues, mergeValues, pinnedRelease } from "../shared/helm";
import { imagePinProblems, parseImageReference } from "../shared/image-reference";
import { SettingProblem, countProblems, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";
import { RDS_CA, RDS_CA_MOUNT, RDS_CA_VOLUME, rdsCaInitContainer } from "../shared/rds-ca";
import type { ServiceDatabase } from "./database";
import { ExternalSecrets, currentSecretVersion, externalSecret } from "./external-secrets";
import { PortalIngressSettings, ingressProblems, portalIngress, portalUrl } from "./ingress";
import { MLFLOW } from "./mlflow";
import { portalNamespace } from "./namespace";

export const BACKSTAGE_TYPE = `${PACKAGE}:portal:Backstage`;

export const BACKSTAGE = { namespace: CHARTS.backstage.namespace, service: "backstage", port: 7007 } as const;

/** The chart's default image: Backstage's demo app, not an image to run the platform's templates on. */
export const BACKSTAGE_DEMO_IMAGE = "ghcr.io/backstage/backstage:latest";

/** The proxy endpoints the GPU templates and the portal's pages call (`/api/proxy/<name>`). */
/**
 * No `/mlflow`: nothing in the portal reads MLflow through Backstage (the templates link to its UI),
 * and the proxy could hold no MLflow credential without giving every signed-in user that identity.
 */
export const PROXY_ENDPOINTS = { costTracker: "/cost-tracker", argoCd: "/argocd" } as const;

/**
 * The scaffolder actions the GPU templates use, the backend plugin that provides each, and the
 * app-config it reads. The Backstage image must include these plugins (docs/portal.md).
 */
export const TEMPLATE_ACTIONS = [
    {
        action: "gpu-platform:request-gpus",
        plugin: "@internal/plugin-scaffolder-backend-module-gpu-platform",
        config: "gpuPlatform.costTracker",
    },
    {
        action: "gpu-platform:release-gpus",
        plugin: "@internal/plugin-scaffolder-backend-module-gpu-platform",
        config: "gpuPlatform.costTracker",
    },
    { action: "fetch:template", plugin: "@backstage/plugin-scaffolder-backend", config: "" },
    {
        action: "publish:github:pull-request",
        plugin: "@backstage/plugin-scaffolder-backend-module-github",
        config: "integrations.github",
    },
    { action: "catalog:register", plugin: "@backstage/plugin-scaffolder-backend", config: "catalog" },
] as const;

/** Environment variables the app-config reads, and the synced Secrets they come from. */
const ENV = {
    database: { secret: "backstage-database", user: "POSTGRES_USER", password: "POSTGRES_PASSWORD" },
    costTracker: { secret: "backstage-cost-tracker", token: "COST_TRACKER_API_TOKEN" },
    github: { secret: "backstage-github", token: "GITHUB_TOKEN" },
    argoCd: { secret: "backstage-argocd", token: "ARGOCD_AUTH_TOKEN" },
} as const;

export interface BackstageArgs {
    /** Host name of the portal, e.g. `backstage.portal.example.internal`. */
    host: string;
    /** How the ALB is reached. Default internal, HTTP inside the VPC. */
    ingress?: PortalIngressSettings;
    /** The load balancer controller, whose webhook validates the Ingress: it must run first. */
    loadBalancerController: pulumi.Resource;
    /** The External Secrets Operator, which syncs the database credentials and API tokens. */
    externalSecrets: ExternalSecrets;
    /** Backstage's own database and user. Plugins get a schema each in it (`pluginDivisionMode: schema`). */
    database: ServiceDatabase;
    /**
     * The platform's Backstage image (`registry/repository:tag` or `…@sha256:…`), with the plugins
     * `TEMPLATE_ACTIONS` names: the platform builds it from `backstage/` (`ContainerImage`) unless
     * the stack names one. Default the chart's demo image, with a warning: it lacks the
     * platform's GPU actions the templates' approval step needs (backstage/, docs/portal-app.md).
     */
    image?: pulumi.Input<string>;
    /** Pods. Default 1. */
    replicas?: number;
    /** Where the GPU templates live, as a catalog location: a URL to `backstage/templates/*.yaml` on a branch of this repository. */
    templatesUrl: string;
    /** Secrets Manager secret holding `{"token": …}`: a GitHub token that reads the templates and opens pull requests on the GitOps repository. */
    githubTokenSecretArn: pulumi.Input<string>;
    /** The cost tracker: its internal URL and the secret of its API token (`tokenProperty` of the JSON value, or the whole value when `""`). */
    costTracker: { url: pulumi.Input<string>; tokenSecretArn: pulumi.Input<string>; tokenProperty?: string };
    /** Argo CD: its server inside the cluster (the proxy's target), its UI's URL (the templates' links), and optionally the secret (`{"token": …}`) of the read-only `backstage` account's API token. */
    argoCd: { url: string; publicUrl: string; tokenSecretArn?: pulumi.Input<string> };
    /**
     * MLflow: its UI's URL (the templates' links) and the stack's team-secrets prefix, under which
     * each team's MLflow credentials are (`<prefix>/teams/<team>/mlflow`, synced by the workloads
     * the templates write). Backstage itself never calls MLflow.
     */
    mlflow: { publicUrl: string; teamSecretsPrefix: string };
    /** The GitOps repository the templates open pull requests on (`https://…` or `git@…`), and its branch. */
    gitops: { repoUrl: string; branch: string };
    /**
     * The components a template run passes through, registered as the `flows` output that the
     * offline plan's diagram draws: Backstage asks the cost tracker, an approved request becomes a
     * pull request on the GitOps repository, whose root application Argo CD syncs into the team's
     * namespace. Default none.
     */
    templateRun?: {
        costTracker: pulumi.Resource;
        gitops: pulumi.Resource;
        argoCd: pulumi.Resource;
        teamNamespaces: pulumi.Resource[];
    };
    /** Helm values merged over the component's, last. Default none. */
    values?: HelmValues;
}

/**
 * Backstage (pinned `backstage` chart) as the platform's portal: the GPU templates in its
 * catalog, proxy endpoints to the cost tracker and Argo CD, an external PostgreSQL
 * database, and an internal ALB ingress.
 *
 * ```ts
 * new Backstage("portal", {
 *     host: "backstage.portal.example.internal", image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/portal/backstage:1.4.0",
 *     loadBalancerController: lbc.release, externalSecrets: eso, database: databases.backstage,
 *     templatesUrl: "https://github.com/acme/gpu-platform/blob/main/backstage/templates/*.yaml", githubTokenSecretArn,
 *     costTracker: { url: tracker.url, tokenSecretArn: tracker.apiTokenSecretArn },
 *     argoCd: { url: argocd.internalUrl }, mlflow: { publicUrl: mlflow.url, teamSecretsPrefix: "gpu-platform-prod" },
 * }, { providers: { kubernetes: cluster.provider } });
 * ```
 *
 * - **Database.** Backstage makes one database per plugin (`backstage_plugin_<id>`) by default,
 *   which needs CREATEDB. Here every plugin gets a schema in Backstage's one database
 *   (`pluginDivisionMode: schema`, `ensureExists: false`, `ensureSchemaExists: true`), so its
 *   user owns one database and needs no server-wide privilege.
 * - **Credentials** (database user, the cost tracker's API token, the GitHub token, Argo CD's
 *   token) come from Secrets Manager through the External Secrets Operator as environment
 *   variables; app-config refers to them as `${VAR}`. None is in the values.
 * - **Proxy:** `/api/proxy/cost-tracker` → the cost tracker, GET only (its token added by the proxy),
 *   `/api/proxy/argocd` → argocd-server (read-only account); each requires a Backstage user or
 *   service token (`credentials: require`). No MLflow endpoint: nothing in the portal uses one.
 * - **Image args** keep the image's own `app-config.yaml` and `app-config.production.yaml`
 *   before the chart's (`args` replaces the image's command arguments).
 *
 * Cost: its pods on the CPU pool.
 */
export class Backstage extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly secrets: k8s.apiextensions.CustomResource[];
    public readonly release: k8s.helm.v3.Release;
    public readonly ingress: k8s.networking.v1.Ingress;
    public readonly url: string;

    constructor(name: string, args: BackstageArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("Backstage", name, backstageArgsProblems(args));
        super(BACKSTAGE_TYPE, name, {}, opts);
        if (!args.image) {
            void pulumi.log.warn(
                `Backstage "${name}" runs the chart's demo image ${BACKSTAGE_DEMO_IMAGE}: it lacks ${TEMPLATE_ACTIONS[0].plugin}, so the GPU templates' ` +
                    "approval step fails; build the platform's image (docs/portal.md) and set it.",
                this,
            );
        }
        const ingress = args.ingress ?? {};
        this.url = portalUrl(args.host, ingress);
        this.namespace = portalNamespace(`${name}-namespace`, BACKSTAGE.namespace, { parent: this });
        const argoCdTokenVersion = this.argoCdTokenVersion(args);
        this.secrets = this.syncSecrets(name, args, argoCdTokenVersion);
        const values = pulumi
            .all([args.database.host, args.database.port, args.costTracker.url, argoCdTokenVersion, args.image])
            .apply(([dbHost, dbPort, costTrackerUrl, tokenVersion, image]) =>
                mergeValues(
                    backstageValues({
                        url: this.url,
                        image,
                        replicas: args.replicas ?? 1,
                        database: {
                            host: dbHost,
                            port: dbPort,
                            name: args.database.name,
                            region: args.database.region,
                        },
                        templatesUrl: args.templatesUrl,
                        proxy: { costTracker: costTrackerUrl, argoCd: args.argoCd.url },
                        argoCdTokenVersion: tokenVersion,
                        templates: {
                            gitopsRepoUrl: scaffolderRepoUrl(args.gitops.repoUrl)!, // validated
                            gitopsBranch: args.gitops.branch,
                            argocdUrl: args.argoCd.publicUrl,
                            mlflowUrl: args.mlflow.publicUrl,
                            mlflowNamespace: MLFLOW.namespace,
                            teamSecretsPrefix: args.mlflow.teamSecretsPrefix,
                        },
                    }),
                    args.values,
                ),
            );
        this.release = pinnedRelease(`${name}-release`, CHARTS.backstage, values, {
            parent: this,
            dependsOn: [this.namespace, ...this.secrets],
        });
        this.ingress = portalIngress(
            `${name}-ingress`,
            {
                namespace: BACKSTAGE.namespace,
                host: args.host,
                serviceName: BACKSTAGE.service,
                servicePort: BACKSTAGE.port,
                healthCheckPath: "/.backstage/health/v1/readiness",
                settings: ingress,
            },
            { parent: this, dependsOn: [this.release, args.loadBalancerController] },
        );
        this.registerOutputs({
            url: this.url,
            flows: args.templateRun ? templateRunFlows(this, args.templateRun) : [],
        });
    }

    /**
     * The Argo CD token's current version, or undefined until the secret holds a value. A real
     * token can be made only once Argo CD runs, after the first `up`; until then Backstage starts
     * without it, because the chart makes every `extraEnvVarsSecrets` entry a required `envFrom`
     * (backstage chart 2.8.2, templates/backstage-deployment.yaml) and a pod whose Secret never
     * syncs never starts: the release would time out. The next `up` sees the version and adds it.
     */
    private argoCdTokenVersion(args: BackstageArgs): pulumi.Output<string | undefined> {
        const secretId = args.argoCd.tokenSecretArn;
        if (secretId === undefined) return pulumi.output(undefined);
        const versions = aws.secretsmanager.getSecretVersionsOutput({ secretId }, { parent: this });
        return versions.versions.apply((list) => {
            const current = currentSecretVersion(list);
            if (current === undefined)
                void pulumi.log.warn(
                    "The Argo CD token secret has no value yet: Backstage starts without it and its Argo CD views get 401. " +
                        "Create the backstage account's token once Argo CD runs, put it in the secret, and run pulumi up again (docs/deploying.md).",
                    this,
                );
            return current;
        });
    }

    /** One synced Secret per source, each holding the environment variables app-config reads. */
    private syncSecrets(
        name: string,
        args: BackstageArgs,
        argoCdTokenVersion: pulumi.Output<string | undefined>,
    ): k8s.apiextensions.CustomResource[] {
        const sync = (
            role: string,
            secretName: string,
            remoteSecret: pulumi.Input<string>,
            properties: Record<string, string>,
            annotations?: Record<string, pulumi.Input<string>>,
        ) =>
            externalSecret(
                `${name}-${role}-secret`,
                {
                    externalSecrets: args.externalSecrets,
                    namespace: BACKSTAGE.namespace,
                    secretName,
                    remoteSecret,
                    properties,
                    annotations,
                },
                { parent: this, dependsOn: [this.namespace] },
            );
        const secrets = [
            sync("database", ENV.database.secret, args.database.credentialsSecretArn, {
                [ENV.database.user]: "username",
                [ENV.database.password]: "password",
            }),
            sync("cost-tracker", ENV.costTracker.secret, args.costTracker.tokenSecretArn, {
                [ENV.costTracker.token]: args.costTracker.tokenProperty ?? "",
            }),
            sync("github", ENV.github.secret, args.githubTokenSecretArn, { [ENV.github.token]: "token" }),
        ];
        // Re-read at once when the token gets its first or a new value, so the pods the same
        // `up` rolls out find it synced.
        if (args.argoCd.tokenSecretArn !== undefined)
            secrets.push(
                sync(
                    "argocd",
                    ENV.argoCd.secret,
                    args.argoCd.tokenSecretArn,
                    { [ENV.argoCd.token]: "token" },
                    { "force-sync": argoCdTokenVersion.apply((version) => version ?? "none") },
                ),
            );
        return secrets;
    }
}

/** The steps of a template run, from component to component, as the diagram draws them. */
function templateRunFlows(backstage: pulumi.Resource, run: NonNullable<BackstageArgs["templateRun"]>) {
    const step = (from: pulumi.Resource, to: pulumi.Resource, label: string) => ({ from: from.urn, to: to.urn, label });
    return [
        step(backstage, run.costTracker, "1. template asks: POST /v1/gpu-requests"),
        step(run.costTracker, run.gitops, "2. approved: pull request to apps/<team>/<name>/"),
        step(run.gitops, run.argoCd, "3. the team's ApplicationSet syncs apps/<team>/"),
        ...run.teamNamespaces.map((namespace) => step(run.argoCd, namespace, "4. deploys in the team's project")),
    ];
}

export function backstageArgsProblems(
    args: Pick<BackstageArgs, "image" | "replicas" | "templatesUrl" | "ingress"> & { gitops?: { repoUrl: string } },
): SettingProblem[] {
    const problems = ingressProblems("ingress.", args.ingress ?? {});
    if (args.gitops && !scaffolderRepoUrl(args.gitops.repoUrl)) {
        problems.push({
            key: "gitops.repoUrl",
            message: `must be https://<host>/<owner>/<repo>[.git] or git@<host>:<owner>/<repo>.git (found "${args.gitops.repoUrl}")`,
        });
    }
    // A built image (an Output) is pinned by its content hash and digest; a given one must be pinned here.
    if (typeof args.image === "string") problems.push(...imagePinProblems("image", args.image));
    problems.push(...countProblems("replicas", args.replicas, 1));
    if (!/^https:\/\/\S+\/backstage\/templates\/\*\.yaml$/.test(args.templatesUrl)) {
        problems.push({
            key: "templatesUrl",
            message: `must be an https URL ending in /backstage/templates/*.yaml, e.g. https://github.com/acme/gpu-platform/blob/main/backstage/templates/*.yaml (found "${args.templatesUrl}")`,
        });
    }
    return problems;
}

/**
 * A repository URL as the scaffolder's GitHub actions take it (`github.com?owner=acme&repo=gitops`,
 * the form `parseRepoUrl` reads), or undefined when it names no owner and repository.
 */
export function scaffolderRepoUrl(repoUrl: string): string | undefined {
    const match = /^(?:https:\/\/([^/@\s]+)\/|git@([^:\s]+):)([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(repoUrl);
    return match ? `${match[1] ?? match[2]}?owner=${match[3]}&repo=${match[4]}` : undefined;
}

/** An image reference as the chart's `backstage.image` fields (Docker Hub when it names no registry). */
export function backstageImage(image: string = BACKSTAGE_DEMO_IMAGE): HelmValues {
    const reference = parseImageReference(image)!; // validated
    return {
        registry: reference.domain ?? "docker.io",
        repository: reference.path,
        ...(reference.digest ? { digest: reference.digest } : { tag: reference.tag }),
    };
}

/** The chart values (backstage 2.8.2), app-config included. */
export function backstageValues(s: {
    url: string;
    image?: string;
    replicas: number;
    database: { host: string; port: number; name: string; region: string };
    templatesUrl: string;
    proxy: { costTracker: string; argoCd: string };
    /** The Argo CD token's current Secrets Manager version; undefined while there is none (or no token). */
    argoCdTokenVersion?: string;
    /** What the GPU templates read as `${{ environment.parameters.* }}`. */
    templates: {
        gitopsRepoUrl: string;
        gitopsBranch: string;
        argocdUrl: string;
        mlflowUrl: string;
        mlflowNamespace: string;
        /** The stack's prefix in Secrets Manager: a workload's MLflow credentials are `<prefix>/teams/<team>/mlflow`. */
        teamSecretsPrefix: string;
    };
}): HelmValues {
    const secrets = [
        ENV.database.secret,
        ENV.costTracker.secret,
        ENV.github.secret,
        ...(s.argoCdTokenVersion ? [ENV.argoCd.secret] : []),
    ];
    return {
        backstage: {
            image: backstageImage(s.image),
            replicas: s.replicas,
            args: ["--config", "app-config.yaml", "--config", "app-config.production.yaml"],
            extraEnvVars: [
                { name: "POSTGRES_HOST", value: s.database.host },
                { name: "POSTGRES_PORT", value: String(s.database.port) },
                // The gpu-platform actions' target (the image's app-config: gpuPlatform.costTracker.baseUrl).
                { name: "COST_TRACKER_URL", value: s.proxy.costTracker },
                // Harmless since scaffolder-backend 4.0.3 dropped isolated-vm; older images need it on Node 20+.
                { name: "NODE_OPTIONS", value: "--no-node-snapshot" },
                // RDS's CAs join Node's trust store, so the database connection verifies its server (ssl below).
                { name: "NODE_EXTRA_CA_CERTS", value: RDS_CA.file },
            ],
            // Fetched before the backend starts; the chart mounts the volume only with both lists set (backstage 2.8.2, templates/backstage-deployment.yaml).
            initContainers: [rdsCaInitContainer(s.database.region)],
            extraVolumes: [RDS_CA_VOLUME],
            extraVolumeMounts: [RDS_CA_MOUNT],
            extraEnvVarsSecrets: secrets,
            // A new token version rolls the pods: they read environment variables only at start.
            ...(s.argoCdTokenVersion
                ? { podAnnotations: { "gpu-platform/argocd-token-version": s.argoCdTokenVersion } }
                : {}),
            appConfig: backstageAppConfig(s),
            nodeSelector: { ...CPU_NODE_SELECTOR },
            resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } },
        },
        postgresql: { enabled: false },
    };
}

/** The app-config the chart mounts after the image's own: database, catalog locations, integrations and proxy. */
export function backstageAppConfig(
    s: Pick<
        Parameters<typeof backstageValues>[0],
        "url" | "database" | "templatesUrl" | "proxy" | "argoCdTokenVersion" | "templates"
    >,
): HelmValues {
    const readOnly = { credentials: "require", allowedMethods: ["GET"] };
    return {
        app: { baseUrl: s.url },
        backend: {
            baseUrl: s.url,
            listen: { port: BACKSTAGE.port },
            cors: { origin: s.url },
            database: {
                client: "pg",
                connection: {
                    host: "${POSTGRES_HOST}",
                    port: "${POSTGRES_PORT}",
                    user: `\${${ENV.database.user}}`,
                    password: `\${${ENV.database.password}}`,
                    database: s.database.name,
                    // RDS forces TLS; node-postgres verifies the chain (RDS's CAs, NODE_EXTRA_CA_CERTS) and the host name.
                    ssl: { rejectUnauthorized: true },
                },
                pluginDivisionMode: "schema",
                ensureExists: false,
                ensureSchemaExists: true,
            },
        },
        integrations: { github: [{ host: "github.com", token: `\${${ENV.github.token}}` }] },
        catalog: { locations: [{ type: "url", target: s.templatesUrl, rules: [{ allow: ["Template"] }] }] },
        // The GPU templates' environment (backstage/templates/README.md): where they open pull requests, and their links.
        scaffolder: { defaultEnvironment: { parameters: { ...s.templates } } },
        proxy: {
            endpoints: {
                // Reads only: the proxy adds the service's token for whoever is signed in, so a write
                // through it would be any user acting as the portal. Writes go through the
                // scaffolder's typed cost-tracker action, which checks the user's team first.
                [PROXY_ENDPOINTS.costTracker]: {
                    target: s.proxy.costTracker,
                    credentials: "require",
                    headers: { Authorization: `Bearer \${${ENV.costTracker.token}}` },
                    allowedMethods: ["GET"],
                },
                [PROXY_ENDPOINTS.argoCd]: {
                    target: s.proxy.argoCd,
                    ...readOnly,
                    ...(s.argoCdTokenVersion ? { headers: { Cookie: `argocd.token=\${${ENV.argoCd.token}}` } } : {}),
                },
            },
        },
    };
}
