import {
    GPU_RESOURCE,
    MIG_RESOURCE_PREFIX,
    SHARED_GPU_RESOURCE,
    cpuMillis,
    gpuOf,
    isKnownInstanceType,
    memoryMiB,
} from "@gpu-platform/catalog";
import { poolNodes, poolPodRoom } from "../components/cluster";
import { PIPELINE_DEFAULTS, resolveGpuResource, workerResourceProblems } from "../components/inference";
import type { SettingProblem } from "../components/shared/problems";
import { quotaHard } from "../components/tenancy";
import type { PartialPipelineConfig } from "./inference-pipelines";
import type { NodePoolConfig, UnparsedNames } from "./schema";
import type { TeamConfig } from "./tenancy";

/**
 * Whether each pipeline's workers can run at all: a worker's CPU and memory must fit what one
 * node of its pool leaves for pods (catalog `podRoom`: the node's allocatable as EKS's AL2023 AMI
 * computes it, less the platform's DaemonSets), and its team's quota, which counts the workers
 * since they run in the team's namespace, must hold the workers that always run (minReplicas,
 * and at least one). Either failing, no worker would ever start, and nothing else would say so.
 */
export function pipelineFitProblems(
    pipelines: PartialPipelineConfig[],
    nodePools: Record<string, NodePoolConfig>,
    teams: Array<TeamConfig | undefined>,
    unparsed: UnparsedNames = { nodePools: [], priorityClasses: [] },
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const gpuPools = Object.entries(nodePools).filter(
        ([, pool]) => isKnownInstanceType(pool.instanceType) && gpuOf(pool.instanceType),
    );
    const gpuPoolResources = gpuPools.map(([name, pool]) => ({ nodeResources: poolNodes(name, pool).nodeResources }));

    pipelines.forEach((pipeline, i) => {
        const key = `inferencePipelines[${i}].`;
        const who = `pipeline "${pipeline.name ?? i}"'s worker`;
        const pool = pipeline.pool === undefined ? undefined : nodePools[pipeline.pool];
        // A missing, CPU or unparsed pool is reported by inferencePipelineProblems; the quantities are checked anyway.
        const usable =
            pool &&
            !unparsed.nodePools.includes(pipeline.pool!) &&
            isKnownInstanceType(pool.instanceType) &&
            gpuOf(pool.instanceType);
        const fit = workerResourceProblems(
            key,
            { name: pipeline.pool ?? "", podRoom: usable ? poolPodRoom(pool) : undefined },
            pipeline.cpu,
            pipeline.memory,
            who,
        );
        problems.push(...fit);
        if (!usable || fit.length > 0) return;

        const teamIndex = teams.findIndex((team) => team?.name === pipeline.team);
        const team = teams[teamIndex];
        // A resource the pool does not offer is reported by inferencePipelineProblems.
        const offered = poolNodes(pipeline.pool!, pool).nodeResources;
        const resource = resolveGpuResource(offered, pipeline.gpuResource);
        if (!team || !resource || !Object.hasOwn(offered, resource)) return;
        const workers = Math.max(1, pipeline.minReplicas ?? PIPELINE_DEFAULTS.minReplicas);
        const hard = quotaHard(team.quota ?? {}, gpuPoolResources);
        const asks = [
            {
                name: "CPU",
                quotaKey: "cpu",
                limit: hard["requests.cpu"],
                allowed: cpuMillis(hard["requests.cpu"]),
                each: cpuMillis(pipeline.cpu ?? PIPELINE_DEFAULTS.cpu)!,
                unit: "m",
            },
            {
                name: "memory",
                quotaKey: "memory",
                limit: hard["requests.memory"],
                allowed: memoryMiB(hard["requests.memory"]),
                each: memoryMiB(pipeline.memory ?? PIPELINE_DEFAULTS.memory)!,
                unit: "Mi",
            },
            {
                name: resource,
                quotaKey: quotaKeyOf(resource),
                limit: hard[`requests.${resource}`],
                allowed: Number(hard[`requests.${resource}`]),
                each: pipeline.gpusPerWorker ?? PIPELINE_DEFAULTS.gpusPerWorker,
                unit: "",
            },
        ];
        for (const ask of asks) {
            const need = ask.each * workers;
            if (ask.allowed === undefined || Number.isNaN(ask.allowed) || need <= ask.allowed) continue;
            problems.push({
                key: `${key}team`,
                message:
                    `team "${team.name}"'s quota allows ${ask.limit} ${ask.name} in its namespace, where ${who} runs, but ${workers} worker${workers > 1 ? "s" : ""} ` +
                    `(minReplicas, at least one) need${workers > 1 ? "" : "s"} ${Math.ceil(need)}${ask.unit}: no worker could start; raise teams[${teamIndex}].quota.${ask.quotaKey}, or lower the pipeline's request`,
            });
        }
    });
    return problems;
}

/** The key under a team's `quota` that sets a resource's limit. */
function quotaKeyOf(resource: string): string {
    if (resource === GPU_RESOURCE) return "gpus";
    if (resource === SHARED_GPU_RESOURCE) return "sharedGpus";
    return resource.startsWith(MIG_RESOURCE_PREFIX) ? `mig.${resource.slice(MIG_RESOURCE_PREFIX.length)}` : resource;
}
