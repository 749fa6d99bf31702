import { z } from "zod";
import {
    DEFAULT_WORKLOAD_CLASSES,
    MIG_RESOURCE_PREFIX,
    RESERVED_NAMESPACE_PREFIXES,
    SYSTEM_NAMESPACES,
    isKnownInstanceType,
    isSystemNamespace,
} from "@gpu-platform/catalog";
import { poolNodes } from "../components/cluster";
import { CHARTS } from "../components/shared/charts";
import { dnsName, iamRoleArn, whole } from "./fields";
import { TENANCY_RULES } from "@gpu-platform/catalog/admission";
import type { SettingProblem } from "../components/shared/problems";
import type { NodePoolConfig } from "./schema";
import { PROTOTYPE_NAMES, prototypeNameProblem, someOf } from "./config-keys";

/**
 * The `teams` and `priorityClasses` stack-config keys: who shares the cluster, how much of it
 * each team may hold at once, and the classes their workloads run under.
 */

const CPU_QUANTITY = /^\d+(\.\d+)?m?$/;
const MEMORY_QUANTITY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;

/**
 * Namespaces the cluster, its system add-ons or the platform's charts own; no team or pipeline
 * may take one, nor a name with a reserved prefix (`kube-`): the policy pack exempts them from
 * the rules it holds teams to.
 */
export const RESERVED_NAMESPACES: readonly string[] = [
    ...new Set([...SYSTEM_NAMESPACES, ...Object.values(CHARTS).map((chart) => chart.namespace)]),
];

/**
 * A team's monthly budget, in US dollars: from $1 (less is a slip of units, and buys no hour of
 * the cheapest GPU in the catalog) to $10,000,000 (about 250 p5.48xlarge running all month, more
 * than two full pools of the largest nodes: a larger figure is a typo, not a budget), in whole
 * cents, as the cost tracker stores it (numeric(14, 2)).
 */
export const MONTHLY_BUDGET_USD = { min: 1, max: 10_000_000 } as const;

/** Kubernetes forbids user priority classes above this value and names starting with "system-". */
const MAX_PRIORITY_VALUE = 1_000_000_000;

const quantity = (pattern: RegExp, example: string) =>
    z
        .union([
            z.number().positive({ message: "must be more than 0" }),
            z.string().regex(pattern, { message: `must be a Kubernetes quantity such as "${example}"` }),
        ])
        .transform(String);

/** A team's quota; unset values take TeamNamespace's defaults (`TeamQuota` in components/tenancy/team-namespace.ts). */
export const teamQuotaSchema = z
    .object({
        /** CPU the team's pods may request in total, e.g. "64" or "500m". Default "64". */
        cpu: quantity(CPU_QUANTITY, "64").optional(),
        /** Memory the team's pods may request in total, e.g. "512Gi". Default "512Gi". */
        memory: quantity(MEMORY_QUANTITY, "512Gi").optional(),
        /** Whole GPUs (`nvidia.com/gpu`) requested at once. Default one node's worth of the pools of whole GPUs. */
        gpus: whole.min(0, { message: "must be 0 or more" }).optional(),
        /** Time-sliced replicas (`nvidia.com/gpu.shared`) requested at once. Default one node's worth of the time-sliced pools. */
        sharedGpus: whole.min(0, { message: "must be 0 or more" }).optional(),
        /** MIG slices requested at once, by profile, e.g. {"3g.40gb": 4}. Default one node's worth of each profile the pools make, 0 of others. */
        mig: z.record(z.string(), whole.min(0, { message: "must be 0 or more" })).optional(),
    })
    .strict();

export const teamSchema = z
    .object({
        /** Team name; becomes the namespace name. */
        name: dnsName(40),
        /** Finance cost center the team's spend is charged to. */
        costCenter: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9-]{1,31}$/, { message: "must be 2-32 letters, digits or '-', e.g. CC-1001" }),
        /** Monthly budget in USD, within MONTHLY_BUDGET_USD, in whole cents. */
        monthlyBudgetUsd: z
            .number({
                error: (issue) =>
                    issue.input === undefined
                        ? "is required: every team needs a monthly budget"
                        : "must be a number of US dollars",
            })
            .min(MONTHLY_BUDGET_USD.min, {
                message: `must be at least ${MONTHLY_BUDGET_USD.min} US dollar a month; less is a slip of units`,
                abort: true,
            })
            .max(MONTHLY_BUDGET_USD.max, {
                message: `must be at most ${MONTHLY_BUDGET_USD.max.toLocaleString("en-US")} US dollars a month (about 250 p5.48xlarge all month); more is a typo, not a budget`,
                abort: true,
            })
            .refine((usd) => Math.abs(usd * 100 - Math.round(usd * 100)) < 1e-6, {
                message: "must be in whole cents (at most two decimals), as the cost tracker stores it",
            }),
        /** IAM role whose members get edit access to the team's namespace. */
        iamRoleArn: iamRoleArn.optional(),
        /** What the team's namespace may request at once. */
        quota: teamQuotaSchema.optional(),
        /** Pod Security Standard the namespace enforces: "restricted" (default) or "baseline". */
        podSecurity: z.enum(["restricted", "baseline"]).optional(),
        /** Tenancy admission rules the namespace is exempt from: the platform team's exception (docs/tenancy.md). Default none. */
        admissionExemptions: z.array(z.enum(Object.values(TENANCY_RULES))).optional(),
    })
    .strict();

export const priorityClassSchema = z
    .object({
        /** The name pods set in `priorityClassName`. */
        name: dnsName(63),
        /** Scheduling priority; higher runs first and may preempt lower. */
        value: whole.min(0, { message: "must be 0 or more" }).max(MAX_PRIORITY_VALUE, {
            message: `must be at most ${MAX_PRIORITY_VALUE}; higher values are reserved for system classes`,
        }),
        /** Most GPUs (or MIG slices, or time-sliced replicas) one pod of this class may request. */
        maxGpusPerPod: whole.min(0, { message: "must be 0 or more" }),
        /** False: pods of this class wait for room instead of preempting lower classes. Default true. */
        preempts: z.boolean().optional(),
        /** What the class is for; shown by `kubectl get priorityclass`. */
        description: z.string().max(256).optional(),
    })
    .strict();

export type TeamConfig = z.output<typeof teamSchema>;
export type PriorityClassConfig = z.output<typeof priorityClassSchema>;

/** The classes a stack runs under: its `priorityClasses`, or the catalog's five. */
export function priorityClassesOr(configured: PriorityClassConfig[] | undefined): PriorityClassConfig[] {
    return (
        configured ??
        DEFAULT_WORKLOAD_CLASSES.map(({ name, value, maxGpusPerPod, preempts, description }) => ({
            name,
            value,
            maxGpusPerPod,
            preempts,
            description,
        }))
    );
}

/** The MIG profiles the cluster's pools make, in the order their layouts name them. */
function migProfilesMade(nodePools: Record<string, NodePoolConfig>): string[] {
    const resources = Object.entries(nodePools)
        .filter(([, pool]) => isKnownInstanceType(pool.instanceType))
        .flatMap(([name, pool]) => Object.keys(poolNodes(name, pool).nodeResources));
    return [
        ...new Set(
            resources.filter((r) => r.startsWith(MIG_RESOURCE_PREFIX)).map((r) => r.slice(MIG_RESOURCE_PREFIX.length)),
        ),
    ];
}

/**
 * Rules across teams, priority classes and pools: unique team names and roles (EKS allows one
 * access entry per principal), quotas only for MIG profiles some pool makes, and priority
 * classes Kubernetes accepts.
 */
export function tenancyProblems(
    teams: Array<TeamConfig | undefined>,
    priorityClasses: Array<PriorityClassConfig | undefined> | undefined,
    nodePools: Record<string, NodePoolConfig> | undefined,
    adminRoleArns: string[],
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key, message });

    const names = new Map<string, number>();
    const roles = new Map<string, number>();
    const adminRoles = new Set(adminRoleArns);
    const made = nodePools ? migProfilesMade(nodePools) : undefined;
    const offered = made && new Set(made);
    teams.forEach((team, i) => {
        if (!team) return;
        const firstName = names.get(team.name);
        if (firstName !== undefined)
            add(`teams[${i}].name`, `duplicates teams[${firstName}].name "${team.name}"; team names must be unique`);
        else names.set(team.name, i);

        if (team.iamRoleArn) {
            const firstRole = roles.get(team.iamRoleArn);
            if (firstRole !== undefined) {
                add(
                    `teams[${i}].iamRoleArn`,
                    `is also teams[${firstRole}].iamRoleArn; EKS maps one role to one access entry: give each team its own role`,
                );
            } else if (adminRoles.has(team.iamRoleArn)) {
                add(
                    `teams[${i}].iamRoleArn`,
                    "is also in cluster.adminRoleArns; an admin role already has every namespace: give the team its own role",
                );
            } else roles.set(team.iamRoleArn, i);
        }
        if (offered && made) {
            for (const profile of Object.keys(team.quota?.mig ?? {})) {
                if (offered.has(profile)) continue;
                add(
                    `teams[${i}].quota.mig.${profile}`,
                    `no node pool makes ${profile} MIG slices; ${made.length ? `pools make ${someOf(made)}` : "no pool uses MIG"}`,
                );
            }
        }
    });

    const classNames = new Map<string, number>();
    (priorityClasses ?? []).forEach((pc, i) => {
        if (!pc) return;
        const first = classNames.get(pc.name);
        if (first !== undefined)
            add(
                `priorityClasses[${i}].name`,
                `duplicates priorityClasses[${first}].name "${pc.name}"; names must be unique`,
            );
        else classNames.set(pc.name, i);
        if (pc.name.startsWith("system-"))
            add(
                `priorityClasses[${i}].name`,
                `"${pc.name}" starts with "system-", which Kubernetes reserves; choose another name`,
            );
        if (PROTOTYPE_NAMES.has(pc.name)) problems.push(prototypeNameProblem(`priorityClasses[${i}].name`, pc.name));
    });
    if (priorityClasses && priorityClasses.length === 0)
        add("priorityClasses", "is empty; define at least one class, or remove the key for the five defaults");
    return problems;
}

/**
 * Each team gets a namespace named after it (and its pipelines run there): none may take a
 * namespace the cluster or its add-ons own, nor a name every JavaScript object already has.
 */
export function namespaceProblems(
    teams: Array<{ name: string } | undefined>,
    pipelines: Array<{ name?: string }> = [],
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const checkNamespace = (key: string, name: string) => {
        if (RESERVED_NAMESPACES.includes(name) || isSystemNamespace(name)) {
            problems.push({
                key,
                message: `"${name}" is a namespace the cluster or its add-ons own (${RESERVED_NAMESPACES.join(", ")}, openshift, or any starting with ${RESERVED_NAMESPACE_PREFIXES.join(", ")}); choose another name`,
            });
        }
    };
    teams.forEach((team, i) => {
        if (!team) return;
        checkNamespace(`teams[${i}].name`, team.name);
        if (PROTOTYPE_NAMES.has(team.name)) problems.push(prototypeNameProblem(`teams[${i}].name`, team.name));
    });
    // Pipelines run in their team's namespace; their names still key maps of the stack's outputs.
    pipelines.forEach((pipeline, i) => {
        if (pipeline.name !== undefined && PROTOTYPE_NAMES.has(pipeline.name))
            problems.push(prototypeNameProblem(`inferencePipelines[${i}].name`, pipeline.name));
    });
    return problems;
}
