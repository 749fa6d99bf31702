/**
 * What migration 8 rewrote in the approval (team_money's (team, day) spend read, worst_month_after
 * and approve_gpu_request's claim label), checked through the HTTP API with figures worked by
 * hand. Written to kill the SQL mutants `npm run mutation:sql` applies to migration 8
 * (tools/mutation/sql-mutants.ts). Embedded PGlite.
 *
 * Price from catalog/instances.ts: p5.48xlarge $55.04/h for 8 GPUs → $6.88 per GPU-hour.
 * Budgets from test/helpers.ts (Pulumi.prod.yaml's): applied-ml $40,000 a month.
 */
import * as assert from "assert";
import { trackerSpecApp } from "./helpers";

const NOW = "2026-11-20T12:00:00.000Z";
const ASK = { team: "applied-ml", pool: "h100", priorityClass: "training", requester: "ada@example.com" };

type Body = Record<string, unknown>;

describe("cost tracker approval: migration 8's money reads and claim label (embedded PGlite)", () => {
    const { time, get, post } = trackerSpecApp(NOW, "m8");
    const request = async (payload: object, status: number): Promise<Body> => {
        const res = await post("/v1/gpu-requests", payload);
        assert.strictEqual(res.statusCode, status, res.body);
        return res.json<Body>();
    };
    const spend = async (team: string, amountUsd: number, occurredAt = NOW) => {
        const res = await post("/v1/usage", { records: [{ team, category: "gpu", amountUsd, occurredAt }] });
        assert.strictEqual(res.statusCode, 201, res.body);
    };

    it("counts only the asking team's spend against its budget, not other teams' of the same days", async () => {
        // applied-ml: $40,000 − $39,931.20 = $68.80 left, exactly 1 H100 × 10 h × $6.88. inference's $5,000
        // the same day is inference's: counted against applied-ml, it would leave −$4,931.20.
        await spend("applied-ml", 39931.2);
        await spend("inference", 5000);
        const body = await request({ ...ASK, gpus: 1, hours: 10 }, 201);
        assert.deepStrictEqual([body.remainingUsd, body.overBudget], [0, false]);
    });

    it("names this month, the first one short, when a request is equally short in this month and the next", async () => {
        time.set("2026-11-30T14:00:00.000Z");
        // R: 27 H100s × 225 h × $6.88 = $41,796 from 14:00: November 10/225 = $1,857.60, December
        // 215/225 = $39,938.40 (each under the $40,000 budget, so it fits).
        await request({ ...ASK, gpus: 27, hours: 225 }, 201);
        // November: $40,000 − $38,080.80 spent − $1,857.60 reserved = $61.60 left; December: $40,000 −
        // $39,938.40 = $61.60 left. B: 1 H100 × 20 h = $137.60, $68.80 in each month: $7.20 short in both.
        await spend("applied-ml", 38080.8, "2026-11-30T13:00:00Z");
        const b = await request({ ...ASK, gpus: 1, hours: 20 }, 409);
        assert.deepStrictEqual(
            [b.reason, b.remainingUsd, b.message],
            [
                "over-budget",
                61.6,
                "over budget: $68.8 asked, $61.6 of $40000 left after $38080.8 spent and $1857.6 reserved this month",
            ],
        );
    });

    it("labels a refused growth of a reservation with the requester the body claimed", async () => {
        const workload = {
            namespace: "applied-ml",
            kind: "Job",
            name: "train-1",
            uid: "0b6d4a52-4f1e-4c59-9c3e-7f2a61d0c008",
        };
        // $40,000 − $38,899.21 spent − A's 8 × 10 h × $6.88 = $550.40 leaves $550.39; growing A to 16 × 10 h
        // ($1,100.80) needs $550.40: refused, recorded as a rejected request of its own.
        await spend("applied-ml", 38899.21);
        const a = await request({ ...ASK, gpus: 8, hours: 10, workload }, 201);
        const refused = await request({ ...ASK, requester: "grace@example.com", gpus: 16, hours: 10, workload }, 409);
        assert.strictEqual(refused.reason, "over-budget");
        const rows = (await get("/v1/gpu-requests")).json<Body[]>();
        // The admin token proves who asks; the body's requester is kept as a claim on both rows.
        assert.deepStrictEqual(
            rows.map((r) => [r.id === a.id ? "A" : "refused growth", r.status, r.claimedRequester]).sort(),
            [
                ["A", "approved", "ada@example.com"],
                ["refused growth", "rejected", "grace@example.com"],
            ],
        );
    });
});
