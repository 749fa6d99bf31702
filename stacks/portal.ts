import { z } from "zod";
import type { SettingProblem } from "../components/shared/problems";
import {
    BACKSTAGE_DEMO_IMAGE,
    GITOPS_DEFAULTS,
    backstageArgsProblems,
    gitOpsArgsProblems,
    ingressProblems,
    scaffolderRepoUrl,
} from "../components/portal";
import type { PortalIngressSettings } from "../components/portal";
import { whole } from "./fields";
import type { TeamConfig } from "./tenancy";

/**
 * The portal layer's stack-config keys: `portal` (Backstage, and the settings the layer
 * shares), `gitops` (Argo CD, the team projects and the app of apps) and `mlflow`. A key left
 * out installs nothing of its part; `enabled: false` switches a part off and keeps its settings.
 * Whatever part is on brings the AWS Load Balancer Controller and the External Secrets Operator.
 */

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@!-]+$/;
const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/;
const DNS_NAME = /^(?=.{1,200}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/;

const secretArn = z.string().regex(SECRET_ARN, {
    message: "must be a Secrets Manager secret ARN, arn:aws:secretsmanager:<region>:<account>:secret:<name>",
});
const enabled = z.boolean().optional();

const ingressSchema = z
    .object({
        /** "internal" (default) or "internet-facing" (needs allowedCidrs). */
        scheme: z.enum(["internal", "internet-facing"]).optional(),
        /** Source CIDRs the ALB admits; required with internet-facing. */
        allowedCidrs: z.array(z.string()).optional(),
        /** ACM certificate for HTTPS; unset, the ALB serves HTTP inside the VPC. */
        certificateArn: z
            .string()
            .regex(ACM_ARN, {
                message: "must be an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id>",
            })
            .optional(),
    })
    .strict();

export const portalSchema = z
    .object({
        /** Backstage. Default true. The shared settings below serve Argo CD and MLflow whatever this says. */
        enabled,
        /** DNS domain of the portal's hosts: backstage.<domain>, argocd.<domain>, mlflow.<domain>. */
        domain: z.string().regex(DNS_NAME, { message: "must be a DNS domain such as portal.example.internal" }),
        /** The shared ALB: internal unless said otherwise. */
        ingress: ingressSchema.optional(),
        /** The portal's own PostgreSQL instance, holding Backstage's and MLflow's databases. */
        database: z
            .object({
                /** RDS instance class. Default db.t4g.micro in dev, db.t4g.small (Multi-AZ) in prod. */
                instanceClass: z
                    .string()
                    .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, {
                        message: "must be an RDS instance class such as db.t4g.small",
                    })
                    .optional(),
                /** gp3 storage in GiB, 20 to 1000. Default 20. */
                allocatedStorageGiB: whole
                    .min(20, { message: "must be at least 20 (gp3's smallest)" })
                    .max(1000, { message: "must be at most 1000" })
                    .optional(),
            })
            .strict()
            .optional(),
        backstage: z
            .object({
                /** The platform's Backstage image, pinned; required in prod (the chart's default is a demo). */
                image: z.string().optional(),
                /** Pods. Default 1 in dev, 2 in prod. */
                replicas: whole.min(1, { message: "must be at least 1" }).optional(),
                /** Catalog location of this repository's templates: https://github.com/<org>/<repo>/blob/<branch>/backstage/templates/*.yaml */
                templatesUrl: z.string(),
                /** Secrets Manager secret {"token"}: reads the templates, opens pull requests on the GitOps repository. */
                githubTokenSecretArn: secretArn,
                /** Secrets Manager secret {"token"}: the API token of Argo CD's read-only `backstage` account. Default none. */
                argocdTokenSecretArn: secretArn.optional(),
            })
            .strict(),
    })
    .strict();

const oidcSchema = z
    .object({
        provider: z.literal("oidc"),
        name: z.string().optional(),
        issuer: z.string().regex(/^https:\/\/\S+$/, { message: "must be the identity provider's https issuer URL" }),
        clientId: z.string().min(1),
        /** Secrets Manager secret {"clientSecret"}. */
        clientSecretArn: secretArn,
        scopes: z.array(z.string()).optional(),
    })
    .strict();

const dexSchema = z
    .object({
        provider: z.literal("dex"),
        /** Dex connectors: type, id, name, config (without clientSecret). */
        connectors: z.array(
            z
                .object({
                    type: z.string(),
                    id: z.string(),
                    name: z.string(),
                    config: z.record(z.string(), z.unknown()).optional(),
                })
                .strict(),
        ),
        /** Secrets Manager secret {"clientSecret"}. */
        clientSecretArn: secretArn,
    })
    .strict();

export const gitopsSchema = z
    .object({
        /** Argo CD, the team projects and the app of apps. Default true. */
        enabled,
        /** The GitOps repository the templates write to, e.g. https://github.com/acme/gpu-platform-gitops.git */
        repoUrl: z.string(),
        /** Directory of the Applications the root application syncs. Default "apps". */
        path: z.string().optional(),
        /** Branch, tag or commit. Default "main". */
        targetRevision: z.string().optional(),
        /** Secrets Manager secret with the repository credentials ({"username", "password"} or a GitHub App's fields). */
        credentialsSecretArn: secretArn,
        /** Single sign-on; required in prod, where the local admin is disabled. */
        sso: z
            .discriminatedUnion("provider", [oidcSchema, dexSchema], { error: 'must set provider to "oidc" or "dex"' })
            .optional(),
        /** SSO groups with Argo CD's admin role. Default none. */
        adminGroups: z.array(z.string().min(1)).optional(),
        /** Each team's SSO group, by team name. Default the team's name. */
        teamGroups: z.record(z.string(), z.string().min(1)).optional(),
    })
    .strict();

export const mlflowSchema = z
    .object({
        /** MLflow. Default true. */
        enabled,
        /** Server pods. Default 1 in dev, 2 in prod. */
        replicas: whole.min(1, { message: "must be at least 1" }).optional(),
    })
    .strict();

export type PortalKeyConfig = z.output<typeof portalSchema>;
export type GitopsKeyConfig = z.output<typeof gitopsSchema>;
export type MlflowKeyConfig = z.output<typeof mlflowSchema>;

/** The portal layer's keys as far as they parsed: the fields that passed their own checks. */
export interface PortalSections {
    portal?: Partial<Omit<PortalKeyConfig, "backstage">> & { backstage?: Partial<PortalKeyConfig["backstage"]> };
    gitops?: Partial<GitopsKeyConfig>;
    mlflow?: Partial<MlflowKeyConfig>;
}

/**
 * Parses each field of the portal layer's keys on its own (and each of `portal.backstage`'s), so
 * a bad field does not hide the rules across the others.
 */
export function parsePortalSections(raw: Record<string, unknown>): PortalSections {
    return {
        portal: fieldWise(portalSchema, raw.portal),
        gitops: fieldWise(gitopsSchema, raw.gitops),
        mlflow: fieldWise(mlflowSchema, raw.mlflow),
    };
}

function fieldWise(schema: z.ZodObject, value: unknown): Record<string, unknown> | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    const fields: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(schema.shape) as [string, z.ZodType][]) {
        const inner = field instanceof z.ZodOptional ? field.unwrap() : field;
        const given = (value as Record<string, unknown>)[key];
        const parsed =
            inner instanceof z.ZodObject && given !== undefined
                ? { success: true, data: fieldWise(inner, given) }
                : field.safeParse(given);
        if (parsed.success && parsed.data !== undefined) fields[key] = parsed.data;
    }
    return fields;
}

/** The portal layer as platform.ts builds it: only the parts that are on, every default applied. */
export interface PortalLayerConfig {
    readonly domain: string;
    readonly ingress: PortalIngressSettings;
    /** Argo CD HA, Backstage and MLflow replicas: the environment's. */
    readonly highAvailability: boolean;
    /** The portal's PostgreSQL instance: Multi-AZ with `highAvailability`. */
    readonly database: {
        readonly instanceClass: string;
        readonly allocatedStorageGiB: number;
        readonly backupRetentionDays: number;
    };
    readonly backstage?: {
        readonly image?: string;
        readonly replicas: number;
        readonly templatesUrl: string;
        readonly githubTokenSecretArn: string;
        readonly argocdTokenSecretArn?: string;
    };
    readonly gitops?: {
        readonly repoUrl: string;
        readonly path: string;
        readonly targetRevision: string;
        readonly credentialsSecretArn: string;
        readonly sso?: z.output<typeof gitopsSchema>["sso"];
        readonly adminEnabled: boolean;
        readonly adminGroups: string[];
        /** Each team and its SSO group. */
        readonly teams: { name: string; group: string }[];
    };
    readonly mlflow?: { readonly replicas: number };
}

/** What an environment's profile (stacks/profiles.ts) says of the portal layer. */
export interface PortalProfile {
    /** Argo CD HA, Multi-AZ database. */
    readonly highAvailability: boolean;
    /** The portal database's instance class and how long its backups are kept. */
    readonly database: { readonly instanceClass: string; readonly backupRetentionDays: number };
    readonly replicas: number;
    /** Keep Argo CD's local admin; without it, SSO is required. */
    readonly argoCdLocalAdmin: boolean;
    /** Run Backstage's demo image (with a warning) when no image is set; without it, the image is required. */
    readonly backstageDemoImage: boolean;
}

const isOn = (key: { enabled?: boolean } | undefined): boolean => key !== undefined && key.enabled !== false;

/** The portal layer of a parsed config, or undefined when no part of it is on. */
export function resolvePortalLayer(
    parsed: { portal?: PortalKeyConfig; gitops?: GitopsKeyConfig; mlflow?: MlflowKeyConfig; teams: TeamConfig[] },
    profile: PortalProfile,
): PortalLayerConfig | undefined {
    const { portal, gitops, mlflow } = parsed;
    if (!portal || !(isOn(portal) || isOn(gitops) || isOn(mlflow))) return undefined;
    const replicas = profile.replicas;
    return {
        domain: portal.domain,
        ingress: { ...portal.ingress },
        highAvailability: profile.highAvailability,
        database: {
            instanceClass: portal.database?.instanceClass ?? profile.database.instanceClass,
            allocatedStorageGiB: portal.database?.allocatedStorageGiB ?? 20,
            backupRetentionDays: profile.database.backupRetentionDays,
        },
        backstage: isOn(portal) ? { ...portal.backstage, replicas: portal.backstage.replicas ?? replicas } : undefined,
        gitops:
            gitops && isOn(gitops)
                ? {
                      repoUrl: gitops.repoUrl,
                      path: gitops.path ?? GITOPS_DEFAULTS.path,
                      targetRevision: gitops.targetRevision ?? GITOPS_DEFAULTS.targetRevision,
                      credentialsSecretArn: gitops.credentialsSecretArn,
                      sso: gitops.sso,
                      adminEnabled: profile.argoCdLocalAdmin,
                      adminGroups: gitops.adminGroups ?? [],
                      teams: parsed.teams.map((team) => ({
                          name: team.name,
                          group: gitops.teamGroups?.[team.name] ?? team.name,
                      })),
                  }
                : undefined,
        mlflow: mlflow && isOn(mlflow) ? { replicas: mlflow.replicas ?? replicas } : undefined,
    };
}

/**
 * Rules across the portal layer's keys, the teams and the environment: what needs the `portal`
 * key's shared settings, Backstage's need of Argo CD and MLflow, prod's image and SSO, names
 * the layer takes for itself.
 */
export function portalLayerProblems(
    config: PortalSections & { teams?: Array<{ name: string } | undefined>; costTracker?: { enabled?: boolean } },
    profile: PortalProfile | undefined,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key, message });
    const { portal, gitops, mlflow } = config;
    const teams = (config.teams ?? []).flatMap((t) => (t ? [t.name] : []));

    for (const [key, part] of [
        ["gitops", gitops],
        ["mlflow", mlflow],
    ] as const) {
        if (isOn(part) && !portal)
            add(
                key,
                "needs the portal key, whose domain, ingress and database settings the portal layer shares; add it (portal.enabled: false keeps Backstage off)",
            );
    }
    if (portal) problems.push(...ingressProblems("portal.ingress.", portal.ingress ?? {}));
    if (isOn(portal)) {
        if (!isOn(gitops))
            add(
                "portal.enabled",
                "Backstage's templates deliver workloads through Argo CD: configure and enable gitops, or set portal.enabled: false",
            );
        else if (
            gitops!.repoUrl !== undefined &&
            gitOpsArgsProblems({ repoUrl: gitops!.repoUrl, teams: [] }).length === 0 &&
            !scaffolderRepoUrl(gitops!.repoUrl)
        ) {
            add(
                "gitops.repoUrl",
                `must name an owner and a repository (https://<host>/<owner>/<repo>.git or git@<host>:<owner>/<repo>.git): Backstage's templates open pull requests on it (found "${gitops!.repoUrl}")`,
            );
        }
        if (!isOn(mlflow))
            add(
                "portal.enabled",
                "Backstage's templates serve models from MLflow's registry: configure and enable mlflow, or set portal.enabled: false",
            );
        if (config.costTracker?.enabled === false)
            add(
                "portal.enabled",
                "Backstage's templates ask the cost tracker before they deploy: keep costTracker enabled, or set portal.enabled: false",
            );
        const backstage = portal!.backstage ?? {};
        if (profile?.backstageDemoImage === false && backstage.image === undefined) {
            add(
                "portal.backstage.image",
                `is required in prod: the chart's default ${BACKSTAGE_DEMO_IMAGE} is a demo without the plugins the GPU templates need ` +
                    "(dev runs it with a warning); build the platform's image (docs/portal.md) and set it here",
            );
        }
        // A missing templatesUrl is reported by its shape check.
        for (const p of backstageArgsProblems({ image: backstage.image, templatesUrl: backstage.templatesUrl ?? "" })) {
            if (p.key !== "templatesUrl" || backstage.templatesUrl !== undefined)
                add(`portal.backstage.${p.key}`, p.message);
        }
    }
    if (gitops && isOn(gitops)) {
        if (gitops.repoUrl !== undefined)
            for (const p of gitOpsArgsProblems({ repoUrl: gitops.repoUrl, path: gitops.path, teams: [] }))
                add(`gitops.${p.key}`, p.message);
        if (profile?.argoCdLocalAdmin === false && !gitops.sso)
            add(
                "gitops.sso",
                "is required in prod: Argo CD's local admin is disabled there, so nobody could log in without it",
            );
        for (const team of Object.keys(gitops.teamGroups ?? {})) {
            if (!teams.includes(team))
                add(
                    `gitops.teamGroups.${team}`,
                    `"${team}" is not a team; defined teams: ${teams.join(", ") || "none"}`,
                );
        }
        const reserved = [GITOPS_DEFAULTS.rootProject, "default"];
        config.teams?.forEach((team, i) => {
            if (team && reserved.includes(team.name))
                add(
                    `teams[${i}].name`,
                    `"${team.name}" is an Argo CD project the platform keeps for itself; choose another name`,
                );
        });
        if (gitops.sso?.provider === "dex") {
            gitops.sso.connectors.forEach((connector, i) => {
                if (connector.config && "clientSecret" in connector.config) {
                    add(
                        `gitops.sso.connectors[${i}].config.clientSecret`,
                        "must not be in stack config: it comes from clientSecretArn, through Secrets Manager",
                    );
                }
            });
        }
    }
    return problems;
}
