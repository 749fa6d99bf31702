/**
 * The budget gate's config document: what the platform passes to the gate
 * (`services/budget-gate/`) as one JSON value (`BUDGET_GATE_CONFIG_JSON`). Pools, teams and the
 * critical classes are the cost tracker's document's (the gate prices as the tracker does, from
 * the catalog); the rest is the gate's own.
 *
 * Pure: no Pulumi, no stack config. `BudgetGate` builds the document with `buildBudgetGateConfig`;
 * the gate checks it with `budgetGateConfigProblems` before it starts.
 */
import type { CostTrackerConfig, TrackerPool } from "./tracker-config";

/** What the gate does when a team's month-to-date spend plus live reservations passes its budget. */
export type BreakerMode = "queue" | "suspend";

export interface GateClass {
    readonly name: string;
    /** Kueue priority: the breaker stops the lowest first. */
    readonly value: number;
    /** Hours a finite workload of this class is priced for when it sets no maximum execution time. */
    readonly defaultRunHours: number;
}

export interface BudgetGateConfig {
    readonly version: 1;
    /** The AdmissionCheck the gate answers, as named in workloads' `status.admissionChecks`. */
    readonly admissionCheck: string;
    /** `queue`: an overrun only stops new admissions; `suspend`: it also deactivates running non-critical workloads. */
    readonly breakerMode: BreakerMode;
    /** Seconds Kueue waits before it asks again after a `Retry` (the check's `requeueAfterSeconds`). */
    readonly retryAfterSeconds: number;
    /** Seconds between the breaker's reads of every team's figures (besides the tracker's events). */
    readonly breakerIntervalSeconds: number;
    /** GPU pools by name; Kueue's ResourceFlavor of a pool has the pool's name. */
    readonly pools: readonly TrackerPool[];
    /** Team names; each team's namespace has its name. */
    readonly teams: readonly string[];
    readonly classes: readonly GateClass[];
    /** Classes approved past the budget (flagged) and never stopped by the breaker. */
    readonly criticalClasses: readonly string[];
    /** The Lease that elects one active replica. */
    readonly lease: { readonly namespace: string; readonly name: string };
}

export const BUDGET_GATE_DEFAULTS = {
    breakerMode: "suspend",
    retryAfterSeconds: 120,
    breakerIntervalSeconds: 60,
    /** Run hours by the catalog's workload kinds when the stack sets none: a training day, a development session. */
    defaultRunHours: 24,
    lease: "budget-gate",
} as const satisfies Partial<Record<string, unknown>>;

export interface BudgetGateConfigInput {
    readonly tracker: Pick<CostTrackerConfig, "pools" | "teams" | "criticalPriorityClasses">;
    readonly classes: readonly { name: string; value: number }[];
    readonly admissionCheck: string;
    readonly namespace: string;
    readonly breakerMode?: BreakerMode;
    readonly retryAfterSeconds?: number;
    readonly breakerIntervalSeconds?: number;
    /** Default run hours by class name; a class not named takes `BUDGET_GATE_DEFAULTS.defaultRunHours`. */
    readonly defaultRunHours?: Readonly<Record<string, number>>;
}

export function buildBudgetGateConfig(input: BudgetGateConfigInput): BudgetGateConfig {
    const hours = input.defaultRunHours ?? {};
    return {
        version: 1,
        admissionCheck: input.admissionCheck,
        breakerMode: input.breakerMode ?? BUDGET_GATE_DEFAULTS.breakerMode,
        retryAfterSeconds: input.retryAfterSeconds ?? BUDGET_GATE_DEFAULTS.retryAfterSeconds,
        breakerIntervalSeconds: input.breakerIntervalSeconds ?? BUDGET_GATE_DEFAULTS.breakerIntervalSeconds,
        pools: input.tracker.pools,
        teams: input.tracker.teams.map((t) => t.name),
        classes: input.classes.map((c) => ({
            name: c.name,
            value: c.value,
            defaultRunHours: Object.hasOwn(hours, c.name) ? hours[c.name] : BUDGET_GATE_DEFAULTS.defaultRunHours,
        })),
        criticalClasses: input.tracker.criticalPriorityClasses,
        lease: { namespace: input.namespace, name: BUDGET_GATE_DEFAULTS.lease },
    };
}

export interface GateConfigProblem {
    readonly key: string;
    readonly message: string;
}

/** Problems with the gate's own settings, each naming its key under `prefix` (the stack config's `scheduling.`). */
export function gateSettingProblems(
    prefix: string,
    s: {
        breakerMode?: string;
        retryAfterSeconds?: number;
        breakerIntervalSeconds?: number;
        defaultRunHours?: Readonly<Record<string, number>>;
    },
    classNames?: readonly string[],
): GateConfigProblem[] {
    const problems: GateConfigProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key: `${prefix}${key}`, message });
    if (s.breakerMode !== undefined && s.breakerMode !== "queue" && s.breakerMode !== "suspend")
        add("breakerMode", `must be "queue" or "suspend" (found ${JSON.stringify(s.breakerMode)})`);
    const seconds = (key: "retryAfterSeconds" | "breakerIntervalSeconds", min: number, max: number) => {
        const v = s[key];
        if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max))
            add(key, `must be a whole number of seconds from ${min} to ${max} (found ${v})`);
    };
    seconds("retryAfterSeconds", 10, 3600);
    seconds("breakerIntervalSeconds", 10, 3600);
    for (const [name, hours] of Object.entries(s.defaultRunHours ?? {})) {
        if (classNames && !classNames.includes(name))
            add(`defaultRunHours.${name}`, `is not one of the stack's priority classes (${classNames.join(", ")})`);
        if (typeof hours !== "number" || !Number.isFinite(hours) || hours <= 0 || hours > 744)
            add(
                `defaultRunHours.${name}`,
                `must be more than 0 and at most 744 hours (a month) (found ${String(hours)})`,
            );
    }
    return problems;
}

/** Every problem with a document, one per field; empty when the gate can use it. */
export function budgetGateConfigProblems(doc: unknown): GateConfigProblem[] {
    if (typeof doc !== "object" || doc === null || Array.isArray(doc))
        return [{ key: "(document)", message: "must be a JSON object" }];
    const d = doc as Partial<Record<keyof BudgetGateConfig, unknown>>;
    const problems: GateConfigProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key, message });
    if (d.version !== 1) add("version", `must be 1 (found ${JSON.stringify(d.version)})`);
    if (typeof d.admissionCheck !== "string" || d.admissionCheck === "")
        add("admissionCheck", "must name the AdmissionCheck");
    const classes = Array.isArray(d.classes) ? (d.classes as Partial<GateClass>[]) : undefined;
    if (!classes) add("classes", "must be a list of priority classes");
    problems.push(
        ...gateSettingProblems("", {
            breakerMode: d.breakerMode as string | undefined,
            retryAfterSeconds: d.retryAfterSeconds as number | undefined,
            breakerIntervalSeconds: d.breakerIntervalSeconds as number | undefined,
            defaultRunHours: classes
                ? Object.fromEntries(classes.map((c) => [String(c.name), c.defaultRunHours as number]))
                : undefined,
        }).map((p) =>
            p.key.startsWith("defaultRunHours.") ? { ...p, key: `classes.${p.key.slice(16)}.defaultRunHours` } : p,
        ),
    );
    if (d.breakerMode === undefined) add("breakerMode", 'must be "queue" or "suspend"');
    if (!Array.isArray(d.pools) || d.pools.length === 0) add("pools", "must list the GPU pools");
    if (!Array.isArray(d.teams) || !d.teams.every((t) => typeof t === "string")) add("teams", "must list team names");
    if (!Array.isArray(d.criticalClasses)) add("criticalClasses", "must be a list of class names");
    const lease = d.lease as { namespace?: unknown; name?: unknown } | undefined;
    if (typeof lease?.namespace !== "string" || typeof lease?.name !== "string")
        add("lease", "must be {namespace, name} of the Lease");
    return problems;
}
