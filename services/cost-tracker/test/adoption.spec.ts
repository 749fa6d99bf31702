/**
 * A request for a workload that already holds a live reservation adopts it (migrations 3 and 7:
 * reservation_to_adopt, decide_adoption), as docs/budget-gate.md describes: one reservation per
 * workload, never lowered, never shortened, grown only by what fits, bound to one team, and never
 * an expired one. Figures worked by hand; embedded PGlite.
 *
 * Price from catalog/instances.ts: p5.48xlarge $55.04/h for 8 GPUs → $6.88 per GPU-hour.
 */
import * as assert from "assert";
import { trackerSpecApp } from "./helpers";

const NOW = "2026-11-20T12:00:00.000Z";
const UID = "0b6d4a52-4f1e-4c59-9c3e-7f2a61d0c001";
const WORKLOAD = { namespace: "applied-ml", kind: "Job", name: "train-1", uid: UID };
const ASK = { team: "applied-ml", pool: "h100", priorityClass: "training", requester: "ada@example.com" };

type Body = Record<string, unknown>;

describe("cost tracker adoption of a workload's reservation (embedded PGlite)", () => {
    const { time, get, post } = trackerSpecApp(NOW, "adopt");
    const request = async (payload: object, status: number): Promise<Body> => {
        const res = await post("/v1/gpu-requests", payload);
        assert.strictEqual(res.statusCode, status, res.body);
        return res.json<Body>();
    };
    // A: 8 H100s × 10 h × $6.88 = $550.40 from noon, expiring after 10 h + 2 h grace at midnight.
    const reserveA = () => request({ ...ASK, gpus: 8, hours: 10, workload: WORKLOAD }, 201);

    it("keeps the reservation's estimate and expiry when a smaller, shorter request adopts it", async () => {
        const a = await reserveA();
        time.set("2026-11-20T14:00:00.000Z");
        // 2 × 5 h = $68.80, ending with its grace at 21:00: less, and sooner, than A holds.
        const again = await request({ ...ASK, gpus: 2, hours: 5, workload: WORKLOAD }, 200);
        assert.deepStrictEqual(
            [again.id, again.adopted, again.estimatedCostUsd, again.expiresAt, again.reason],
            [a.id, true, 550.4, "2026-11-21T00:00:00.000Z", "adopted: the reservation already covers this workload"],
        );
    });

    it("grows it by exactly what is left of the month", async () => {
        // $40,000 − $38,899.20 spent − A's $550.40 = $550.40 left: the growth to 16 × 10 h ($1,100.80) to the cent.
        await post("/v1/usage", {
            records: [{ team: "applied-ml", category: "gpu", amountUsd: 38899.2, occurredAt: NOW }],
        });
        const a = await reserveA();
        time.set("2026-11-20T12:30:00.000Z");
        const grown = await request({ ...ASK, gpus: 16, hours: 10, workload: WORKLOAD }, 200);
        assert.deepStrictEqual(
            [grown.id, grown.estimatedCostUsd, grown.remainingUsd, grown.overBudget, grown.reason],
            [a.id, 1100.8, 0, false, "adopted and grown by $550.4, within budget"],
        );
    });

    it("refuses a growth one cent more than what is left, and keeps the reservation as it was", async () => {
        await post("/v1/usage", {
            records: [{ team: "applied-ml", category: "gpu", amountUsd: 38899.21, occurredAt: NOW }],
        });
        await reserveA();
        const refused = await request({ ...ASK, gpus: 16, hours: 10, workload: WORKLOAD }, 409);
        assert.deepStrictEqual([refused.reason, refused.remainingUsd], ["over-budget", 550.39]);
        const teams = (await get("/v1/teams")).json<Body[]>();
        assert.strictEqual(teams.find((t) => t.name === "applied-ml")?.reservedUsd, 550.4);
    });

    it("refuses another team's request naming a UID bound to this team's reservation", async () => {
        await reserveA();
        const res = await post("/v1/gpu-requests", {
            ...ASK,
            team: "inference",
            gpus: 1,
            hours: 1,
            workload: { ...WORKLOAD, namespace: "inference" },
        });
        assert.deepStrictEqual(
            [res.statusCode, res.json<Body>().field, res.json<Body>().message],
            [400, "workload.uid", "workload.uid: is bound to a reservation of team applied-ml, not inference"],
        );
    });

    it("judges a request as new once the workload's reservation has expired", async () => {
        const a = await reserveA();
        // A expired at midnight; an hour later the same workload asks again.
        time.set("2026-11-21T01:00:00.000Z");
        const fresh = await request({ ...ASK, gpus: 2, hours: 5, workload: WORKLOAD }, 201);
        assert.notStrictEqual(fresh.id, a.id);
        assert.deepStrictEqual([fresh.adopted, fresh.estimatedCostUsd], [undefined, 68.8]);
    });
});
