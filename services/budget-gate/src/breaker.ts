/**
 * The circuit breaker: a team's actual spend can overrun its estimates. When month-to-date
 * spend plus live reservations passes a team's budget, and the mode is `suspend`, the gate
 * deactivates the team's running non-critical workloads (Kueue's `spec.active: false`), lowest
 * priority first (the newest first among equals), one at a time, releasing each one's
 * reservation and reading the team's figures again, until the team is back within its budget
 * or only critical workloads run. Each gets a Warning event. In `queue` mode nothing running is
 * stopped: the tracker refuses new reservations by itself.
 *
 * The cost tracker has no route to write an alert (its alerts are raised by its own rules), so
 * the overrun is reported as events on the workloads, the gate's log and the
 * `budget_gate_deactivations_total` metric.
 */
import type { BudgetGateConfig } from "../../../components/scheduling/gate-config";
import type { GateController } from "./controller";
import { type KubeApi, statusOf } from "./kube";
import type { GateMetrics } from "./metrics";
import type { TrackerClient } from "./tracker";
import { type Workload, isRunning, priorityClassOf, quotaReservedAt } from "./workload";

export interface BreakerDeps {
    readonly kube: KubeApi;
    readonly tracker: TrackerClient;
    readonly config: BudgetGateConfig;
    readonly metrics: GateMetrics;
    readonly controller: GateController;
    readonly now: () => Date;
    readonly log: (message: string, fields?: Record<string, unknown>) => void;
    readonly workloads: () => readonly Workload[];
}

/** Running workloads the breaker may stop, the first to stop first. */
export function stopOrder(workloads: readonly Workload[], team: string, config: BudgetGateConfig): Workload[] {
    const priority = (w: Workload) =>
        w.spec.priority ?? config.classes.find((c) => c.name === priorityClassOf(w))?.value ?? 0;
    return workloads
        .filter((w) => w.metadata.namespace === team && isRunning(w))
        .filter((w) => !config.criticalClasses.includes(priorityClassOf(w) ?? ""))
        .sort(
            (a, b) => priority(a) - priority(b) || (quotaReservedAt(b) ?? "").localeCompare(quotaReservedAt(a) ?? ""),
        );
}

/** One pass over every team; returns the workloads it deactivated. */
export async function runBreaker(deps: BreakerDeps): Promise<string[]> {
    const stopped: string[] = [];
    let teams = await deps.tracker.teams();
    deps.controller.rememberBudgets(teams);
    if (deps.config.breakerMode !== "suspend") return stopped;
    for (const name of deps.config.teams) {
        let figures = teams.find((t) => t.name === name);
        const candidates = stopOrder(deps.workloads(), name, deps.config);
        while (
            figures &&
            figures.monthToDateUsd + figures.reservedUsd > figures.monthlyBudgetUsd + 0.005 &&
            candidates.length > 0
        ) {
            const w = candidates.shift()!;
            if (await deactivate(deps, w, figures)) stopped.push(`${w.metadata.namespace}/${w.metadata.name}`);
            teams = await deps.tracker.teams();
            figures = teams.find((t) => t.name === name);
        }
    }
    return stopped;
}

async function deactivate(
    deps: BreakerDeps,
    w: Workload,
    figures: { monthToDateUsd: number; reservedUsd: number; monthlyBudgetUsd: number },
): Promise<boolean> {
    try {
        await deps.kube.patchWorkload(w, { spec: { active: false } });
    } catch (err) {
        if (statusOf(err) === 409 || statusOf(err) === 404) return false;
        throw err;
    }
    const identity = await deps.controller.identify(w);
    const released = await deps.tracker.release(
        identity.uid,
        `budget-gate/${w.metadata.uid}/release/${Date.parse(quotaReservedAt(w) ?? "") / 1000 || 0}`,
    );
    deps.metrics.deactivations.inc({ team: w.metadata.namespace });
    deps.metrics.releases.inc(released.length);
    const message =
        `Stopped by the budget circuit breaker: ${w.metadata.namespace} has spent $${figures.monthToDateUsd.toFixed(2)} and holds ` +
        `$${figures.reservedUsd.toFixed(2)} in reservations, over its $${figures.monthlyBudgetUsd.toFixed(2)} monthly budget. ` +
        `Lower-priority workloads stop first; set spec.active to true again once the team has budget`;
    await deps.kube.event(w, "Warning", "BudgetOverrun", message, deps.now());
    deps.log("deactivated by the circuit breaker", {
        workload: `${w.metadata.namespace}/${w.metadata.name}`,
        released,
    });
    return true;
}
