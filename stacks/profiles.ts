import { gpuOf } from "../catalog";
import { NodePoolConfig, ParsedPlatformConfig, GpuSharing } from "./schema";
import type { InferencePipelineConfig } from "./inference-pipelines";
import type { TeamQuota } from "../components/tenancy/team-namespace";
import { PriorityClassConfig, TeamConfig, priorityClassesOr, sharedGpusOfferedByPools } from "./tenancy";

/**
 * Environment profiles: the defaults each environment starts from. A stack's own config
 * overrides any of them; dev and prod differ only through these and their Pulumi.<stack>.yaml.
 */
export const PROFILES = {
    dev: {
        availabilityZones: 2,
        natGateways: "single",
        flowLogs: false,
        endpointAccess: "public-and-private",
        protectData: false,
        logRetentionDays: 14,
        // An out-of-support dev cluster is upgraded by EKS rather than billed at the extended rate.
        supportType: "STANDARD",
    },
    prod: {
        availabilityZones: 3,
        natGateways: "one-per-az",
        flowLogs: true,
        endpointAccess: "private",
        protectData: true,
        logRetentionDays: 90,
        // Prod is never upgraded behind the platform team's back; the cost estimate shows the extended rate if it lapses.
        supportType: "EXTENDED",
    },
} as const;

export type Environment = keyof typeof PROFILES;

/** Root volume defaults: GPU images (CUDA, PyTorch) and model caches need far more room than CPU nodes. */
const DEFAULT_DISK_GIB = { cpu: 50, gpu: 200 } as const;

export interface ResolvedNodePool extends Required<Omit<NodePoolConfig, "capacityReservationId" | "gpuSharing">> {
    readonly name: string;
    readonly capacityReservationId?: string;
    /** CPU pools have no GPU sharing. */
    readonly gpuSharing?: GpuSharing;
}

/** A team with its MIG and shared-GPU quotas resolved; other unset quota values take TeamNamespace's defaults. */
export interface ResolvedTeam extends Omit<TeamConfig, "quota"> {
    readonly quota: TeamQuota & { mig: Record<string, number> };
}

/** The validated stack config with every default applied: what components receive. */
export interface PlatformConfig {
    readonly project: string;
    readonly stack: string;
    readonly environment: Environment;
    readonly region: string;
    readonly protectData: boolean;
    readonly logRetentionDays: number;
    readonly network: { cidr: string; availabilityZones: number; natGateways: "single" | "one-per-az"; flowLogs: boolean };
    readonly cluster: {
        kubernetesVersion: string;
        endpointAccess: "public-and-private" | "private";
        publicAccessCidrs: string[];
        adminRoleArns: string[];
        supportType: "STANDARD" | "EXTENDED";
    };
    readonly nodePools: ResolvedNodePool[];
    readonly teams: ResolvedTeam[];
    /** Priority classes and the most GPUs one pod of each may request. */
    readonly priorityClasses: PriorityClassConfig[];
    /** Inference pipelines; unset settings take the component's defaults (components/inference/settings.ts). */
    readonly inferencePipelines: InferencePipelineConfig[];
    /** Default tags for every AWS resource, `environment` included. */
    readonly tags: Record<string, string>;
}

export function applyProfile(parsed: ParsedPlatformConfig, project: string, stack: string): PlatformConfig {
    const profile = PROFILES[parsed.environment];
    return {
        project,
        stack,
        environment: parsed.environment,
        region: parsed.region,
        protectData: profile.protectData,
        logRetentionDays: profile.logRetentionDays,
        network: {
            cidr: parsed.network.cidr,
            availabilityZones: parsed.network.availabilityZones ?? profile.availabilityZones,
            natGateways: parsed.network.natGateways ?? profile.natGateways,
            flowLogs: parsed.network.flowLogs ?? profile.flowLogs,
        },
        cluster: {
            kubernetesVersion: parsed.cluster.kubernetesVersion,
            endpointAccess: parsed.cluster.endpointAccess ?? profile.endpointAccess,
            publicAccessCidrs: parsed.cluster.publicAccessCidrs ?? [],
            adminRoleArns: parsed.cluster.adminRoleArns,
            supportType: profile.supportType,
        },
        nodePools: Object.entries(parsed.nodePools).map(([name, pool]) => resolveNodePool(name, pool)),
        teams: parsed.teams.map((team) => resolveTeam(team, sharedGpusOfferedByPools(parsed.nodePools))),
        priorityClasses: priorityClassesOr(parsed.priorityClasses),
        inferencePipelines: parsed.inferencePipelines,
        tags: { ...parsed.tags, environment: parsed.environment },
    };
}

function resolveNodePool(name: string, pool: NodePoolConfig): ResolvedNodePool {
    const hasGpu = gpuOf(pool.instanceType) !== undefined;
    return {
        name,
        instanceType: pool.instanceType,
        minSize: pool.minSize ?? (hasGpu ? 0 : 1),
        maxSize: pool.maxSize,
        capacityType: pool.capacityType,
        diskSizeGiB: pool.diskSizeGiB ?? (hasGpu ? DEFAULT_DISK_GIB.gpu : DEFAULT_DISK_GIB.cpu),
        diskType: pool.diskType,
        capacityReservationId: pool.capacityReservationId,
        gpuSharing: hasGpu ? (pool.gpuSharing ?? { mode: "exclusive" }) : undefined,
    };
}

/**
 * A team may hold, of each MIG profile and of time-sliced replicas, as many as one node of its
 * pool offers, unless its quota says otherwise: a quota that left such a resource out would let
 * the team take all of it.
 */
function resolveTeam(team: TeamConfig, offered: { mig: Record<string, number>; sharedGpus?: number }): ResolvedTeam {
    return {
        ...team,
        quota: { ...team.quota, sharedGpus: team.quota?.sharedGpus ?? offered.sharedGpus, mig: { ...offered.mig, ...team.quota?.mig } },
    };
}
