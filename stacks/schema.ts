import { z } from "zod";
import { dnsName, iamRoleArn, whole } from "./fields";
import { EKS_VERSIONS, gpuOf, isKnownInstanceType } from "../catalog";
import { endpointAccessProblems, nodePoolProblems, poolMinSize } from "../components/cluster";
import type { GpuSharing } from "../components/gpu";
import { isIpv4Cidr } from "../components/shared/cidr";
import type { SettingProblem } from "../components/shared/problems";
import { PROFILES } from "./profiles";
import { costTrackerProblems, costTrackerSchema } from "./cost-tracker";
import { inferencePipelineProblems, inferencePipelineSchema, parsePipelineEntries, PartialPipelineConfig } from "./inference-pipelines";
import { PriorityClassConfig, TeamConfig, namespaceProblems, priorityClassSchema, priorityClassesOr, teamSchema, tenancyProblems } from "./tenancy";

/**
 * The typed stack config. Every key the program reads is declared in Pulumi.yaml and checked
 * here; `validatePlatformConfig` reports every problem at once, each naming its key.
 *
 * Shapes are checked by zod; rules that span fields (min ≤ max, MIG layouts against the
 * catalog, duplicate teams) are checked in `crossFieldProblems` below.
 */

export { isIpv4Cidr };

const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const TAG_KEY = /^[\w.:/=+\-@ ]{1,128}$/;

const cidr = z.string().refine(isIpv4Cidr, { message: "must be an IPv4 CIDR with no host bits set, e.g. 10.0.0.0/16", abort: true });
const count = whole;

export const networkSchema = z
    .object({
        /** The VPC's IPv4 range, /16 to /20: pods take VPC addresses, so smaller ranges run out. */
        cidr: cidr
            .refine((value) => Number(value.split("/")[1]) >= 16 && Number(value.split("/")[1]) <= 20, {
                message: "must have a prefix from /16 to /20: pods take VPC addresses, so smaller ranges run out",
            })
            .optional(),
        /** Availability zones to spread subnets over (2 or more; EKS needs two). */
        availabilityZones: count.min(2, { message: "must be at least 2: EKS needs subnets in two zones" }).max(6).optional(),
        /** "single": one NAT gateway for the VPC (cheap); "one-per-az": zone-redundant egress. */
        natGateways: z.enum(["single", "one-per-az"]).optional(),
        /** VPC flow logs to CloudWatch Logs. */
        flowLogs: z.boolean().optional(),
    })
    .strict();

export const clusterSchema = z
    .object({
        /** EKS Kubernetes minor version, e.g. "1.35"; one of catalog/services.ts EKS_VERSIONS. */
        kubernetesVersion: z.string().refine((v) => v in EKS_VERSIONS, {
            message: `must be a Kubernetes version EKS offers: ${Object.keys(EKS_VERSIONS).join(", ")}`,
        }),
        /** "public-and-private": API reachable from publicAccessCidrs and inside the VPC; "private": VPC only. */
        endpointAccess: z.enum(["public-and-private", "private"]).optional(),
        /** CIDRs allowed to reach the public API endpoint (only with public-and-private access). */
        publicAccessCidrs: z.array(cidr).optional(),
        /** IAM roles granted cluster-admin through EKS access entries. */
        adminRoleArns: z.array(iamRoleArn).optional(),
    })
    .strict();

const timeSlicing = z
    .object({
        mode: z.literal("time-slicing"),
        /** Pods that share each GPU, 2 to 16 (checked in nodePoolProblems). */
        replicas: count.default(3),
    })
    .strict();

const mig = z
    .object({
        mode: z.literal("mig"),
        /** MIG instances carved out of every GPU on the node, by profile name, e.g. {"3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2}. */
        layout: z.record(z.string(), count.min(1, { message: "must be at least 1" })),
    })
    .strict();

const exclusive = z.object({ mode: z.literal("exclusive") }).strict();

// `satisfies`: what the config parses to is what NodePool takes; a change to either that breaks this fails the type check.
export const gpuSharingSchema = z.discriminatedUnion("mode", [exclusive, timeSlicing, mig], {
    error: 'must set mode to "exclusive", "time-slicing" or "mig"',
}) satisfies z.ZodType<GpuSharing>;

export const nodePoolSchema = z
    .object({
        /** EC2 instance type; must be in the catalog (catalog/instances.ts). */
        instanceType: z.string(),
        /** Fewest nodes; GPU pools default to 0 so idle GPUs cost nothing. */
        minSize: count.min(0, { message: "must be 0 or more" }).optional(),
        /** Most nodes the autoscaler may run. */
        maxSize: count.min(1, { message: "must be at least 1" }).max(100, { message: "must be at most 100" }),
        /** "on-demand" or "spot". */
        capacityType: z.enum(["on-demand", "spot"]).optional(),
        /** Root volume size in GiB; GPU images and model caches need room. */
        diskSizeGiB: count.min(20, { message: "must be at least 20" }).max(16384).optional(),
        /** Root volume type. */
        diskType: z.enum(["gp3", "gp2", "io2"]).optional(),
        /** How pods share each GPU; GPU pools only. Default exclusive (one pod per GPU). */
        gpuSharing: gpuSharingSchema.optional(),
        /** An EC2 capacity reservation (ODCR or Capacity Block) to launch into; on-demand pools only. */
        capacityReservationId: z.string().regex(/^cr-[0-9a-f]{8,17}$/, { message: "must be a capacity reservation id, cr-…" }).optional(),
    })
    .strict();

export const platformConfigSchema = z
    .object({
        /** Environment name; picks the profile of defaults in stacks/profiles.ts. */
        environment: z.enum(["dev", "prod"]),
        /** AWS region to deploy to. */
        region: z.string().regex(AWS_REGION, { message: "must be an AWS region such as us-east-1" }),
        network: networkSchema.default({}),
        cluster: clusterSchema,
        nodePools: z.record(dnsName(20), nodePoolSchema).refine((pools) => Object.keys(pools).length > 0, {
            message: "must define at least one node pool",
        }),
        teams: z.array(teamSchema).default([]),
        /** Priority classes and their per-pod GPU limits (stacks/tenancy.ts); default the catalog's five. */
        priorityClasses: z.array(priorityClassSchema).optional(),
        /** S3 → SQS → KEDA → GPU worker pipelines, one per entry (stacks/inference-pipelines.ts). */
        inferencePipelines: z.array(inferencePipelineSchema).default([]),
        /** The GPU cost tracker on ECS Fargate, with OpenCost and Prometheus in the cluster (stacks/cost-tracker.ts). */
        costTracker: costTrackerSchema.default({}),
        /** Tags every AWS resource carries, through the provider's default tags. */
        tags: z.record(z.string().regex(TAG_KEY, { message: "is not a valid AWS tag key" }), z.string().max(256)).default({}),
    })
    .strict();

export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
export type ParsedPlatformConfig = z.output<typeof platformConfigSchema>;
export type NodePoolConfig = z.output<typeof nodePoolSchema>;
export type { TeamConfig } from "./tenancy";

/** Tag keys the budget policies require on every resource; `environment` is added by the program. */
export const REQUIRED_TAG_KEYS = ["team", "cost-center", "budget"] as const;

/**
 * The sections of the config that passed their own shape checks. Cross-field rules run on
 * whatever parsed, so one bad key does not hide problems elsewhere.
 */
export type ParsedSections = Partial<Omit<ParsedPlatformConfig, "nodePools" | "teams" | "inferencePipelines" | "priorityClasses">> & {
    /** Pipelines by their index in the config, each with the fields that passed their own checks. */
    inferencePipelines?: PartialPipelineConfig[];
    nodePools?: Record<string, NodePoolConfig>;
    /** Teams by their index in the config; a team that failed its own checks is undefined. */
    teams?: Array<TeamConfig | undefined>;
    /** Priority classes by their index in the config; a class that failed its own checks is undefined. */
    priorityClasses?: Array<PriorityClassConfig | undefined>;
    /**
     * Names of pools and classes that failed their own checks: they exist, their problems are
     * reported under their own keys, and a reference to them is not reported again.
     */
    unparsed: UnparsedNames;
};

export interface UnparsedNames {
    readonly nodePools: string[];
    readonly priorityClasses: string[];
}

/** Parses each top-level section (and each node pool) on its own. */
export function parseSections(raw: Record<string, unknown>): ParsedSections {
    const unparsed: UnparsedNames = { nodePools: [], priorityClasses: [] };
    const sections: Record<string, unknown> = { unparsed };
    for (const [key, schema] of Object.entries(platformConfigSchema.shape)) {
        if (key === "nodePools" || key === "teams" || key === "inferencePipelines" || key === "priorityClasses") continue;
        const result = (schema as z.ZodType).safeParse(raw[key]);
        if (result.success) sections[key] = result.data;
    }
    const pools = raw.nodePools;
    if (pools && typeof pools === "object" && !Array.isArray(pools)) {
        const parsedPools: Record<string, NodePoolConfig> = {};
        for (const [name, pool] of Object.entries(pools)) {
            const result = nodePoolSchema.safeParse(pool);
            if (result.success) parsedPools[name] = result.data;
            else unparsed.nodePools.push(name);
        }
        sections.nodePools = parsedPools;
    }
    if (Array.isArray(raw.teams)) {
        sections.teams = raw.teams.map((team) => {
            const result = teamSchema.safeParse(team);
            // A team with other problems still counts for the duplicate-name check.
            if (result.success) return result.data;
            const name = (team as { name?: unknown } | null)?.name;
            return typeof name === "string" ? ({ name } as TeamConfig) : undefined;
        });
    }
    if (Array.isArray(raw.priorityClasses)) {
        // One bad class must not hide the duplicate and reserved names among the others.
        sections.priorityClasses = raw.priorityClasses.map((pc) => {
            const result = priorityClassSchema.safeParse(pc);
            if (result.success) return result.data;
            const name = (pc as { name?: unknown } | null)?.name;
            if (typeof name === "string") unparsed.priorityClasses.push(name);
            return undefined;
        });
    }
    sections.inferencePipelines = parsePipelineEntries(raw.inferencePipelines);
    return sections as ParsedSections;
}

/** Rules that span several fields or read the catalog. */
export function crossFieldProblems(config: ParsedSections): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key, message });

    const pools = Object.entries(config.nodePools ?? {});
    for (const [name, pool] of pools) {
        problems.push(...nodePoolProblems(`nodePools.${name}.`, pool));
    }
    const cpuPools = pools.filter(([, p]) => isKnownInstanceType(p.instanceType) && !gpuOf(p.instanceType));
    const allPoolsParsed = config.unparsed.nodePools.length === 0;
    if (pools.length > 0 && allPoolsParsed && !cpuPools.some(([, p]) => poolMinSize(p) >= 1)) {
        add("nodePools", "needs a CPU pool with minSize of 1 or more: system pods and the autoscaler cannot run on tainted GPU nodes");
    }

    // Which MIG slices the cluster makes is known only when every pool parsed.
    const completePools = allPoolsParsed ? config.nodePools : undefined;
    problems.push(...tenancyProblems(config.teams ?? [], config.priorityClasses, completePools, config.cluster?.adminRoleArns ?? []));
    if (config.inferencePipelines && config.nodePools) {
        const classes = priorityClassesOr(config.priorityClasses?.filter((pc) => pc !== undefined));
        problems.push(...inferencePipelineProblems(config.inferencePipelines, config.nodePools, config.teams ?? [], classes, config.unparsed));
    }
    problems.push(...namespaceProblems(config.teams ?? [], config.inferencePipelines ?? []));
    if (config.environment) {
        const classes = config.unparsed.priorityClasses.length === 0 ? priorityClassesOr(config.priorityClasses?.filter((pc) => pc !== undefined)).map((pc) => pc.name) : undefined;
        problems.push(...costTrackerProblems(config.costTracker, PROFILES[config.environment].costTracker, classes));
    }

    if (config.cluster && config.environment) {
        const access = config.cluster.endpointAccess ?? PROFILES[config.environment].endpointAccess;
        problems.push(...endpointAccessProblems("cluster.", { endpointAccess: access, publicAccessCidrs: config.cluster.publicAccessCidrs }));
        if (config.environment === "prod" && access === "public-and-private") {
            add("cluster.endpointAccess", 'must be "private" in prod: the API endpoint is reachable only from inside the VPC');
        }
    }

    if (config.tags) {
        for (const key of REQUIRED_TAG_KEYS) {
            if (!config.tags[key]) add(`tags.${key}`, "is required: budget reports group spend by this tag");
        }
        if (config.environment && "environment" in config.tags && config.tags.environment !== config.environment) {
            add("tags.environment", `is "${config.tags.environment}" but environment is "${config.environment}"; drop the tag, the program sets it`);
        }
    }
    return problems;
}
