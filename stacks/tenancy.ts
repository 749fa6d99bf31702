import { z } from "zod";
import { DEFAULT_WORKLOAD_CLASSES, MIG_RESOURCE_PREFIX, isKnownInstanceType } from "../catalog";
import { poolNodes } from "../components/cluster";
import { CHARTS } from "../components/shared/charts";
import { dnsName, iamRoleArn, whole } from "./fields";
import type { SettingProblem } from "../components/shared/problems";
import type { NodePoolConfig } from "./schema";

/**
 * The `teams` and `priorityClasses` stack-config keys: who shares the cluster, how much of it
 * each team may hold at once, and the classes their workloads run under.
 */

const CPU_QUANTITY = /^\d+(\.\d+)?m?$/;
const MEMORY_QUANTITY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;

/** Namespaces the cluster or the platform's add-ons own; no team or pipeline may take one. */
export const RESERVED_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease", CHARTS.keda.namespace, CHARTS.gpuOperator.namespace];

/** Kubernetes forbids user priority classes above this value and names starting with "system-". */
const MAX_PRIORITY_VALUE = 1_000_000_000;

const quantity = (pattern: RegExp, example: string) =>
    z
        .union([z.number().positive({ message: "must be more than 0" }), z.string().regex(pattern, { message: `must be a Kubernetes quantity such as "${example}"` })])
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
        costCenter: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{1,31}$/, { message: "must be 2-32 letters, digits or '-', e.g. CC-1001" }),
        /** Monthly budget in USD. */
        monthlyBudgetUsd: z
            .number({ error: (issue) => (issue.input === undefined ? "is required: every team needs a monthly budget" : "must be a number of US dollars") })
            .positive({ message: "must be more than 0" }),
        /** IAM role whose members get edit access to the team's namespace. */
        iamRoleArn: iamRoleArn.optional(),
        /** What the team's namespace may request at once. */
        quota: teamQuotaSchema.optional(),
        /** Pod Security Standard the namespace enforces: "restricted" (default) or "baseline". */
        podSecurity: z.enum(["restricted", "baseline"]).optional(),
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
    return configured ?? DEFAULT_WORKLOAD_CLASSES.map(({ name, value, maxGpusPerPod, preempts, description }) => ({ name, value, maxGpusPerPod, preempts, description }));
}

/** The MIG profiles the cluster's pools make, in the order their layouts name them. */
function migProfilesMade(nodePools: Record<string, NodePoolConfig>): string[] {
    const resources = Object.entries(nodePools)
        .filter(([, pool]) => isKnownInstanceType(pool.instanceType))
        .flatMap(([name, pool]) => Object.keys(poolNodes(name, pool).nodeResources));
    return [...new Set(resources.filter((r) => r.startsWith(MIG_RESOURCE_PREFIX)).map((r) => r.slice(MIG_RESOURCE_PREFIX.length)))];
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
    const offered = nodePools ? migProfilesMade(nodePools) : undefined;
    teams.forEach((team, i) => {
        if (!team) return;
        const firstName = names.get(team.name);
        if (firstName !== undefined) add(`teams[${i}].name`, `duplicates teams[${firstName}].name "${team.name}"; team names must be unique`);
        else names.set(team.name, i);

        if (team.iamRoleArn) {
            const firstRole = roles.get(team.iamRoleArn);
            if (firstRole !== undefined) {
                add(`teams[${i}].iamRoleArn`, `is also teams[${firstRole}].iamRoleArn; EKS maps one role to one access entry: give each team its own role`);
            } else if (adminRoleArns.includes(team.iamRoleArn)) {
                add(`teams[${i}].iamRoleArn`, "is also in cluster.adminRoleArns; an admin role already has every namespace: give the team its own role");
            } else roles.set(team.iamRoleArn, i);
        }
        if (offered) {
            for (const profile of Object.keys(team.quota?.mig ?? {})) {
                if (offered.includes(profile)) continue;
                add(`teams[${i}].quota.mig.${profile}`, `no node pool makes ${profile} MIG slices; ${offered.length ? `pools make ${offered.join(", ")}` : "no pool uses MIG"}`);
            }
        }
    });

    const classNames = new Map<string, number>();
    (priorityClasses ?? []).forEach((pc, i) => {
        if (!pc) return;
        const first = classNames.get(pc.name);
        if (first !== undefined) add(`priorityClasses[${i}].name`, `duplicates priorityClasses[${first}].name "${pc.name}"; names must be unique`);
        else classNames.set(pc.name, i);
        if (pc.name.startsWith("system-")) add(`priorityClasses[${i}].name`, `"${pc.name}" starts with "system-", which Kubernetes reserves; choose another name`);
    });
    if (priorityClasses && priorityClasses.length === 0) add("priorityClasses", "is empty; define at least one class, or remove the key for the five defaults");
    return problems;
}

/**
 * Each team gets a namespace named after it (and its pipelines run there): none may take a
 * namespace the cluster or its add-ons own.
 */
export function namespaceProblems(teams: Array<{ name: string } | undefined>): SettingProblem[] {
    const problems: SettingProblem[] = [];
    teams.forEach((team, i) => {
        if (team && RESERVED_NAMESPACES.includes(team.name)) {
            problems.push({ key: `teams[${i}].name`, message: `"${team.name}" is a namespace the cluster or its add-ons own (${RESERVED_NAMESPACES.join(", ")}); choose another name` });
        }
    });
    return problems;
}
