import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { stringify } from "yaml";
import { CPU_NODE_SELECTOR } from "@gpu-platform/catalog";
import { CHARTS } from "../shared/charts";
import { HelmValues, mergeValues, pinnedRelease } from "../shared/helm";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";
import { ExternalSecrets, externalSecret } from "./external-secrets";
import { PortalIngressSettings, ingressProblems, portalIngress, portalUrl } from "./ingress";
import { portalNamespace } from "./namespace";

export const ARGOCD_TYPE = `${PACKAGE}:portal:ArgoCd`;

/** Names the chart gives Argo CD's objects with `fullnameOverride: argocd`. */
export const ARGOCD = {
    namespace: CHARTS.argoCd.namespace,
    serverService: "argocd-server",
    /** The Secret the SSO client secret is synced into; Argo CD reads `$argocd-sso:clientSecret` from it. */
    ssoSecret: "argocd-sso",
} as const;

/** Single sign-on: Argo CD's own OIDC client, or its bundled Dex with connectors. */
export type ArgoCdSso =
    | {
          provider: "oidc";
          /** Shown on the login button. Default `"SSO"`. */
          name?: string;
          /** The identity provider's issuer URL. */
          issuer: string;
          clientId: string;
          /** Secrets Manager secret holding `{"clientSecret": "…"}`; synced by the External Secrets Operator. */
          clientSecretArn: pulumi.Input<string>;
          /** Scopes requested; the groups claim feeds RBAC. Default `["openid", "profile", "email", "groups"]`. */
          scopes?: string[];
      }
    | {
          provider: "dex";
          /** Dex connectors (`type`, `id`, `name`, `config`), without `clientSecret`: the component points it at the synced secret. */
          connectors: DexConnector[];
          /** Secrets Manager secret holding `{"clientSecret": "…"}` for the connectors. */
          clientSecretArn: pulumi.Input<string>;
      };

export interface DexConnector {
    type: string;
    id: string;
    name: string;
    config?: Record<string, unknown>;
}

/** A team Argo CD knows: its AppProject is named after it, and its SSO group gets that project only. */
export interface ArgoCdTeam {
    name: string;
    /** The identity provider's group whose members act for the team. */
    group: string;
}

export interface ArgoCdArgs {
    /** Host name of the UI and API, e.g. `argocd.portal.example.internal`. */
    host: string;
    /** How the ALB is reached. Default internal, HTTP inside the VPC. */
    ingress?: PortalIngressSettings;
    /** The load balancer controller, whose webhook validates the Ingress: it must run first. */
    loadBalancerController: pulumi.Resource;
    /** The External Secrets Operator, which syncs the SSO client secret. Required with `sso`. */
    externalSecrets?: ExternalSecrets;
    /** Redis HA and two replicas of the server, repo server and ApplicationSet controller. Default false; the platform sets it in prod. */
    highAvailability?: boolean;
    /** Single sign-on. Default none (local admin only). */
    sso?: ArgoCdSso;
    /** The local `admin` user. Default true; must be false only with `sso`, or nobody could log in. */
    adminEnabled?: boolean;
    /** Teams and their SSO groups, for RBAC. Default none. */
    teams?: ArgoCdTeam[];
    /** SSO groups given Argo CD's `role:admin`. Default none. */
    adminGroups?: string[];
    /** Local accounts with an API key and read-only access, e.g. `backstage` for the portal's proxy. Default none. */
    readOnlyAccounts?: string[];
    /** Helm values merged over the component's, last. Default none. */
    values?: HelmValues;
}

/**
 * Argo CD (pinned `argo-cd` chart) with its CRDs, SSO, team RBAC and an internal ALB ingress.
 * The team AppProjects and the root Application are a separate release (`GitOps`), which needs
 * this release's CRDs first.
 *
 * ```ts
 * const argocd = new ArgoCd("gitops", {
 *     host: "argocd.portal.example.internal", loadBalancerController: lbc.release, externalSecrets: eso,
 *     highAvailability: true, adminEnabled: false,
 *     sso: { provider: "oidc", issuer: "https://login.example.com", clientId: "argocd", clientSecretArn },
 *     teams: [{ name: "ml-research", group: "ml-research" }],
 * }, { providers: { kubernetes: cluster.provider } });
 * ```
 *
 * - **RBAC:** nothing by default (`policy.default` empty); each team's group may view, sync and
 *   run actions on the applications of its own project only (`<team>/*`), and read its logs.
 *   Applications are created and changed through Git, not the UI.
 * - **TLS** ends at the ALB: the server runs with `server.insecure` and the Ingress sends plain
 *   HTTP to port 80 inside the VPC.
 * - **NetworkPolicies** (the chart's, on by default since 10.0.0) allow every source to reach
 *   argocd-server, so Backstage's proxy and the ALB reach it; repo server, Dex and Redis admit
 *   only Argo CD's own components.
 *
 * Cost: in HA, two server, two repo server, two ApplicationSet, three Redis and three HAProxy
 * pods beside the controller, all on the CPU pool; Redis HA's hard anti-affinity needs three
 * CPU nodes.
 */
export class ArgoCd extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly release: k8s.helm.v3.Release;
    public readonly ingress: k8s.networking.v1.Ingress;
    public readonly ssoSecret?: k8s.apiextensions.CustomResource;
    /** The URL users open (and SSO redirects to). */
    public readonly url: string;
    /** argocd-server inside the cluster, for the portal's proxy. */
    public readonly internalUrl = `http://${ARGOCD.serverService}.${ARGOCD.namespace}.svc`;

    constructor(name: string, args: ArgoCdArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("ArgoCd", name, argoCdArgsProblems(args));
        super(ARGOCD_TYPE, name, {}, opts);
        const ingress = args.ingress ?? {};
        this.url = portalUrl(args.host, ingress);
        this.namespace = portalNamespace(`${name}-namespace`, ARGOCD.namespace, { parent: this });
        if (args.sso) {
            this.ssoSecret = externalSecret(
                `${name}-sso-secret`,
                {
                    externalSecrets: args.externalSecrets!, // validated
                    namespace: ARGOCD.namespace,
                    secretName: ARGOCD.ssoSecret,
                    remoteSecret: args.sso.clientSecretArn,
                    properties: { clientSecret: "clientSecret" },
                    // Argo CD resolves `$<secret>:<key>` only in Secrets that carry this label.
                    labels: { "app.kubernetes.io/part-of": "argocd" },
                },
                { parent: this, dependsOn: [this.namespace] },
            );
        }
        this.release = pinnedRelease(
            `${name}-release`,
            CHARTS.argoCd,
            mergeValues(
                argoCdValues({
                    url: this.url,
                    host: args.host,
                    highAvailability: args.highAvailability ?? false,
                    sso: args.sso,
                    adminEnabled: args.adminEnabled ?? true,
                    teams: args.teams ?? [],
                    adminGroups: args.adminGroups ?? [],
                    readOnlyAccounts: args.readOnlyAccounts ?? [],
                }),
                args.values,
            ),
            { parent: this, dependsOn: [this.namespace, ...(this.ssoSecret ? [this.ssoSecret] : [])] },
        );
        this.ingress = portalIngress(
            `${name}-ingress`,
            {
                namespace: ARGOCD.namespace,
                host: args.host,
                serviceName: ARGOCD.serverService,
                servicePort: 80,
                healthCheckPath: "/healthz",
                settings: ingress,
            },
            { parent: this, dependsOn: [this.release, args.loadBalancerController] },
        );
        this.registerOutputs({ url: this.url, internalUrl: this.internalUrl });
    }
}

export function argoCdArgsProblems(
    args: Pick<ArgoCdArgs, "sso" | "adminEnabled" | "externalSecrets" | "teams" | "ingress">,
): SettingProblem[] {
    const problems: SettingProblem[] = [...ingressProblems("ingress.", args.ingress ?? {})];
    if (args.adminEnabled === false && !args.sso)
        problems.push({
            key: "adminEnabled",
            message: "is false but no sso is set: nobody could log in; configure sso or keep the admin user",
        });
    if (args.sso && !args.externalSecrets)
        problems.push({
            key: "externalSecrets",
            message: "is required with sso: the client secret is synced from Secrets Manager",
        });
    if (args.sso?.provider === "dex") {
        if (args.sso.connectors.length === 0)
            problems.push({ key: "sso.connectors", message: "is empty; Dex needs at least one connector" });
        args.sso.connectors.forEach((connector, i) => {
            if (connector.config && Object.hasOwn(connector.config, "clientSecret")) {
                problems.push({
                    key: `sso.connectors[${i}].config.clientSecret`,
                    message: "must not be set: the secret comes from clientSecretArn, through Secrets Manager",
                });
            }
        });
    }
    const seen = new Set<string>();
    (args.teams ?? []).forEach((team, i) => {
        if (seen.has(team.name)) problems.push({ key: `teams[${i}].name`, message: `"${team.name}" is listed twice` });
        seen.add(team.name);
        if (!team.group.trim())
            problems.push({
                key: `teams[${i}].group`,
                message: "is empty; name the SSO group whose members act for the team",
            });
    });
    return problems;
}

const SSO_SECRET_REF = `$${ARGOCD.ssoSecret}:clientSecret`;
const DEFAULT_OIDC_SCOPES = ["openid", "profile", "email", "groups"];

/** The chart values (argo-cd 10.1.1). */
export function argoCdValues(s: {
    url: string;
    host: string;
    highAvailability: boolean;
    sso?: ArgoCdSso;
    adminEnabled: boolean;
    teams: ArgoCdTeam[];
    adminGroups: string[];
    readOnlyAccounts: string[];
}): HelmValues {
    const replicas = s.highAvailability ? 2 : 1;
    const pdb = s.highAvailability ? { pdb: { enabled: true, minAvailable: 1 } } : {};
    const requests = (cpu: string, memory: string) => ({
        resources: { requests: { cpu, memory }, limits: { memory } },
    });
    const cm: HelmValues = { url: s.url, "admin.enabled": s.adminEnabled };
    if (s.sso?.provider === "oidc") {
        cm["oidc.config"] = stringify({
            name: s.sso.name ?? "SSO",
            issuer: s.sso.issuer,
            clientID: s.sso.clientId,
            clientSecret: SSO_SECRET_REF,
            requestedScopes: s.sso.scopes ?? DEFAULT_OIDC_SCOPES,
        });
    }
    if (s.sso?.provider === "dex") {
        cm["dex.config"] = stringify({
            connectors: s.sso.connectors.map((c) => ({ ...c, config: { ...c.config, clientSecret: SSO_SECRET_REF } })),
        });
    }
    for (const account of s.readOnlyAccounts) cm[`accounts.${account}`] = "apiKey";
    return {
        // Objects named argocd-server, argocd-repo-server, … whatever the release is called.
        fullnameOverride: "argocd",
        crds: { install: true, keep: true },
        global: { domain: s.host, nodeSelector: { ...CPU_NODE_SELECTOR }, networkPolicy: { create: true } },
        configs: {
            cm,
            params: { "server.insecure": true },
            rbac: {
                "policy.default": "",
                "policy.csv": argoCdPolicyCsv(s.teams, s.adminGroups, s.readOnlyAccounts),
                scopes: "[groups]",
            },
        },
        dex: { enabled: s.sso?.provider === "dex", ...requests("10m", "64Mi") },
        // Redis HA (subchart redis-ha): three Redis pods with Sentinel, behind three HAProxy pods, on three nodes (hard anti-affinity).
        "redis-ha": s.highAvailability
            ? {
                  enabled: true,
                  replicas: 3,
                  redis: requests("100m", "256Mi"),
                  sentinel: requests("20m", "64Mi"),
                  haproxy: { replicas: 3, ...requests("50m", "64Mi") },
              }
            : { enabled: false },
        redis: requests("50m", "128Mi"),
        controller: { replicas: 1, ...requests("250m", "1Gi") },
        server: { replicas, ...pdb, ...requests("50m", "128Mi") },
        repoServer: { replicas, ...pdb, ...requests("100m", "256Mi") },
        applicationSet: { replicas, ...requests("50m", "128Mi") },
    };
}

/**
 * Argo CD's RBAC (argocd-rbac-cm `policy.csv`): each team's group may see, sync and run actions
 * on its own project's applications and read their logs; admin groups get `role:admin`; read-only
 * accounts get `role:readonly`.
 */
export function argoCdPolicyCsv(teams: ArgoCdTeam[], adminGroups: string[], readOnlyAccounts: string[]): string {
    const lines: string[] = [];
    for (const { name, group } of teams) {
        const role = `role:team-${name}`;
        for (const action of ["get", "sync", "action/*"])
            lines.push(`p, ${role}, applications, ${action}, ${name}/*, allow`);
        lines.push(
            `p, ${role}, logs, get, ${name}/*, allow`,
            `p, ${role}, projects, get, ${name}, allow`,
            `g, ${group}, ${role}`,
        );
    }
    for (const group of adminGroups) lines.push(`g, ${group}, role:admin`);
    for (const account of readOnlyAccounts) lines.push(`g, ${account}, role:readonly`);
    return lines.join("\n") + (lines.length > 0 ? "\n" : "");
}
