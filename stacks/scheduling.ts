import { z } from "zod";
import { imageReferenceProblems } from "../components/costs";
import { BUDGET_GATE_DEFAULTS, type BreakerMode, gateSettingProblems } from "@gpu-platform/catalog/contracts";
import { type TeamQueueLimits, queueLimitProblems } from "../components/scheduling/kueue-objects";
import type { SettingProblem } from "../components/shared/problems";
import { whole } from "./fields";

/**
 * The `scheduling` stack-config key: Kueue, the teams' queues and the budget gate
 * (docs/budget-gate.md). On by default wherever the cost tracker is: the gate asks it for every
 * GPU workload. The rules on each setting live in catalog/contracts/gate-config.ts.
 */
export const schedulingSchema = z
    .object({
        /** Install Kueue, the queues and the gate. Default true (needs the cost tracker). */
        enabled: z.boolean().optional(),
        /** A prebuilt gate image, pinned by tag or digest; unset, built from services/budget-gate at `pulumi up`. */
        image: z.string().optional(),
        /** `suspend` (default): an overrun deactivates running non-critical workloads; `queue`: it only stops new admissions. */
        breakerMode: z.string().optional(),
        /** Seconds Kueue waits before asking again after "Waiting for budget". Default 120. */
        retryAfterSeconds: whole.optional(),
        /** Seconds between the circuit breaker's reads of the teams' figures. Default 60. */
        breakerIntervalSeconds: whole.optional(),
        /** Hours a finite workload of a class is priced for without a maximum execution time, by class. Default 24. */
        defaultRunHours: z.record(z.string(), z.number()).optional(),
        /**
         * Per team (by name), how much of its quota its ClusterQueue may borrow from the cohort
         * beyond its own, and lend to it, in percent of its nominal quota. Unset: unlimited both ways.
         */
        teamQueues: z
            .record(
                z.string(),
                z.object({ borrowingLimitPercent: whole.optional(), lendingLimitPercent: whole.optional() }).strict(),
            )
            .optional(),
    })
    .strict();

export type SchedulingStackInput = z.output<typeof schedulingSchema>;

/** The settings as platform.ts passes them on; undefined when scheduling is off. */
export interface SchedulingStackConfig {
    readonly image?: string;
    readonly breakerMode: BreakerMode;
    readonly retryAfterSeconds: number;
    readonly breakerIntervalSeconds: number;
    readonly defaultRunHours: Readonly<Record<string, number>>;
    /** Borrowing and lending limits by team name; a team not named has none. */
    readonly teamQueues: Readonly<Record<string, TeamQueueLimits>>;
}

/** Every problem with the key, each named `scheduling.<setting>`; `teams`: the stack's team names, when they parsed. */
export function schedulingProblems(
    input: SchedulingStackInput | undefined,
    costTrackerEnabled: boolean,
    priorityClasses: readonly string[] | undefined,
    teams?: readonly string[],
): SettingProblem[] {
    if (!input || input.enabled === false) return [];
    const problems: SettingProblem[] = gateSettingProblems("scheduling.", input, priorityClasses);
    for (const [team, limits] of Object.entries(input.teamQueues ?? {})) {
        if (teams && !teams.includes(team))
            problems.push({
                key: `scheduling.teamQueues.${team}`,
                message: `is not one of the stack's teams (${teams.join(", ") || "none"})`,
            });
        problems.push(...queueLimitProblems(`scheduling.teamQueues.${team}.`, limits));
    }
    if (input.enabled === true && !costTrackerEnabled)
        problems.push({
            key: "scheduling.enabled",
            message: "needs the cost tracker (costTracker.enabled): the budget gate asks it for every GPU workload",
        });
    if (input.image !== undefined) problems.push(...imageReferenceProblems("scheduling.image", input.image));
    return problems;
}

/** The settings with their defaults, or undefined when scheduling is off (or the cost tracker is). */
export function resolveScheduling(
    input: SchedulingStackInput | undefined,
    costTrackerEnabled: boolean,
): SchedulingStackConfig | undefined {
    const given = input ?? {};
    if (given.enabled === false || !costTrackerEnabled) return undefined;
    return {
        image: given.image,
        breakerMode: (given.breakerMode as BreakerMode | undefined) ?? BUDGET_GATE_DEFAULTS.breakerMode,
        retryAfterSeconds: given.retryAfterSeconds ?? BUDGET_GATE_DEFAULTS.retryAfterSeconds,
        breakerIntervalSeconds: given.breakerIntervalSeconds ?? BUDGET_GATE_DEFAULTS.breakerIntervalSeconds,
        defaultRunHours: given.defaultRunHours ?? {},
        teamQueues: given.teamQueues ?? {},
    };
}
