import { z } from "zod";
import { dnsName, iamRoleArn, whole } from "./fields";
import { EKS_VERSIONS, gpuOf, isKnownInstanceType, isKnownRegion } from "@gpu-platform/catalog";
import { endpointAccessProblems, nodePoolProblems, poolMinSize } from "../components/cluster";
import type { GpuSharing } from "../components/gpu";
import { isIpv4Cidr } from "@gpu-platform/catalog/ipv4";
import type { SettingProblem } from "../components/shared/problems";
import { PROFILES } from "./profiles";
import { costTrackerProblems, costTrackerSchema } from "./cost-tracker";
import { dnsProblems, dnsSchema } from "./dns";
import { schedulingProblems, schedulingSchema } from "./scheduling";
import {
    inferencePipelineProblems,
    inferencePipelineSchema,
    parsePipelineEntries,
    PartialPipelineConfig,
} from "./inference-pipelines";
import {
    PriorityClassConfig,
    TeamConfig,
    namespaceProblems,
    priorityClassSchema,
    priorityClassesOr,
    teamSchema,
    tenancyProblems,
} from "./tenancy";
import { publicAccessProblems, vpcCidrProblems } from "./addresses";
import { migPlacementProblems } from "./mig-layouts";
import { PolicyPackSettings, policyPackSettingsOf, priorityClassAgreementProblems } from "./policy-pack";
import { tagProblems } from "./tags";
import { clusterConfigProblems, poolPlacementProblems } from "./cluster";
import { pipelineFitProblems } from "./pipelines-fit";
import {
    PortalSections,
    gitopsSchema,
    mlflowSchema,
    parsePortalSections,
    portalLayerProblems,
    portalSchema,
} from "./portal";

/**
 * The typed stack config. Every key the program reads is declared in Pulumi.yaml and checked
 * here; `validatePlatformConfig` reports every problem at once, each naming its key.
 *
 * Shapes are checked by zod; rules that span fields (min ≤ max, MIG layouts against the
 * catalog, duplicate teams) are checked in `crossFieldProblems` below.
 */

const cidr = z
    .string()
    .refine(isIpv4Cidr, { message: "must be an IPv4 CIDR with no host bits set, e.g. 10.0.0.0/16", abort: true });
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
        availabilityZones: count
            .min(2, { message: "must be at least 2: EKS needs subnets in two zones" })
            .max(6)
            .optional(),
        /** "single": one NAT gateway for the VPC (cheap); "one-per-az": zone-redundant egress. */
        natGateways: z.enum(["single", "one-per-az"]).optional(),
        /** VPC flow logs to CloudWatch Logs. */
        flowLogs: z.boolean().optional(),
        /** True: `cidr` may lie outside the RFC 1918 private ranges (addresses the organisation owns, or 100.64.0.0/10). */
        allowNonPrivateCidr: z.boolean().optional(),
    })
    .strict();

export const clusterSchema = z
    .object({
        /** EKS Kubernetes minor version, e.g. "1.35"; one of catalog/services.ts EKS_VERSIONS. */
        kubernetesVersion: z.string().refine((v) => Object.hasOwn(EKS_VERSIONS, v), {
            message: `must be a Kubernetes version EKS offers: ${Object.keys(EKS_VERSIONS).join(", ")}`,
        }),
        /** "public-and-private": API reachable from publicAccessCidrs and inside the VPC; "private": VPC only. */
        endpointAccess: z.enum(["public-and-private", "private"]).optional(),
        /** CIDRs allowed to reach the public API endpoint (only with public-and-private access). */
        publicAccessCidrs: z.array(cidr).optional(),
        /** IAM roles granted cluster-admin through EKS access entries. */
        adminRoleArns: z.array(iamRoleArn).optional(),
        /** IAM roles given read-only access (AmazonEKSViewPolicy) through EKS access entries: CI's preview role. */
        previewRoleArns: z.array(iamRoleArn).optional(),
        /** True: publicAccessCidrs may open the API to the internet (0.0.0.0/0, or more than a /8 in all); dev only. */
        allowPublicApiFromAnywhere: z.boolean().optional(),
        /** The IAM role that runs the first `pulumi up`; required with access entries (stacks/cluster.ts). */
        creatorRoleArn: iamRoleArn.optional(),
        /** A GitHub Actions runner inside the VPC (components/cluster/deploy-runner.ts). */
        deployRunner: z
            .object({
                repository: z.string(),
                connectionArn: z
                    .string()
                    .regex(/^arn:aws[a-z-]*:(codeconnections|codestar-connections):/, {
                        message: "must be a CodeConnections connection ARN",
                    })
                    .optional(),
                /** Workflows (their `name:`) whose jobs the runner takes. Default ["deploy", "preview"]. */
                workflows: z.array(z.string().min(1)).min(1).optional(),
                /** GitHub account IDs (numeric) whose jobs the runner takes. Default any. */
                actorAccountIds: z.array(z.string()).optional(),
            })
            .strict()
            .optional(),
        /** Other sources admitted to the API on 443: security groups in the VPC, CIDRs of connected networks. */
        apiAccess: z
            .object({
                securityGroupIds: z
                    .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, { message: "must be a security group id, sg-…" }))
                    .optional(),
                cidrs: z.array(cidr).optional(),
            })
            .strict()
            .optional(),
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
        /** "on-demand", "spot", or "capacity-block" (an EC2 Capacity Block for ML, named by capacityReservationId). */
        capacityType: z.enum(["on-demand", "spot", "capacity-block"]).optional(),
        /** Root volume size in GiB; GPU images and model caches need room. */
        diskSizeGiB: count.min(20, { message: "must be at least 20" }).max(16384).optional(),
        /** Root volume type. */
        diskType: z.enum(["gp3", "gp2", "io2"]).optional(),
        /** Provisioned IOPS of an io2 root volume (required with io2). */
        diskIops: count.optional(),
        /** How pods share each GPU; GPU pools only. Default exclusive (one pod per GPU). */
        gpuSharing: gpuSharingSchema.optional(),
        /** An EC2 capacity reservation (ODCR or Capacity Block) to launch into; on-demand pools only. */
        capacityReservationId: z
            .string()
            .regex(/^cr-[0-9a-f]{8,17}$/, { message: "must be a capacity reservation id, cr-…" })
            .optional(),
        /** The zone of the pool's Capacity Block, e.g. us-east-1a (capacity-block pools only). */
        availabilityZone: z.string().optional(),
    })
    .strict();

export const platformConfigSchema = z
    .object({
        /** Environment name; picks the profile of defaults in stacks/profiles.ts. */
        environment: z.enum(["dev", "prod"]),
        /** AWS region to deploy to. */
        region: z.string().refine(isKnownRegion, { message: "must be an AWS region such as us-east-1" }),
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
        /** First deploy of a private cluster from outside its VPC: create only what the AWS API makes (stacks/cluster.ts). */
        bootstrap: z.boolean().optional(),
        /** The GPU cost tracker on ECS Fargate, with OpenCost and Prometheus in the cluster (stacks/cost-tracker.ts). */
        costTracker: costTrackerSchema.default({}),
        /** Kueue, the teams' queues and the budget gate (stacks/scheduling.ts). Default on with the cost tracker. */
        scheduling: schedulingSchema.optional(),
        /** The portal layer (stacks/portal.ts): Backstage and what the layer shares, Argo CD, MLflow. Unset, not installed. */
        portal: portalSchema.optional(),
        gitops: gitopsSchema.optional(),
        mlflow: mlflowSchema.optional(),
        /** The Route 53 zone of the platform's host names, and certificates made in it (stacks/dns.ts). Unset: no records. */
        dns: dnsSchema.optional(),
        /** Tags every AWS resource carries, through the provider's default tags; AWS's rules on them are checked in stacks/tags.ts. */
        tags: z.record(z.string(), z.string()).default({}),
    })
    .strict();

export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
export type ParsedPlatformConfig = z.output<typeof platformConfigSchema>;
export type NodePoolConfig = z.output<typeof nodePoolSchema>;
export type { TeamConfig } from "./tenancy";

/**
 * The sections of the config that passed their own shape checks. Cross-field rules run on
 * whatever parsed, so one bad key does not hide problems elsewhere.
 */
export type ParsedSections = Partial<
    Omit<ParsedPlatformConfig, "nodePools" | "teams" | "inferencePipelines" | "priorityClasses" | keyof PortalSections>
> &
    PortalSections & {
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
        if (key === "nodePools" || key === "teams" || key === "inferencePipelines" || key === "priorityClasses")
            continue;
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
    Object.assign(sections, parsePortalSections(raw));
    return sections as unknown as ParsedSections;
}

/**
 * Rules that span several fields or read the catalog, and what the policy pack (`pack`, read
 * from policies/config.<stack>.json) will expect of the stack.
 */
export function crossFieldProblems(
    config: ParsedSections,
    pack: PolicyPackSettings = policyPackSettingsOf({}, "the pack's defaults"),
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key, message });

    const pools = Object.entries(config.nodePools ?? {});
    for (const [name, pool] of pools) {
        const poolProblems = nodePoolProblems(`nodePools.${name}.`, pool);
        problems.push(...poolProblems, ...migPlacementProblems(`nodePools.${name}.`, pool, poolProblems));
    }
    const cpuPools = pools.filter(([, p]) => isKnownInstanceType(p.instanceType) && !gpuOf(p.instanceType));
    // A pool whose instance type the catalog lacks is reported under its own key; whether it is the CPU pool is unknown.
    const allPoolsParsed =
        config.unparsed.nodePools.length === 0 && pools.every(([, p]) => isKnownInstanceType(p.instanceType));
    if (pools.length > 0 && allPoolsParsed && !cpuPools.some(([, p]) => poolMinSize(p) >= 1)) {
        add(
            "nodePools",
            "needs a CPU pool with minSize of 1 or more: system pods and the autoscaler cannot run on tainted GPU nodes",
        );
    }

    // Which MIG slices the cluster makes is known only when every pool parsed.
    const completePools = allPoolsParsed ? config.nodePools : undefined;
    problems.push(
        ...tenancyProblems(
            config.teams ?? [],
            config.priorityClasses,
            completePools,
            config.cluster?.adminRoleArns ?? [],
        ),
    );
    if (config.inferencePipelines && config.nodePools) {
        const classes = priorityClassesOr(config.priorityClasses?.filter((pc) => pc !== undefined));
        problems.push(
            ...inferencePipelineProblems(
                config.inferencePipelines,
                config.nodePools,
                config.teams ?? [],
                classes,
                config.unparsed,
            ),
        );
        problems.push(
            ...pipelineFitProblems(config.inferencePipelines, config.nodePools, config.teams ?? [], config.unparsed),
        );
    }
    problems.push(...namespaceProblems(config.teams ?? [], config.inferencePipelines ?? []));
    problems.push(...portalLayerProblems(config, config.environment && PROFILES[config.environment].portal));
    problems.push(...dnsProblems(config));
    // Classes with problems of their own are fixed first; the pack is compared with a list the cluster would accept.
    const classes = config.priorityClasses ?? priorityClassesOr(undefined);
    if (classes.every((pc) => pc !== undefined) && !problems.some((p) => p.key.startsWith("priorityClasses"))) {
        problems.push(...priorityClassAgreementProblems(classes, config.priorityClasses !== undefined, pack));
    }
    problems.push(...clusterConfigProblems(config), ...poolPlacementProblems(config));
    if (config.environment) {
        const classes =
            config.unparsed.priorityClasses.length === 0
                ? priorityClassesOr(config.priorityClasses?.filter((pc) => pc !== undefined)).map((pc) => pc.name)
                : undefined;
        problems.push(...costTrackerProblems(config.costTracker, PROFILES[config.environment].costTracker, classes));
        // A team without a name is reported under teams; the queues' team names are then not checked against them.
        const teamNames = (config.teams ?? []).map((t) => t?.name);
        const known = teamNames.every((t) => t !== undefined) ? teamNames : undefined;
        problems.push(...schedulingProblems(config.scheduling, config.costTracker?.enabled !== false, classes, known));
    }

    if (config.network) problems.push(...vpcCidrProblems(config.network));
    if (config.cluster && config.environment) {
        const access = config.cluster.endpointAccess ?? PROFILES[config.environment].endpointAccess;
        problems.push(
            ...endpointAccessProblems("cluster.", {
                endpointAccess: access,
                publicAccessCidrs: config.cluster.publicAccessCidrs,
            }),
        );
        if (config.environment === "prod" && access === "public-and-private") {
            add(
                "cluster.endpointAccess",
                'must be "private" in prod: the API endpoint is reachable only from inside the VPC',
            );
        }
        problems.push(
            ...publicAccessProblems({ ...config.cluster, environment: config.environment, endpointAccess: access }),
        );
    }

    if (config.tags) {
        problems.push(...tagProblems(config.tags, config.environment, pack.budgetTags, pack.source));
        if (
            config.environment &&
            Object.hasOwn(config.tags, "environment") &&
            config.tags.environment !== config.environment
        ) {
            add(
                "tags.environment",
                `is "${config.tags.environment}" but environment is "${config.environment}"; drop the tag, the program sets it`,
            );
        }
    }
    return problems;
}
