/**
 * Overruns the budget gate reports: a team's month-to-date spend plus live reservations past its
 * budget, and what the gate did (deactivated workloads, or only holds new ones). Stored in the
 * alerts table beside the tracker's own alerts (so GET /v1/alerts, the dashboard and the
 * notifiers carry them), worded by the tracker from the report's figures and its own budget.
 *
 * Once each: per team, month and set of stopped workloads. The gate reports every breaker pass
 * that finds a team over; a pass that stops nothing new repeats an alert already stored and is
 * answered with it (200), so the notifiers hear of each overrun and each deactivation once.
 */
import { createHash } from "crypto";
import { alertByKey, insertAlert } from "./alerts";
import type { AlertRow } from "./api-types";
import type { Database } from "./db/database";
import { once, requestHash, type StoredAnswer } from "./idempotency";
import { BadInput, type WorkloadRef } from "./model";
import { cents } from "./pricing";
import { monthOf } from "./rules";

export interface OverrunReport {
    readonly team: string;
    readonly kind: "budget-overrun";
    /** suspended: the gate deactivated `stopped`; queued: it only holds the team's new workloads. */
    readonly action: "suspended" | "queued";
    readonly spentUsd: number;
    readonly reservedUsd: number;
    readonly stopped: readonly WorkloadRef[];
}

/** Problems the body's schema cannot express, each naming its field; empty when the report is sound. */
export function overrunReportProblems(report: OverrunReport): BadInput[] {
    const problems: BadInput[] = [];
    if (report.action === "queued" && report.stopped.length > 0)
        problems.push(new BadInput("stopped", 'must be empty when action is "queued": that mode stops nothing'));
    report.stopped.forEach((w, i) => {
        if (w.namespace !== report.team)
            problems.push(new BadInput(`stopped[${i}].namespace`, `is ${w.namespace}, not ${report.team}'s namespace`));
    });
    if (report.spentUsd + report.reservedUsd <= 0)
        problems.push(
            new BadInput(
                "spentUsd",
                "is 0 and so is reservedUsd: a budget cannot be overrun with nothing spent or reserved",
            ),
        );
    return problems;
}

/** Dollars to the cent, always two decimals: "$275.20". */
const dollars = (usd: number) => `$${cents(usd).toFixed(2)}`;

function overrunMessage(report: OverrunReport, budgetUsd: number, month: string): string {
    const total = dollars(report.spentUsd + report.reservedUsd);
    const figures = `${report.team} is over its ${dollars(budgetUsd)} budget for ${month}: ${dollars(report.spentUsd)} spent and ${dollars(report.reservedUsd)} reserved (${total})`;
    if (report.action === "queued")
        return `${figures}. The budget gate admits none of its new GPU workloads until money frees up; running workloads continue (breaker mode queue).`;
    if (report.stopped.length === 0)
        return `${figures}. The budget gate stopped nothing: only workloads of critical classes are running.`;
    const names = report.stopped.map((w) => `${w.namespace}/${w.name} (${w.kind})`).join(", ");
    return `${figures}. The budget gate stopped ${report.stopped.length} workload${report.stopped.length === 1 ? "" : "s"}, lowest priority first: ${names}.`;
}

/** The alert's once-only key: the team, the month, what the gate did and to which workloads. */
function dedupeKey(report: OverrunReport, month: string): string {
    const stopped = report.stopped.map((w) => `${w.namespace}/${w.kind}/${w.name}`).sort();
    const digest = createHash("sha256").update(JSON.stringify(stopped)).digest("hex").slice(0, 16);
    return `${report.team}:${month}:overrun:${report.action}:${digest}`;
}

/**
 * Stores the overrun's alert under the caller's Idempotency-Key: 201 with the new alert, 200 with
 * the one stored earlier for the same overrun. `raised` is the alert when it is new (to deliver).
 */
export async function recordOverrun(
    db: Database,
    report: OverrunReport,
    idempotencyKey: string,
    now: Date,
): Promise<{ answer: StoredAnswer; raised?: AlertRow }> {
    const [problem] = overrunReportProblems(report);
    if (problem) throw problem;
    const month = monthOf(now).start.slice(0, 7);
    const { answer, fresh } = await db.transaction((tx) =>
        once(tx, "overrun-alerts", idempotencyKey, requestHash(report), async () => {
            const { rows } = await tx.query<{ budget: number }>(
                "SELECT monthly_budget_usd AS budget FROM teams WHERE name = $1",
                [report.team],
            );
            const key = dedupeKey(report, month);
            const inserted = await insertAlert(tx, {
                dedupeKey: key,
                team: report.team,
                kind: "budget-overrun",
                message: overrunMessage(report, rows[0].budget, month),
            });
            if (inserted) return { statusCode: 201, body: inserted, raised: inserted };
            return { statusCode: 200, body: (await alertByKey(tx, key))! };
        }),
    );
    return { answer, raised: fresh && "raised" in fresh ? fresh.raised : undefined };
}
