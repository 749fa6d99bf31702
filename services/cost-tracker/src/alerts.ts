/**
 * Alerts: budget thresholds and forecast once per team and month, anomalous days once per day,
 * critical approvals past the budget once per request. Stored first (a unique key makes each
 * once-only), then sent to SNS and/or a Slack-compatible webhook; a failed delivery is recorded
 * on the alert and never undoes it.
 */
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import type { AlertKind, AlertRow, TeamSummary } from "./api-types";
import type { Queryable } from "./db/database";
import { cents } from "./pricing";
import { addDays, isAnomalous, median, monthOf, thresholdsReached, utcDay } from "./rules";

interface RawAlert {
    id: number;
    team: string;
    kind: AlertKind;
    message: string;
    created_at: Date;
    delivered_at: Date | null;
    delivery_error: string | null;
}

const ALERT_COLUMNS = "id, team, kind, message, created_at, delivered_at, delivery_error";

function toAlertRow(r: RawAlert): AlertRow {
    return {
        id: r.id,
        team: r.team,
        kind: r.kind,
        message: r.message,
        createdAt: r.created_at.toISOString(),
        deliveredAt: r.delivered_at?.toISOString() ?? null,
        deliveryError: r.delivery_error,
    };
}

/** Stores an alert unless one with its key exists; returns it only when new. */
export async function insertAlert(
    q: Queryable,
    alert: { dedupeKey: string; team: string; kind: AlertKind; message: string },
): Promise<AlertRow | undefined> {
    const { rows } = await q.query<RawAlert>(
        `INSERT INTO alerts (dedupe_key, team, kind, message) VALUES ($1, $2, $3, $4) ON CONFLICT (dedupe_key) DO NOTHING RETURNING ${ALERT_COLUMNS}`,
        [alert.dedupeKey, alert.team, alert.kind, alert.message],
    );
    return rows[0] && toAlertRow(rows[0]);
}

/** The alert stored under `dedupeKey`, if any. */
export async function alertByKey(q: Queryable, dedupeKey: string): Promise<AlertRow | undefined> {
    const { rows } = await q.query<RawAlert>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE dedupe_key = $1`, [dedupeKey]);
    return rows[0] && toAlertRow(rows[0]);
}

export async function listAlerts(q: Queryable, filter: { team?: string; limit: number }): Promise<AlertRow[]> {
    const { rows } = filter.team
        ? await q.query<RawAlert>(
              `SELECT ${ALERT_COLUMNS} FROM alerts WHERE team = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
              [filter.team, filter.limit],
          )
        : await q.query<RawAlert>(`SELECT ${ALERT_COLUMNS} FROM alerts ORDER BY created_at DESC, id DESC LIMIT $1`, [
              filter.limit,
          ]);
    return rows.map(toAlertRow);
}

/**
 * The alerts the current spend calls for, stored once each: every threshold month-to-date spend
 * has reached, the forecast passing the budget, and an anomalous yesterday or today.
 */
export async function raiseSpendAlerts(
    q: Queryable,
    config: CostTrackerConfig,
    summaries: readonly TeamSummary[],
    now: Date,
): Promise<AlertRow[]> {
    const raised: AlertRow[] = [];
    const keep = (alert: AlertRow | undefined) => alert && raised.push(alert);
    const today = utcDay(now);
    const rule = config.alerts.anomaly;
    const history = await dailyTotals(q, addDays(today, -(rule.trailingDays + 1)), today);
    for (const team of summaries) {
        const month = team.month;
        for (const pct of thresholdsReached(team.monthToDateUsd, team.monthlyBudgetUsd, config.alerts.thresholdsPct)) {
            keep(
                await insertAlert(q, {
                    dedupeKey: `${team.name}:${month}:budget-${pct}`,
                    team: team.name,
                    kind: "budget-threshold",
                    message: `${team.name} has spent $${cents(team.monthToDateUsd)} of its $${team.monthlyBudgetUsd} budget for ${month}: ${pct} % reached`,
                }),
            );
        }
        if (team.forecastUsd !== null && team.forecastUsd > team.monthlyBudgetUsd) {
            keep(
                await insertAlert(q, {
                    dedupeKey: `${team.name}:${month}:forecast`,
                    team: team.name,
                    kind: "forecast-over-budget",
                    message: `${team.name} is forecast to spend $${cents(team.forecastUsd)} in ${month} (${team.forecast.confidencePct} % range $${team.forecast.lowUsd}–$${team.forecast.highUsd}), over its $${team.monthlyBudgetUsd} budget`,
                }),
            );
        }
        const spendByDay = history.get(team.name) ?? new Map<string, number>();
        const firstDay = [...spendByDay.keys()].sort()[0];
        for (const day of [addDays(today, -1), today]) {
            if (!firstDay || day <= firstDay) continue;
            const trailing: number[] = [];
            for (let d = addDays(day, -rule.trailingDays); d < day; d = addDays(d, 1))
                if (d >= firstDay) trailing.push(spendByDay.get(d) ?? 0);
            const dayUsd = spendByDay.get(day) ?? 0;
            if (!isAnomalous(dayUsd, trailing, rule)) continue;
            keep(
                await insertAlert(q, {
                    dedupeKey: `${team.name}:anomaly:${day}`,
                    team: team.name,
                    kind: "anomaly",
                    message: `${team.name} spent $${cents(dayUsd)} on ${day}, more than ${rule.factor}× its median day of the previous ${trailing.length} ($${cents(median(trailing))})`,
                }),
            );
        }
    }
    for (const alert of await raiseLateAlerts(q, config, summaries, now)) raised.push(alert);
    return raised;
}

/**
 * A closed month revised after it ended: Cost Explorer revises days until the bill is final, and
 * a charge for the 31st may arrive on the 1st. Each threshold the previous month's spend has now
 * reached, and that was never alerted while the month ran, raises a late alert naming the month
 * (same key as the in-month alert, so a threshold is alerted once either way).
 */
async function raiseLateAlerts(
    q: Queryable,
    config: CostTrackerConfig,
    summaries: readonly TeamSummary[],
    now: Date,
): Promise<AlertRow[]> {
    const current = monthOf(now);
    const previous = monthOf(new Date(`${addDays(current.start, -1)}T00:00:00Z`));
    const month = previous.start.slice(0, 7);
    const { rows } = await q.query<{ team: string; usd: number }>(
        "SELECT team, sum(amount_usd) AS usd FROM daily_spend WHERE day >= $1 AND day < $2 AND team <> '' GROUP BY team",
        [previous.start, previous.next],
    );
    const raised: AlertRow[] = [];
    for (const team of summaries) {
        const spent = rows.find((r) => r.team === team.name)?.usd ?? 0;
        for (const pct of thresholdsReached(spent, team.monthlyBudgetUsd, config.alerts.thresholdsPct)) {
            const alert = await insertAlert(q, {
                dedupeKey: `${team.name}:${month}:budget-${pct}`,
                team: team.name,
                kind: "late-budget-threshold",
                message: `${team.name}: revised figures for ${month}, a closed month, bring its spend to $${cents(spent)} of its $${team.monthlyBudgetUsd} budget: ${pct} % reached`,
            });
            if (alert) raised.push(alert);
        }
    }
    return raised;
}

/** Spend per team and day, all categories, for `from`..`to` (both included). */
async function dailyTotals(q: Queryable, from: string, to: string): Promise<Map<string, Map<string, number>>> {
    const { rows } = await q.query<{ team: string; day: string; usd: number }>(
        "SELECT team, day, sum(amount_usd) AS usd FROM daily_spend WHERE day >= $1 AND day <= $2 GROUP BY team, day",
        [from, to],
    );
    const byTeam = new Map<string, Map<string, number>>();
    for (const r of rows) {
        if (!byTeam.has(r.team)) byTeam.set(r.team, new Map());
        byTeam.get(r.team)!.set(r.day, r.usd);
    }
    return byTeam;
}

/** Where alerts go. */
export interface Notifier {
    readonly name: string;
    send(alert: AlertRow, signal: AbortSignal): Promise<void>;
}

/** A Slack-compatible incoming webhook: a JSON body with `text`. */
export function webhookNotifier(url: string): Notifier {
    return {
        name: "webhook",
        async send(alert, signal) {
            const response = await fetch(url, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ text: `[cost tracker] ${alert.message}` }),
                signal,
            });
            if (!response.ok) throw new Error(`webhook answered ${response.status}`);
        },
    };
}

/** An SNS topic; the region is the topic's. Credentials come from the task role (default provider chain). */
export function snsNotifier(
    topicArn: string,
    client: SNSClient = new SNSClient({ region: topicArn.split(":")[3] }),
): Notifier {
    return {
        name: "sns",
        async send(alert, signal) {
            await client.send(
                new PublishCommand({
                    TopicArn: topicArn,
                    Subject: `Cost tracker: ${alert.kind} for ${alert.team}`,
                    Message: alert.message,
                }),
                { abortSignal: signal },
            );
        },
    };
}

export function notifiersFor(config: CostTrackerConfig): Notifier[] {
    const notifiers: Notifier[] = [];
    if (config.alerts.snsTopicArn) notifiers.push(snsNotifier(config.alerts.snsTopicArn));
    if (config.alerts.webhookUrl) notifiers.push(webhookNotifier(config.alerts.webhookUrl));
    return notifiers;
}

/** Sends each alert to every notifier and records the outcome on the alert. */
export async function deliverAlerts(
    q: Queryable,
    notifiers: readonly Notifier[],
    alerts: readonly AlertRow[],
    timeoutMs = 10_000,
): Promise<void> {
    if (notifiers.length === 0) return;
    for (const alert of alerts) {
        const failures: string[] = [];
        for (const notifier of notifiers) {
            try {
                await notifier.send(alert, AbortSignal.timeout(timeoutMs));
            } catch (err) {
                failures.push(`${notifier.name}: ${err instanceof Error ? err.message : String(err)}`);
            }
        }
        await q.query(
            "UPDATE alerts SET delivered_at = CASE WHEN $2::text IS NULL THEN now() END, delivery_error = $2 WHERE id = $1",
            [alert.id, failures.length ? failures.join("; ") : null],
        );
    }
}
