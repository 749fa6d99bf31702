/**
 * The circuit breaker: a team's actual spend can overrun its estimates. When month-to-date
 * spend plus live reservations passes a team's budget, and the mode is `suspend`, the gate
 * deactivates the team's running non-critical workloads (Kueue's `spec.active: false`), lowest
 * priority first (the newest first among equals), one at a time, releasing each one's
 * reservation and reading the team's figures again, until the team is back within its budget
 * or only critical workloads run. Each gets a Warning event. In `queue` mode nothing running is
 * stopped: the tracker refuses new reservations by itself.
 *
 * Either way the overrun is an alert in the cost tracker (POST /v1/alerts), with the figures
 * the pass saw and what it stopped; the tracker stores it once per team, month and stopped set
 * and delivers it with its own alerts. An alert the tracker could not take is kept and sent
 * again on the next pass, as the team may be back within budget by then.
 */
import { createHash } from "crypto";
import type { BudgetGateConfig } from "@gpu-platform/catalog/contracts";
import type { GateController } from "./controller";
import { type KubeApi, statusOf } from "./kube";
import type { GateMetrics } from "./metrics";
import { type OverrunReport, type TeamFigures, type TrackerClient, TrackerUnavailable } from "./tracker";
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
    /** Overrun alerts not yet taken by the tracker, sent again on the next pass (owned by the running gate). */
    readonly unsentAlerts: OverrunReport[];
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

/** Overrun reports kept while the tracker is out of reach. */
const MAX_UNSENT_ALERTS = 100;

const overBudget = (f: TeamFigures) => f.monthToDateUsd + f.reservedUsd > f.monthlyBudgetUsd + 0.005;

/** One pass over every team; returns the workloads it deactivated. */
export async function runBreaker(deps: BreakerDeps): Promise<string[]> {
    const stopped: string[] = [];
    const teams = await deps.tracker.teams();
    deps.controller.rememberBudgets(teams);
    const reports = deps.unsentAlerts.splice(0);
    for (const name of deps.config.teams) {
        const seen = teams.find((t) => t.name === name);
        if (!seen || !overBudget(seen)) continue;
        const stoppedHere = deps.config.breakerMode === "suspend" ? await stopUntilWithin(deps, seen) : [];
        stopped.push(...stoppedHere.map((w) => `${w.metadata.namespace}/${w.metadata.name}`));
        reports.push(await overrunReport(deps, seen, stoppedHere));
    }
    await sendAlerts(deps, reports);
    return stopped;
}

/** Deactivates the team's workloads in stop order until its figures are within budget; returns those stopped. */
async function stopUntilWithin(deps: BreakerDeps, seen: TeamFigures): Promise<Workload[]> {
    const stopped: Workload[] = [];
    const candidates = stopOrder(deps.workloads(), seen.name, deps.config);
    let figures: TeamFigures | undefined = seen;
    while (figures && overBudget(figures) && candidates.length > 0) {
        const w = candidates.shift()!;
        if (await deactivate(deps, w, figures)) stopped.push(w);
        figures = (await deps.tracker.teams()).find((t) => t.name === seen.name);
    }
    return stopped;
}

async function overrunReport(deps: BreakerDeps, seen: TeamFigures, stopped: Workload[]): Promise<OverrunReport> {
    const owners = await Promise.all(stopped.map((w) => deps.controller.identify(w)));
    return {
        team: seen.name,
        kind: "budget-overrun",
        action: deps.config.breakerMode === "suspend" ? "suspended" : "queued",
        // The tracker takes cents (its figures are cents already; the sum of floats may not be).
        spentUsd: Math.round(seen.monthToDateUsd * 100) / 100,
        reservedUsd: Math.round(seen.reservedUsd * 100) / 100,
        stopped: owners.map(({ namespace, kind, name }) => ({ namespace, kind, name })),
    };
}

/** Sends each report under a key of its content (a retry replays it); keeps those the tracker could not take. */
async function sendAlerts(deps: BreakerDeps, reports: readonly OverrunReport[]): Promise<void> {
    for (const report of reports) {
        const key = `budget-gate/overrun/${createHash("sha256").update(JSON.stringify(report)).digest("hex").slice(0, 32)}`;
        try {
            await deps.tracker.alert(report, key);
        } catch (err) {
            if (err instanceof TrackerUnavailable) {
                deps.metrics.trackerErrors.inc();
                // Bounded: a long outage keeps the latest reports (each pass reports every team still over).
                if (deps.unsentAlerts.push(report) > MAX_UNSENT_ALERTS) deps.unsentAlerts.shift();
            }
            deps.log("overrun alert not recorded", { team: report.team, error: String(err) });
        }
    }
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
