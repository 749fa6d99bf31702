import { z } from "zod";
import { COST_TRACKER_DEFAULTS, costTrackerSizingProblems, imageReferenceProblems } from "../components/costs";
import type { SettingProblem } from "../components/shared/problems";
import { isHostName } from "@gpu-platform/catalog/dns-names";
import { whole } from "./fields";

/**
 * The `costTracker` stack-config key: the GPU cost tracker on ECS Fargate, with OpenCost and
 * Prometheus in the cluster. Shapes are checked here; the numeric and format rules live in
 * components/costs/settings.ts, so the component enforces the same ones for a team's own stack.
 */
export const costTrackerSchema = z
    .object({
        /** Deploy it. Default true. */
        enabled: z.boolean().optional(),
        /** A prebuilt image, pinned by tag or digest; unset, the image is built from services/cost-tracker at `pulumi up`. */
        image: z.string().optional(),
        /** Task CPU units (1024 = 1 vCPU); a Fargate size. Default 512. */
        cpu: whole.optional(),
        /** Task memory in MiB, a size Fargate pairs with cpu. Default 1024. */
        memory: whole.optional(),
        /** Tasks normally running; the profile's default: 1 in dev, 2 (in two zones) in prod. */
        desiredCount: whole.optional(),
        /** Most tasks CPU target tracking may scale to. The profile's default: 2 in dev, 4 in prod. */
        maxCount: whole.optional(),
        /** An ACM certificate: HTTPS on the load balancer, HTTP redirected. Unset: plain HTTP inside the VPC, or the one `dns` makes. */
        certificateArn: z.string().optional(),
        /**
         * The host name of the dashboard and API, which the certificate must cover. Required with
         * certificateArn unless `dns` is set; with `dns`, default cost-tracker.<portal.domain or dns.zoneName>.
         */
        hostName: z
            .string()
            .refine(isHostName, { message: "must be a host name such as cost-tracker.example.com" })
            .optional(),
        /** CIDRs besides the cluster's nodes that may reach the dashboard, e.g. the VPN's client range. */
        allowedCidrs: z.array(z.string()).optional(),
        /** An email address subscribed to the alert topic. */
        alertEmail: z.string().optional(),
        /** A Slack-compatible webhook the service posts alerts to (kept in Secrets Manager). */
        alertWebhookUrl: z.string().optional(),
        /** Priority classes approved past a team's budget (flagged and alerted). Default production-inference. */
        criticalPriorityClasses: z.array(z.string()).optional(),
        /** Days Prometheus keeps samples (GPU utilisation, OpenCost's inputs). The profile's default: 15 in dev, 30 in prod. */
        metricsRetentionDays: whole.optional(),
        /** The PostgreSQL database: instanceClass, allocatedStorageGiB, backupRetentionDays; the profile's defaults. */
        database: z
            .object({
                instanceClass: z.string().optional(),
                allocatedStorageGiB: whole.optional(),
                backupRetentionDays: whole.optional(),
            })
            .strict()
            .optional(),
    })
    .strict();

export type CostTrackerStackInput = z.output<typeof costTrackerSchema>;

/** What an environment's profile sets for the cost tracker (stacks/profiles.ts). */
export interface CostTrackerProfile {
    readonly desiredCount: number;
    readonly maxCount: number;
    readonly metricsRetentionDays: number;
    readonly database: {
        readonly instanceClass: string;
        readonly allocatedStorageGiB: number;
        readonly backupRetentionDays: number;
        readonly multiAz: boolean;
    };
}

/** The cost tracker's settings with the profile applied: what platform.ts maps to CostTracker and ClusterCostData. */
export interface CostTrackerStackConfig {
    readonly image?: string;
    readonly cpu: number;
    readonly memory: number;
    readonly desiredCount: number;
    readonly maxCount: number;
    readonly certificateArn?: string;
    /** The host the tracker is reached by (stacks/dns.ts); unset, the load balancer's own name. */
    readonly hostName?: string;
    readonly allowedCidrs: string[];
    readonly alertEmail?: string;
    readonly alertWebhookUrl?: string;
    /** Unset: the tracker's default (production-inference, when the stack has it). */
    readonly criticalPriorityClasses?: string[];
    readonly metricsRetentionDays: number;
    readonly database: CostTrackerProfile["database"];
}

/** Every problem with the key, each named `costTracker.<setting>`. */
export function costTrackerProblems(
    input: CostTrackerStackInput | undefined,
    profile: CostTrackerProfile,
    priorityClasses: readonly string[] | undefined,
): SettingProblem[] {
    if (!input || input.enabled === false) return [];
    const problems = costTrackerSizingProblems("costTracker.", {
        ...input,
        desiredCount: input.desiredCount ?? profile.desiredCount,
        maxCount: input.maxCount ?? Math.max(profile.maxCount, input.desiredCount ?? profile.desiredCount),
    });
    if (input.image !== undefined) problems.push(...imageReferenceProblems("costTracker.image", input.image));
    if (
        input.metricsRetentionDays !== undefined &&
        (input.metricsRetentionDays < 2 || input.metricsRetentionDays > 90)
    ) {
        problems.push({
            key: "costTracker.metricsRetentionDays",
            message: `must be from 2 to 90 days (found ${input.metricsRetentionDays})`,
        });
    }
    if (priorityClasses) {
        (input.criticalPriorityClasses ?? []).forEach((name, i) => {
            if (!priorityClasses.includes(name)) {
                problems.push({
                    key: `costTracker.criticalPriorityClasses[${i}]`,
                    message: `"${name}" is not one of the stack's priority classes (${priorityClasses.join(", ")})`,
                });
            }
        });
    }
    return problems;
}

/** The settings with the profile's defaults, or undefined when the tracker is switched off. */
export function resolveCostTracker(
    input: CostTrackerStackInput | undefined,
    profile: CostTrackerProfile,
    hostName?: string,
): CostTrackerStackConfig | undefined {
    const given = input ?? {};
    if (given.enabled === false) return undefined;
    const desiredCount = given.desiredCount ?? profile.desiredCount;
    return {
        image: given.image,
        cpu: given.cpu ?? COST_TRACKER_DEFAULTS.cpu,
        memory: given.memory ?? COST_TRACKER_DEFAULTS.memory,
        desiredCount,
        maxCount: given.maxCount ?? Math.max(profile.maxCount, desiredCount),
        certificateArn: given.certificateArn,
        hostName,
        allowedCidrs: given.allowedCidrs ?? [],
        alertEmail: given.alertEmail,
        alertWebhookUrl: given.alertWebhookUrl,
        criticalPriorityClasses: given.criticalPriorityClasses,
        metricsRetentionDays: given.metricsRetentionDays ?? profile.metricsRetentionDays,
        database: {
            instanceClass: given.database?.instanceClass ?? profile.database.instanceClass,
            allocatedStorageGiB: given.database?.allocatedStorageGiB ?? profile.database.allocatedStorageGiB,
            backupRetentionDays: given.database?.backupRetentionDays ?? profile.database.backupRetentionDays,
            multiAz: profile.database.multiAz,
        },
    };
}
