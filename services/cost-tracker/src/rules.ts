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

/** Complete days the forecast's run rate and spread are measured over. */
export const FORECAST_WINDOW_DAYS = 14;
/** Fewer complete days of history than this, and no forecast is made. */
export const FORECAST_MIN_DAYS = 7;
export const FORECAST_CONFIDENCE_PCT = 90;
/**
 * Student's t, upper 5 % point (a two-sided 90 % interval), by degrees of freedom: NIST/SEMATECH
 * e-Handbook of Statistical Methods, section 1.3.6.7.2, "Critical values of the Student's t distribution".
 */
const T_UPPER_5_PCT: Readonly<Record<number, number>> = {
    6: 1.943,
    7: 1.895,
    8: 1.86,
    9: 1.833,
    10: 1.812,
    11: 1.796,
    12: 1.782,
    13: 1.771,
};

export interface Forecast {
    readonly method: "daily-mean-with-prediction-interval";
    /** The last complete UTC day: the forecast is fixed for the day, whatever today's spend so far. */
    readonly asOfDay: string;
    /** Complete days measured (at most 14; days with no spend count as $0 once the team has any history). */
    readonly historyDays: number;
    readonly confidencePct: number;
    /** Null when there is too little history (fewer than 7 complete days since the team's first spend). */
    readonly pointUsd: number | null;
    readonly lowUsd: number | null;
    readonly highUsd: number | null;
}

/**
 * Month-end forecast, computed at a fixed point: the end of the last complete UTC day.
 *
 * - Spent: the month's spend up to and including that day (today's partial spend is left out, so
 *   the figure does not move between page loads during the day).
 * - Rate: the mean daily spend over the last 14 complete days (reaching into the previous month
 *   early in a month; on the 1st, the whole forecast is the rate times the month's days). Days
 *   with no spend count as $0, from the team's first day with spend on record.
 * - Range: a 90 % prediction interval for the sum of the R days left (today included), from the
 *   days' sample standard deviation s over n days: ± t(n − 1) × s × √(R + R²/n) — the spread of R
 *   more days plus the uncertainty of the mean — never below what is already spent.
 * - No history: with fewer than 7 complete days since the team's first spend there is no forecast
 *   (a first half hour's spend times the month is not one).
 *
 * `history`: spend of each complete day, oldest first, at most 14, from the team's first day on record.
 */
export function forecastMonthEnd(
    spentThroughYesterdayUsd: number,
    history: readonly number[],
    today: string,
): Forecast {
    const n = history.length;
    const base = {
        method: "daily-mean-with-prediction-interval" as const,
        asOfDay: addDays(today, -1),
        historyDays: n,
        confidencePct: FORECAST_CONFIDENCE_PCT,
    };
    if (n < FORECAST_MIN_DAYS) return { ...base, pointUsd: null, lowUsd: null, highUsd: null };
    const { next } = monthOf(new Date(`${today}T00:00:00Z`));
    const daysLeft = daysBetween(today, addDays(next, -1)).length;
    const mean = history.reduce((sum, v) => sum + v, 0) / n;
    const variance = history.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1);
    const t = T_UPPER_5_PCT[n - 1] ?? T_UPPER_5_PCT[13];
    const half = t * Math.sqrt(variance) * Math.sqrt(daysLeft + (daysLeft * daysLeft) / n);
    const point = spentThroughYesterdayUsd + mean * daysLeft;
    return {
        ...base,
        pointUsd: point,
        lowUsd: Math.max(spentThroughYesterdayUsd, point - half),
        highUsd: point + half,
    };
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
