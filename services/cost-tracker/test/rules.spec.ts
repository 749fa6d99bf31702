import * as assert from "assert";
import { forecastMonthEnd, isAnomalous, median, monthOf, thresholdsReached } from "../src/rules";

const RULE = { factor: 3, trailingDays: 14, minDailyUsd: 100 };

describe("cost tracker: forecast, thresholds, anomalies", () => {
    const point = (f: ReturnType<typeof forecastMonthEnd>) => [f.pointUsd, f.lowUsd, f.highUsd].map(round2);
    const round2 = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

    it("forecasts spend through yesterday plus the 14-day mean for each day left, with no range when every day is alike", () => {
        // 21 Nov: 10 days left (21–30); $20,000 spent through the 20th; 14 days of $1,000 → $30,000, s = 0.
        const f = forecastMonthEnd(20000, Array(14).fill(1000), "2026-11-21");
        assert.deepStrictEqual(point(f), [30000, 30000, 30000]);
        assert.deepStrictEqual([f.asOfDay, f.historyDays, f.confidencePct], ["2026-11-20", 14, 90]);
    });

    it("counts days with no spend as $0 and gives a 90 % prediction interval from the days' spread", () => {
        // 20 Nov: 11 days left. Seven days of $0 then seven of $900: mean $450, s = √(14 × 450² / 13) = $466.9871.
        // Point: $6,300 + 11 × $450 = $11,250. Half-width: t(13) 1.771 × 466.9871 × √(11 + 11²/14) = $3,665.44.
        const f = forecastMonthEnd(6300, [...Array(7).fill(0), ...Array(7).fill(900)], "2026-11-20");
        assert.deepStrictEqual(point(f), [11250, 7584.56, 14915.44]);
    });

    it("never forecasts below what is already spent", () => {
        // Ten days of $0, four of $900: mean $257.142857, s = $421.9265; point $6,100 + 11 × 257.142857 = $8,928.57;
        // half-width 1.771 × 421.9265 × √(11 + 121/14) = $3,311.75, so the low end would be $5,616.82: it is the $6,100 spent.
        const f = forecastMonthEnd(6100, [...Array(10).fill(0), ...Array(4).fill(900)], "2026-11-20");
        assert.deepStrictEqual(point(f), [8928.57, 6100, 12240.32]);
    });

    it("on the 1st forecasts the whole month from the previous 14 days, leaving out today's first spend", () => {
        // 1 January 00:30, $5,000 already spent today: not a complete day, not used. 31 days × $300 = $9,300.
        assert.deepStrictEqual(point(forecastMonthEnd(0, Array(14).fill(300), "2027-01-01")), [9300, 9300, 9300]);
    });

    it("makes no forecast with fewer than 7 complete days of history", () => {
        const f = forecastMonthEnd(5000, [1000, 1200, 900], "2026-11-04");
        assert.deepStrictEqual([f.pointUsd, f.lowUsd, f.highUsd, f.historyDays], [null, null, null, 3]);
        assert.strictEqual(forecastMonthEnd(0, [], "2027-01-01").pointUsd, null);
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

    it("flags a day of exactly the floor, and judges against the last trailingDays days only", () => {
        // $100 is the floor: at it counts ("at least"), when it is above 3 × the median of $20.
        assert.strictEqual(isAnomalous(100, Array(14).fill(20), RULE), true);
        // 29 days on record: the 15 oldest at $1,000 are outside the 14-day window, whose median is $20
        // (over all 29 days the median would be $1,000, and $500 no anomaly).
        assert.strictEqual(isAnomalous(500, [...Array(15).fill(1000), ...Array(14).fill(20)], RULE), true);
    });

    it("needs half the trailing window on record before it judges a day", () => {
        assert.strictEqual(isAnomalous(5000, Array(6).fill(100), RULE), false);
        assert.strictEqual(isAnomalous(5000, Array(7).fill(100), RULE), true);
    });

    it("takes the middle value, or the mean of the two middle ones", () => {
        assert.strictEqual(median([5, 1, 3]), 3);
        assert.strictEqual(median([4, 1, 3, 2]), 2.5);
        assert.strictEqual(median([]), 0, "no values: no median to compare with");
    });
});
