/**
 * The validation layer's rules and the messages a caller reads: text the database cannot store
 * (NUL, a lone surrogate) anywhere in a body, in a value or a key, including an array's first
 * element; control characters in identifiers; and RFC 3339 dates and instants at the edges of
 * what exists (year 1, January, 23:59:59, offsets up to ±23:59).
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import type { Database } from "../src/db/database";
import { decimalPlaces, isCalendarDate, isInstant } from "../src/http/validation";
import { AUTH, clock, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

const NOW = "2026-11-20T12:00:00Z";

describe("cost tracker: text a body may not hold", () => {
    let db: Database;
    let app: FastifyInstance;
    let keys = 0;

    before(async () => {
        db = await testDatabase();
        await resetDatabase(db, testConfig());
        app = await testApp(db, { now: clock(NOW).now });
    });
    after(() => app.close());

    const record = { team: "inference", category: "ai-api", amountUsd: 1, occurredAt: "2026-11-19T10:00:00Z" };
    /** The 400's message for a body, after checking it is a 400 and nothing was stored. */
    const refusal = async (url: string, payload: object): Promise<string> => {
        const res = await app.inject({
            method: "POST",
            url,
            payload,
            headers: { ...AUTH, "idempotency-key": `text-${++keys}` },
        });
        assert.strictEqual(res.statusCode, 400, res.body);
        const usage = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM usage");
        assert.strictEqual(usage.rows[0].n, 0);
        return res.json().message as string;
    };

    it("refuses NUL in the first record of a batch, naming records[0]", async () => {
        assert.strictEqual(
            await refusal("/v1/usage", { records: [{ ...record, description: "gpt\u0000" }, record] }),
            "records[0].description: must not contain NUL (U+0000)",
        );
    });

    it("refuses a lone surrogate, saying it is not valid Unicode", async () => {
        assert.strictEqual(
            await refusal("/v1/usage", { records: [{ ...record, description: "gpt \ud83d" }] }),
            "records[0].description: must not contain an unpaired UTF-16 surrogate (not valid Unicode)",
        );
    });

    it("refuses a key with NUL or a lone surrogate as an invalid field name, escaped in the answer", async () => {
        assert.strictEqual(
            await refusal("/v1/usage", { records: [{ ...record, "note\u0000": "x" }] }),
            "records[0].note\\u0000: is not a valid field name: must not contain NUL (U+0000)",
        );
        assert.strictEqual(
            await refusal("/v1/usage", { "batch\udc00": 1, records: [record] }),
            "batch\\udc00: is not a valid field name: must not contain an unpaired UTF-16 surrogate (not valid Unicode)",
        );
    });

    it("refuses a tab in an identifier, saying which characters identifiers may not hold", async () => {
        assert.strictEqual(
            await refusal("/v1/gpu-requests", {
                team: "ml-research",
                pool: "h100",
                gpus: 1,
                hours: 1,
                priorityClass: "training",
                requester: "ada\t@example.com",
            }),
            "requester: must not contain control or format characters (line breaks, tabs, bidi overrides)",
        );
    });
});

describe("cost tracker: RFC 3339 dates, instants and decimals", () => {
    it("takes real days from 0001-01-01, January and December included", () => {
        for (const day of ["0001-01-01", "2026-01-15", "2026-12-31", "2024-02-29", "2026-01-31"])
            assert.strictEqual(isCalendarDate(day), true, day);
    });

    it("refuses days that do not exist or are not YYYY-MM-DD", () => {
        for (const day of [
            "0000-12-31",
            "2026-00-10",
            "2026-13-01",
            "2026-02-29",
            "2026-04-31",
            "2026-01-00",
            "2026-1-1",
            "20261120",
        ])
            assert.strictEqual(isCalendarDate(day), false, day);
    });

    it("takes the last second of a day and offsets up to ±23:59", () => {
        for (const at of [
            "2026-11-20T23:59:59Z",
            "2026-11-20T00:00:00+23:00",
            "2026-11-20T00:00:00-05:59",
            "2026-11-20T00:00:00+23:59",
        ])
            assert.strictEqual(isInstant(at), true, at);
    });

    it("refuses 24:00, minute 60, a leap second and offsets past 23:59", () => {
        for (const at of [
            "2026-11-20T24:00:00Z",
            "2026-11-20T12:60:00Z",
            "2026-12-31T23:59:60Z",
            "2026-11-20T00:00:00+24:00",
            "2026-11-20T00:00:00+05:60",
            "2026-02-30T00:00:00Z",
            "2026-11-20 12:00:00Z",
        ])
            assert.strictEqual(isInstant(at), false, at);
    });

    it("counts a number's decimals as written; a number that is not finite has no finite count", () => {
        // 10.005 → 3; 1e-7 → 7; 1.5e-3 = 0.0015 → 4; 120 → 0.
        assert.deepStrictEqual([10.005, 1e-7, 1.5e-3, 120].map(decimalPlaces), [3, 7, 4, 0]);
        assert.strictEqual(decimalPlaces(Infinity), Infinity);
        assert.strictEqual(decimalPlaces(NaN), Infinity);
    });
});
