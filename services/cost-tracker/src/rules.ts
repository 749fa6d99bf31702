/**
 * The service's arithmetic, pure so it is tested on hand-computed figures: the month-end
 * forecast, the budget thresholds crossed, the anomaly rule, and UTC calendar helpers.
 */

const DAY_MS = 86_400_000;

/** "YYYY-MM-DD" of a moment, in UTC (every day the service counts is a UTC day, as OpenCost's and Cost Explorer's are). */
export function utcDay(at: Date): string {
    return at.toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
    return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS));
}

/** The first day of the month of `at`, and the first day of the next month. */
export function monthOf(at: Date): { start: string; next: string } {
    const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
    const next = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
    return { start: utcDay(start), next: utcDay(next) };
}

/** Days from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
    const days: string[] = [];
    for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
    return days;
}

export function median(values: readonly number[]): number {
    if (values.length === 0) return 0;
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Complete days the forecast's run rate averages over. */
export const FORECAST_TRAILING_DAYS = 7;

/**
 * Month-end forecast: month-to-date spend plus a run rate times the time left in the month.
 * The run rate is the mean daily spend of the last 7 complete UTC days (reaching into the
 * previous month early in a month, so day 1 has a rate); with no complete day on record it is
 * the month-to-date spend per elapsed day. Reservations are not added: they are spend the run
 * rate already expects, and adding them would count it twice.
 *
 * `trailingDailyUsd`: spend of each of the last complete days, at most 7, days with no spend as 0.
 */
export function forecastMonthEnd(monthToDateUsd: number, trailingDailyUsd: readonly number[], now: Date): number {
    const { start, next } = monthOf(now);
    const monthStart = Date.parse(`${start}T00:00:00Z`);
    const elapsedDays = (now.getTime() - monthStart) / DAY_MS;
    const remainingDays = (Date.parse(`${next}T00:00:00Z`) - now.getTime()) / DAY_MS;
    const rate =
        trailingDailyUsd.length > 0
            ? trailingDailyUsd.reduce((sum, v) => sum + v, 0) / trailingDailyUsd.length
            : elapsedDays > 0
              ? monthToDateUsd / elapsedDays
              : 0;
    return monthToDateUsd + rate * remainingDays;
}

/** The thresholds (percent of budget) that `spentUsd` has reached. */
export function thresholdsReached(spentUsd: number, budgetUsd: number, thresholdsPct: readonly number[]): number[] {
    return thresholdsPct.filter((pct) => spentUsd >= (budgetUsd * pct) / 100);
}

export interface AnomalyRule {
    readonly factor: number;
    readonly trailingDays: number;
    readonly minDailyUsd: number;
}

/**
 * A day is anomalous when its spend is above `factor` times the median of the `trailingDays`
 * days before it and at least `minDailyUsd`. The median, not the mean, so one earlier spike
 * does not hide the next; the floor, so a team spending $5 a day is not alerted for $20. At
 * least half the trailing window must be on record, or there is no "normal" to compare with.
 *
 * `trailingUsd`: the days before, oldest first, days with no spend as 0 (only days since the team's first spend).
 */
export function isAnomalous(dayUsd: number, trailingUsd: readonly number[], rule: AnomalyRule): boolean {
    if (trailingUsd.length < Math.ceil(rule.trailingDays / 2)) return false;
    const window = trailingUsd.slice(-rule.trailingDays);
    return dayUsd >= rule.minDailyUsd && dayUsd > rule.factor * median(window);
}
