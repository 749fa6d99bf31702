/**
 * The Cost Explorer source on its own: the days it re-reads (look-back, the previous month until
 * its close day, Estimated days up to 95 days back) and how each group of a GetCostAndUsage answer
 * lands on one line, served to the real AWS SDK client by a loopback server in the awsJson1_1
 * protocol. Answers follow the Cost Explorer API reference (GetCostAndUsage: ResultsByTime[]
 * with TimePeriod, Estimated and Groups[].Keys ["<tag key>$<value>", "<RECORD_TYPE>"], amounts as
 * decimal strings, pages through NextPageToken, which can split a day's groups over pages).
 */
import * as assert from "assert";
import { CostExplorerClient } from "@aws-sdk/client-cost-explorer";
import { CostExplorerSource, type CostExplorerOptions } from "../src/sources/cost-explorer";
import { fakeApi, json, type LoopbackApi } from "./loopback-api";

const TEAMS = ["ml-research", "inference", "applied-ml"];
const group = (tag: string, recordType: string | undefined, amount: string) => ({
    Keys: recordType === undefined ? [tag] : [tag, recordType],
    Metrics: { AmortizedCost: { Amount: amount, Unit: "USD" } },
});
const day = (start: string, end: string, estimated: boolean, groups: unknown[]) => ({
    TimePeriod: { Start: start, End: end },
    Total: {},
    Groups: groups,
    Estimated: estimated,
});

describe("cost tracker: Cost Explorer source", () => {
    describe("the days a run re-reads", () => {
        const source = (closeDay?: number) =>
            new CostExplorerSource({
                client: new CostExplorerClient({ region: "us-east-1" }),
                tagKey: "team",
                teams: TEAMS,
                lookbackDays: 3,
                closeDay,
            });

        it("re-reads the whole previous month up to and including its close day (5th by default), then only the look-back", () => {
            // 5 December: 1 November to 5 December, 30 + 5 = 35 days.
            const onClose = source().revisionDays("2026-12-05", []);
            assert.deepStrictEqual([onClose.length, onClose[0], onClose.at(-1)], [35, "2026-11-01", "2026-12-05"]);
            // 6 December: the look-back only, 3 to 6 December.
            assert.deepStrictEqual(source().revisionDays("2026-12-06", []), [
                "2026-12-03",
                "2026-12-04",
                "2026-12-05",
                "2026-12-06",
            ]);
            // A close day of 2: the 3rd is past it, the 2nd is not.
            assert.strictEqual(source(2).revisionDays("2026-12-03", [])[0], "2026-11-30");
            assert.strictEqual(source(2).revisionDays("2026-12-02", [])[0], "2026-11-01");
        });

        it("re-reads from an Estimated day on record exactly 95 days back, but not from one 96 days back", () => {
            // 6 December 2026 − 95 days = 2 September (6 + 30 + 31 + 28 = 95 back to 2 Sep).
            const from95 = source().revisionDays("2026-12-06", ["2026-09-02"]);
            assert.deepStrictEqual([from95[0], from95.length], ["2026-09-02", 96]);
            assert.strictEqual(source().revisionDays("2026-12-06", ["2026-09-01"])[0], "2026-12-03");
            // A recent Estimated day inside the window: from it (20 November, 17 days to 6 December).
            assert.strictEqual(source().revisionDays("2026-12-06", ["2026-11-20", "2026-09-01"])[0], "2026-11-20");
        });
    });

    describe("reading the bill", () => {
        let api: LoopbackApi;
        before(async () => {
            api = await fakeApi();
        });
        after(() => api.close());
        beforeEach(() => void (api.seen.length = 0));

        const client = () =>
            new CostExplorerClient({
                region: "us-east-1",
                endpoint: api.url,
                // Dummy credentials for this test only: the fake server checks no signature.
                credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
                maxAttempts: 1,
            });
        const source = (options: Partial<CostExplorerOptions> = {}) =>
            new CostExplorerSource({ client: client(), tagKey: "team", teams: TEAMS, lookbackDays: 3, ...options });
        const pages = (...bodies: unknown[]) =>
            api.handle((req, res) => {
                const token = (JSON.parse(req.body) as { NextPageToken?: string }).NextPageToken;
                json(res, bodies[token === undefined ? 0 : Number(token)], "application/x-amz-json-1.1");
            });
        const signal = () => new AbortController().signal;

        it("puts each group on one line, merges groups of one line, and keeps the day's total and the cluster's part", async () => {
            pages(
                {
                    ResultsByTime: [
                        // Not asked for: left out of records and bill alike.
                        day("2026-11-17", "2026-11-18", false, [group("team$inference", "Usage", "99")]),
                        day("2026-11-18", "2026-11-19", false, [
                            group("team$inference", "Usage", "10.5"),
                            group("team$inference", "Tax", "1.5"),
                            group("team$", "Usage", "20"),
                            group("team$", "Refund", "-2"),
                            group("team$", "Tax", "0.5"),
                            group("team$platform", "Usage", "100"),
                            group("team$applied-ml", "Usage", "0.0"),
                        ]),
                    ],
                    NextPageToken: "1",
                },
                {
                    ResultsByTime: [
                        // The rest of 18 November's groups, now Estimated.
                        day("2026-11-18", "2026-11-19", true, [group("team$ml-research", "Usage", "3")]),
                        day("2026-11-19", "2026-11-20", false, [
                            group("team$marketing", "Usage", "4"),
                            group("team$platform", "Credit", "-30"),
                            group("team$applied-ml", undefined, "7"),
                        ]),
                    ],
                },
            );
            const { records, bill } = await source().readWithBill(["2026-11-18", "2026-11-19"], signal());
            const base = { day: "2026-11-18", estimated: false };
            assert.deepStrictEqual(records, [
                {
                    ...base,
                    team: "inference",
                    line: "team",
                    category: "other-aws",
                    amountUsd: 10.5,
                    detail: "Cost Explorer, Usage, tag team$inference",
                },
                {
                    ...base,
                    team: "inference",
                    line: "team",
                    category: "credits-tax",
                    amountUsd: 1.5,
                    detail: "Cost Explorer, Tax, tag team$inference",
                },
                {
                    ...base,
                    team: "",
                    line: "unallocated",
                    category: "other-aws",
                    amountUsd: 20,
                    detail: "Cost Explorer, Usage, untagged",
                },
                // Refund −2 and tax 0.5, both untagged: one line, −1.5.
                {
                    ...base,
                    team: "",
                    line: "unallocated",
                    category: "credits-tax",
                    amountUsd: -1.5,
                    detail: "Cost Explorer, several tags or record types",
                },
                {
                    ...base,
                    estimated: true,
                    team: "ml-research",
                    line: "team",
                    category: "other-aws",
                    amountUsd: 3,
                    detail: "Cost Explorer, Usage, tag team$ml-research",
                },
                {
                    day: "2026-11-19",
                    estimated: false,
                    team: "",
                    line: "unallocated",
                    category: "other-aws",
                    amountUsd: 4,
                    detail: "Cost Explorer, Usage, tag team=marketing matches no team",
                },
                // A credit tagged as the cluster's is not its nodes' usage: unallocated, not a bill-only figure.
                {
                    day: "2026-11-19",
                    estimated: false,
                    team: "",
                    line: "unallocated",
                    category: "credits-tax",
                    amountUsd: -30,
                    detail: "Cost Explorer, Credit, tag team=platform matches no team",
                },
                // A group without a record type is usage.
                {
                    day: "2026-11-19",
                    estimated: false,
                    team: "applied-ml",
                    line: "team",
                    category: "other-aws",
                    amountUsd: 7,
                    detail: "Cost Explorer, Usage, tag team$applied-ml",
                },
            ]);
            // 18 Nov: 10.5 + 1.5 + 20 − 2 + 0.5 + 100 + 3 = 133.5, the cluster's $100; Estimated once any page says so.
            // 19 Nov: 4 − 30 + 7 = −19.
            assert.deepStrictEqual(bill, [
                {
                    day: "2026-11-18",
                    metric: "AmortizedCost",
                    totalUsd: 133.5,
                    clusterUsd: 100,
                    estimated: true,
                },
                { day: "2026-11-19", metric: "AmortizedCost", totalUsd: -19, clusterUsd: 0, estimated: false },
            ]);
            const requests = api.seen.map((s) => JSON.parse(s.body) as Record<string, unknown>);
            assert.deepStrictEqual(requests, [
                {
                    TimePeriod: { Start: "2026-11-18", End: "2026-11-20" },
                    Granularity: "DAILY",
                    Metrics: ["AmortizedCost"],
                    GroupBy: [
                        { Type: "TAG", Key: "team" },
                        { Type: "DIMENSION", Key: "RECORD_TYPE" },
                    ],
                },
                {
                    TimePeriod: { Start: "2026-11-18", End: "2026-11-20" },
                    Granularity: "DAILY",
                    Metrics: ["AmortizedCost"],
                    GroupBy: [
                        { Type: "TAG", Key: "team" },
                        { Type: "DIMENSION", Key: "RECORD_TYPE" },
                    ],
                    NextPageToken: "1",
                },
            ]);
        });

        it("never takes untagged spend for the cluster's own, even with an empty cluster tag value", async () => {
            pages({ ResultsByTime: [day("2026-11-18", "2026-11-19", false, [group("team$", "Usage", "20")])] });
            const { records, bill } = await source({ clusterTagValue: "" }).readWithBill(["2026-11-18"], signal());
            assert.deepStrictEqual(
                records.map((r) => [r.line, r.amountUsd, r.detail]),
                [["unallocated", 20, "Cost Explorer, Usage, untagged"]],
            );
            assert.deepStrictEqual(
                bill.map((b) => [b.totalUsd, b.clusterUsd]),
                [[20, 0]],
            );
        });

        it("refuses an answer without ResultsByTime and an amount in another currency, naming the group", async () => {
            pages({});
            await assert.rejects(source().readWithBill(["2026-11-18"], signal()), {
                name: "SourceError",
                message: "cost-explorer: GetCostAndUsage answered without ResultsByTime",
            });
            pages({
                ResultsByTime: [
                    day("2026-11-18", "2026-11-19", false, [
                        { Keys: ["team$inference", "Usage"], Metrics: { AmortizedCost: { Amount: "9", Unit: "EUR" } } },
                    ]),
                ],
            });
            await assert.rejects(source().readWithBill(["2026-11-18"], signal()), {
                name: "SourceError",
                message: "cost-explorer: cost for team$inference on 2026-11-18 is in EUR, not USD",
            });
        });

        it("stops when the run is aborted", async () => {
            pages({ ResultsByTime: [] });
            const controller = new AbortController();
            controller.abort();
            await assert.rejects(source().readWithBill(["2026-11-18"], controller.signal));
            assert.strictEqual(api.seen.length, 0);
        });
    });
});
