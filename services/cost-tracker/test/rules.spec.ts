import * as assert from "assert";
import { forecastMonthEnd, isAnomalous, median, monthOf, thresholdsReached } from "../src/rules";

const RULE = { factor: 3, trailingDays: 14, minDailyUsd: 100 };

describe("cost tracker: forecast, thresholds, anomalies", () => {
    it("forecasts month-to-date plus the trailing 7-day mean for each day left", () => {
        // 21 Nov 00:00 UTC: 10 days left in November; mean of the week 1000 → 20000 + 10 × 1000.
        assert.strictEqual(
            forecastMonthEnd(20000, [1000, 1000, 1000, 1000, 1000, 500, 1500], new Date("2026-11-21T00:00:00Z")),
            30000,
        );
        // Noon on the 20th: 10.5 days left.
        assert.strictEqual(
            forecastMonthEnd(20000, [700, 700, 700, 700, 700, 700, 700], new Date("2026-11-20T12:00:00Z")),
            20000 + 10.5 * 700,
        );
    });

    it("uses the month-to-date rate when no complete day is on record", () => {
        // 1 Nov noon: $1000 in half a day is $2000 a day, for the 29.5 days left.
        assert.strictEqual(forecastMonthEnd(1000, [], new Date("2026-11-01T12:00:00Z")), 1000 + 29.5 * 2000);
        assert.strictEqual(forecastMonthEnd(0, [], new Date("2026-12-01T00:00:00Z")), 0);
    });

    it("knows the month's bounds across a year end", () => {
        assert.deepStrictEqual(monthOf(new Date("2026-12-31T23:59:59Z")), { start: "2026-12-01", next: "2027-01-01" });
    });

    it("reports each budget threshold reached", () => {
        assert.deepStrictEqual(thresholdsReached(19999.99, 40000, [50, 80, 100]), []);
        assert.deepStrictEqual(thresholdsReached(32000, 40000, [50, 80, 100]), [50, 80]);
        assert.deepStrictEqual(thresholdsReached(40000, 40000, [50, 80, 100]), [50, 80, 100]);
    });

    it("flags a day above three times the trailing median and the floor", () => {
        const normal = Array(14).fill(200);
        assert.strictEqual(isAnomalous(601, normal, RULE), true);
        assert.strictEqual(isAnomalous(600, normal, RULE), false, "exactly 3× is not above it");
        assert.strictEqual(isAnomalous(90, Array(14).fill(20), RULE), false, "under the $100 floor");
        // One earlier spike does not lift the median, so the next spike is still seen.
        assert.strictEqual(isAnomalous(700, [...Array(13).fill(200), 5000], RULE), true);
    });

    it("needs half the trailing window on record before it judges a day", () => {
        assert.strictEqual(isAnomalous(5000, Array(6).fill(100), RULE), false);
        assert.strictEqual(isAnomalous(5000, Array(7).fill(100), RULE), true);
    });

    it("takes the middle value, or the mean of the two middle ones", () => {
        assert.strictEqual(median([5, 1, 3]), 3);
        assert.strictEqual(median([4, 1, 3, 2]), 2.5);
    });
});
