import { CostTrackerProfile, CostTrackerStackConfig, resolveCostTracker } from "./cost-tracker";
import { DnsStackConfig, costTrackerHostName, resolveDns } from "./dns";
import type { InferencePipelineConfig } from "./inference-pipelines";
import { PortalLayerConfig, resolvePortalLayer } from "./portal";
import { SchedulingStackConfig, resolveScheduling } from "./scheduling";
import type { NodePoolConfig, ParsedPlatformConfig } from "./schema";
import { PriorityClassConfig, TeamConfig, priorityClassesOr } from "./tenancy";

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
        costTracker: {
            desiredCount: 1,
            maxCount: 2,
            metricsRetentionDays: 15,
            database: {
                instanceClass: "db.t4g.micro",
                allocatedStorageGiB: 20,
                backupRetentionDays: 7,
                multiAz: false,
            },
        } satisfies CostTrackerProfile,
        // The portal layer (stacks/portal.ts): one replica each, Argo CD's local admin kept.
        portal: {
            highAvailability: false,
            replicas: 1,
            argoCdLocalAdmin: true,
            database: { instanceClass: "db.t4g.micro", backupRetentionDays: 7 },
        },
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
        // Two tasks in two zones, a standby database.
        costTracker: {
            desiredCount: 2,
            maxCount: 4,
            metricsRetentionDays: 30,
            database: {
                instanceClass: "db.t4g.small",
                allocatedStorageGiB: 20,
                backupRetentionDays: 14,
                multiAz: true,
            },
        } satisfies CostTrackerProfile,
        portal: {
            highAvailability: true,
            replicas: 2,
            argoCdLocalAdmin: false,
            database: { instanceClass: "db.t4g.small", backupRetentionDays: 14 },
        },
    },
} as const;

export type Environment = keyof typeof PROFILES;

/**
 * The validated stack config, with the environment's profile applied: what platform.ts maps to
 * component arguments. Settings a stack leaves unset stay unset here; each component applies
 * its own default.
 */
export interface PlatformConfig {
    readonly project: string;
    readonly stack: string;
    readonly environment: Environment;
    readonly region: string;
    readonly protectData: boolean;
    readonly logRetentionDays: number;
    /** Create only what the AWS API makes: the first deploy of a private cluster, from outside its VPC (stacks/cluster.ts). */
    readonly bootstrap: boolean;
    readonly network: {
        cidr?: string;
        availabilityZones: number;
        natGateways: "single" | "one-per-az";
        flowLogs: boolean;
    };
    readonly cluster: {
        kubernetesVersion: string;
        endpointAccess: "public-and-private" | "private";
        publicAccessCidrs?: string[];
        adminRoleArns?: string[];
        previewRoleArns?: string[];
        creatorRoleArn?: string;
        deployRunner?: { repository: string; connectionArn?: string; workflows?: string[]; actorAccountIds?: string[] };
        apiAccess?: { securityGroupIds?: string[]; cidrs?: string[] };
        supportType: "STANDARD" | "EXTENDED";
    };
    /** Node pools in the order the stack file lists them. */
    readonly nodePools: Array<NodePoolConfig & { readonly name: string }>;
    readonly teams: TeamConfig[];
    /** Priority classes and the most GPUs one pod of each may request. */
    readonly priorityClasses: PriorityClassConfig[];
    /** Inference pipelines; unset settings take the component's defaults (components/inference/settings.ts). */
    readonly inferencePipelines: InferencePipelineConfig[];
    /** The cost tracker with the profile's defaults, or undefined when `costTracker.enabled` is false. */
    readonly costTracker?: CostTrackerStackConfig;
    /** Kueue, the queues and the budget gate; undefined when `scheduling.enabled` or the cost tracker is off. */
    readonly scheduling?: SchedulingStackConfig;
    /** Default tags for every AWS resource, `environment` included. */
    readonly tags: Record<string, string>;
    /** Backstage, Argo CD and MLflow, with what they share; undefined when none is on. */
    readonly portalLayer?: PortalLayerConfig;
    /** The Route 53 zone of the platform's host names (stacks/dns.ts); undefined without the `dns` key. */
    readonly dns?: DnsStackConfig;
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
        bootstrap: parsed.bootstrap ?? false,
        network: {
            cidr: parsed.network.cidr,
            availabilityZones: parsed.network.availabilityZones ?? profile.availabilityZones,
            natGateways: parsed.network.natGateways ?? profile.natGateways,
            flowLogs: parsed.network.flowLogs ?? profile.flowLogs,
        },
        cluster: {
            kubernetesVersion: parsed.cluster.kubernetesVersion,
            endpointAccess: parsed.cluster.endpointAccess ?? profile.endpointAccess,
            publicAccessCidrs: parsed.cluster.publicAccessCidrs,
            adminRoleArns: parsed.cluster.adminRoleArns,
            previewRoleArns: parsed.cluster.previewRoleArns,
            creatorRoleArn: parsed.cluster.creatorRoleArn,
            deployRunner: parsed.cluster.deployRunner,
            apiAccess: parsed.cluster.apiAccess,
            supportType: profile.supportType,
        },
        nodePools: Object.entries(parsed.nodePools).map(([name, pool]) => ({ name, ...pool })),
        teams: parsed.teams,
        priorityClasses: priorityClassesOr(parsed.priorityClasses),
        inferencePipelines: parsed.inferencePipelines,
        costTracker: resolveCostTracker(parsed.costTracker, profile.costTracker, costTrackerHostName(parsed)),
        scheduling: resolveScheduling(parsed.scheduling, parsed.costTracker?.enabled !== false),
        tags: { ...parsed.tags, environment: parsed.environment },
        portalLayer: resolvePortalLayer(parsed, profile.portal),
        dns: resolveDns(parsed.dns),
    };
}
