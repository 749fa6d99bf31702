/**
 * The alerts spend calls for, raised directly from hand-written team summaries over spend on the
 * embedded database: an anomalous yesterday or today against the days before it (only days since
 * the team's first spend), the forecast passing the budget (not reaching it), and a closed
 * month's late threshold; then their delivery, to notifiers on a loopback server or none.
 *
 * Anomaly rule of these specs: a day is anomalous at ≥ $100 and more than 3× the median of up to
 * 4 days before it, needing at least 2 of them (rules.ts, isAnomalous: ceil(4 / 2)).
 */
import * as assert from "assert";
import { SNSClient } from "@aws-sdk/client-sns";
import type { TeamSummary } from "../src/api-types";
import { deliverAlerts, insertAlert, listAlerts, raiseSpendAlerts, snsNotifier, webhookNotifier } from "../src/alerts";
import type { Database } from "../src/db/database";
import type { UsageRecord } from "../src/model";
import { replaceSourceDays } from "../src/usage";
import { resetDatabase, testConfig, testDatabase } from "./helpers";
import { fakeApi, type LoopbackApi } from "./loopback-api";

const base = testConfig();
const config = testConfig({ alerts: { ...base.alerts, anomaly: { factor: 3, trailingDays: 4, minDailyUsd: 100 } } });
const BUDGETS: Record<string, number> = { "ml-research": 120000, inference: 80000, "applied-ml": 40000 };

/** A team's summary as the tracker answers it, with only what alerts read set to something else than nothing. */
function summary(name: string, month: string, forecastUsd: number | null = null): TeamSummary {
    return {
        name,
        costCenter: "",
        monthlyBudgetUsd: BUDGETS[name],
        month,
        monthToDateUsd: 0,
        reservedUsd: 0,
        remainingUsd: BUDGETS[name],
        forecastUsd,
        forecast: {
            method: "daily-mean-with-prediction-interval",
            asOfDay: "",
            historyDays: 14,
            confidencePct: 95,
            pointUsd: forecastUsd,
            lowUsd: 1,
            highUsd: 2,
        },
        byCategory: { gpu: 0, "cpu-memory": 0, storage: 0, network: 0, "ai-api": 0, "other-aws": 0, "credits-tax": 0 },
        gpuUtilisation: null,
    };
}
const TEAMS = ["ml-research", "inference", "applied-ml"];

describe("cost tracker: spend alerts, raised and delivered directly (embedded PGlite)", () => {
    let db: Database;
    const spend = (entries: Array<[string, string, number]>, now: Date) => {
        const records: UsageRecord[] = entries.map(([team, day, amountUsd]) => ({
            day,
            team,
            category: "cpu-memory",
            amountUsd,
        }));
        return replaceSourceDays(db, "opencost", [...new Set(records.map((r) => r.day))], records, now);
    };
    before(async () => {
        db = await testDatabase();
    });
    beforeEach(() => resetDatabase(db, config));

    it("raises an anomaly for yesterday or today against the days before it since the team's first spend", async () => {
        const now = new Date("2026-11-20T12:00:00Z");
        await spend(
            [
                // inference: $10 a day 15–18 November, $150 yesterday (19th): median of 4 days $10, 150 > 3 × 10.
                ["inference", "2026-11-15", 10],
                ["inference", "2026-11-16", 10],
                ["inference", "2026-11-17", 10],
                ["inference", "2026-11-18", 10],
                ["inference", "2026-11-19", 150],
                // applied-ml: first spend on the 17th, $10 a day to the 19th, $200 today: only 3 days before it count.
                ["applied-ml", "2026-11-17", 10],
                ["applied-ml", "2026-11-18", 10],
                ["applied-ml", "2026-11-19", 10],
                ["applied-ml", "2026-11-20", 200],
                // ml-research: its first spend today, nothing before it to compare with.
                ["ml-research", "2026-11-20", 500],
            ],
            now,
        );
        const raised = await raiseSpendAlerts(
            db,
            config,
            TEAMS.map((t) => summary(t, "2026-11")),
            now,
        );
        assert.deepStrictEqual(
            raised.map((a) => [a.team, a.kind, a.message]),
            [
                [
                    "inference",
                    "anomaly",
                    "inference spent $150 on 2026-11-19, more than 3× its median day of the previous 4 ($10)",
                ],
                [
                    "applied-ml",
                    "anomaly",
                    "applied-ml spent $200 on 2026-11-20, more than 3× its median day of the previous 3 ($10)",
                ],
            ],
        );
        // Raised once: the same spend an hour later raises nothing new.
        assert.deepStrictEqual(
            await raiseSpendAlerts(
                db,
                config,
                TEAMS.map((t) => summary(t, "2026-11")),
                new Date("2026-11-20T13:00:00Z"),
            ),
            [],
        );
    });

    it("raises a forecast alert for each team forecast over its budget, not for one forecast exactly at it", async () => {
        const raised = await raiseSpendAlerts(
            db,
            config,
            [
                summary("ml-research", "2026-11", 130000),
                summary("inference", "2026-11", 80000),
                summary("applied-ml", "2026-11", 40000.01),
            ],
            new Date("2026-11-20T12:00:00Z"),
        );
        assert.deepStrictEqual(
            raised.map((a) => a.message),
            [
                "ml-research is forecast to spend $130000 in 2026-11 (95 % range $1–$2), over its $120000 budget",
                "applied-ml is forecast to spend $40000.01 in 2026-11 (95 % range $1–$2), over its $40000 budget",
            ],
        );
    });

    it("raises a late threshold alert for the team whose closed month's revised spend reached it, only that team", async () => {
        const now = new Date("2026-12-01T06:00:00Z");
        // inference: $40,000 on 30 November, 50 % of its $80,000; the other teams nothing in November.
        await spend([["inference", "2026-11-30", 40000]], now);
        const raised = await raiseSpendAlerts(
            db,
            config,
            TEAMS.map((t) => summary(t, "2026-12")),
            now,
        );
        assert.deepStrictEqual(
            raised.map((a) => [a.team, a.kind, a.message]),
            [
                [
                    "inference",
                    "late-budget-threshold",
                    "inference: revised figures for 2026-11, a closed month, bring its spend to $40000 of its $80000 budget: 50 % reached",
                ],
            ],
        );
    });

    describe("delivery", () => {
        let api: LoopbackApi;
        before(async () => {
            api = await fakeApi();
        });
        after(() => api.close());
        beforeEach(() => void (api.seen.length = 0));

        const alert = async (key: string, team = "inference") =>
            (await insertAlert(db, { dedupeKey: key, team, kind: "anomaly", message: `${team} spent a lot` }))!;
        const stored = async (id: number) => (await listAlerts(db, { limit: 10 })).find((a) => a.id === id)!;

        it("leaves an alert undelivered when there is no notifier, and lists every team's alerts newest first", async () => {
            const a = await alert("a", "inference");
            const b = await alert("b", "applied-ml");
            await deliverAlerts(db, [], [a, b]);
            const listed = await listAlerts(db, { limit: 10 });
            assert.deepStrictEqual(
                listed.map((l) => [l.id, l.team, l.deliveredAt, l.deliveryError]),
                [
                    [b.id, "applied-ml", null, null],
                    [a.id, "inference", null, null],
                ],
            );
        });

        it("posts the alert's text as JSON to a webhook and records it delivered", async () => {
            api.handle((_req, res) => res.writeHead(200).end("ok"));
            const a = await alert("webhook");
            await deliverAlerts(db, [webhookNotifier(`${api.url}/hook`)], [a]);
            assert.deepStrictEqual(
                api.seen.map((s) => [s.method, s.url, s.headers["content-type"], s.body]),
                [
                    [
                        "POST",
                        "/hook",
                        "application/json",
                        JSON.stringify({ text: "[cost tracker] inference spent a lot" }),
                    ],
                ],
            );
            const after = await stored(a.id);
            assert.deepStrictEqual([after.deliveredAt !== null, after.deliveryError], [true, null]);
        });

        it("records every notifier's failure, separated, and gives up on an SNS topic that does not answer in time", async () => {
            // The server never answers: the publish is aborted at the delivery's timeout.
            api.handle(() => undefined);
            const sns = new SNSClient({
                region: "us-east-1",
                endpoint: api.url,
                // Dummy credentials for this test only: the fake server checks no signature.
                credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
                maxAttempts: 1,
            });
            const failing = {
                name: "pager",
                send: () => Promise.reject(new Error("down")),
            };
            const a = await alert("failing");
            await deliverAlerts(
                db,
                [failing, snsNotifier("arn:aws:sns:us-east-1:123456789012:cost-alerts", sns)],
                [a],
                200,
            );
            const after = await stored(a.id);
            assert.strictEqual(after.deliveredAt, null);
            assert.match(after.deliveryError ?? "", /^pager: down; sns: ./);
        });
    });
});
