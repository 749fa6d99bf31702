/**
 * A pushed batch turned into usage records, called directly (the HTTP schema's checks are not in
 * front of it): the 400-day window at its edge, the source name, and the GPU units of a record
 * (whole GPUs, time-sliced shares, MIG slices) with every refusal's field and message.
 *
 * Pools of the test config: h100 whole GPUs (nvidia.com/gpu), a100-shared time-sliced 3 ways
 * (nvidia.com/gpu.shared, 1/3 of a GPU each), a100-mig with 3g.40gb, 2g.20gb and 1g.10gb slices
 * (3/7, 2/7 and 1/7 of a GPU: NVIDIA's A100 MIG user guide, 7 compute slices per GPU).
 */
import * as assert from "assert";
import { pushedRecords, type PushedRecord } from "../src/push";
import { testConfig } from "./helpers";

const NOW = new Date("2026-11-20T12:00:00Z");
const config = testConfig();
const spend = (extra: Partial<PushedRecord> = {}): PushedRecord => ({
    team: "applied-ml",
    category: "gpu",
    amountUsd: 10,
    occurredAt: "2026-11-20T09:00:00Z",
    ...extra,
});
const one = (r: PushedRecord, batchSource?: string) =>
    pushedRecords({ source: batchSource, records: [r] }, config, NOW);
const refusal = (r: PushedRecord, field: string, problem: string) =>
    assert.throws(() => one(r), { name: "BadInput", field, message: `${field}: ${problem}` });

describe("cost tracker: pushed records", () => {
    it("takes spend from exactly 400 days back and refuses a millisecond earlier, naming the record", () => {
        // 2026-11-20T12:00Z − 400 × 24 h = 2025-10-16T12:00Z.
        assert.strictEqual(one(spend({ occurredAt: "2025-10-16T12:00:00.000Z" })).records[0].day, "2025-10-16");
        assert.throws(
            () => pushedRecords({ records: [spend(), spend({ occurredAt: "2025-10-16T11:59:59.999Z" })] }, config, NOW),
            {
                name: "BadInput",
                field: "records[1].occurredAt",
                message: "records[1].occurredAt: 2025-10-16T11:59:59.999Z is more than 400 days ago",
            },
        );
    });

    it("names the source push:<source>, push:default when the batch names none", () => {
        assert.strictEqual(one(spend(), "openai-gateway").source, "push:openai-gateway");
        assert.strictEqual(one(spend()).source, "push:default");
    });

    it("counts whole GPUs' hours as their unit-hours, and keeps hours of no pool as they came", () => {
        assert.deepStrictEqual(one(spend({ pool: "h100", gpuHours: 5 })).records[0], {
            day: "2026-11-20",
            team: "applied-ml",
            category: "gpu",
            amountUsd: 10,
            pool: "h100",
            gpuHours: 5,
            gpuResource: "nvidia.com/gpu",
            resourceHours: 5,
            workload: undefined,
            detail: undefined,
        });
        const noPool = one(spend({ gpuHours: 5 })).records[0];
        assert.deepStrictEqual(
            [noPool.gpuHours, noPool.gpuResource, noPool.resourceHours, noPool.pool],
            [5, undefined, undefined, undefined],
        );
        const plain = one(spend({ category: "storage" })).records[0];
        assert.deepStrictEqual(
            [plain.gpuHours, plain.gpuResource, plain.resourceHours],
            [undefined, undefined, undefined],
        );
    });

    it("counts a share's or a slice's unit-hours at its fraction of a GPU, the pool's only resource when none is named", () => {
        // 30 share-hours × 1/3 = 10 GPU-hours; 7 hours of a 3g.40gb slice × 3/7 = 3; 14 of a 1g.10gb × 1/7 = 2.
        const shared = one(spend({ pool: "a100-shared", resourceHours: 30 })).records[0];
        assert.deepStrictEqual(
            [shared.gpuResource, shared.resourceHours, shared.gpuHours],
            ["nvidia.com/gpu.shared", 30, 10],
        );
        const mig = pushedRecords(
            {
                records: [
                    spend({ pool: "a100-mig", gpuResource: "nvidia.com/mig-3g.40gb", resourceHours: 7 }),
                    spend({ pool: "a100-mig", gpuResource: "nvidia.com/mig-1g.10gb", resourceHours: 14 }),
                ],
            },
            config,
            NOW,
        ).records;
        assert.deepStrictEqual(
            mig.map((r) => [r.gpuResource, r.resourceHours, r.gpuHours]),
            [
                ["nvidia.com/mig-3g.40gb", 7, 3],
                ["nvidia.com/mig-1g.10gb", 14, 2],
            ],
        );
    });

    it("refuses GPU units on spend that is not GPU, whichever of them is sent", () => {
        const problem = "is storage; GPU hours and resources go with category gpu";
        refusal(spend({ category: "storage", gpuHours: 1 }), "records[0].category", problem);
        refusal(spend({ category: "storage", resourceHours: 1, pool: "h100" }), "records[0].category", problem);
        refusal(spend({ category: "storage", gpuResource: "nvidia.com/gpu" }), "records[0].category", problem);
    });

    it("refuses GPU units that do not say what they are, naming the field and what is missing", () => {
        refusal(
            spend({ pool: "h100", gpuHours: 1, resourceHours: 1 }),
            "records[0].gpuHours",
            "send gpuHours (GPU-equivalent) or resourceHours (unit-hours), not both",
        );
        refusal(
            spend({ pool: "h100", gpuResource: "nvidia.com/gpu" }),
            "records[0].resourceHours",
            "is required with gpuResource: the hours of its units",
        );
        refusal(
            spend({ resourceHours: 3 }),
            "records[0].pool",
            "is required with resourceHours: the pool prices its units",
        );
        refusal(
            spend({ pool: "a100-mig", resourceHours: 3 }),
            "records[0].gpuResource",
            "is required for pool a100-mig, which offers nvidia.com/mig-3g.40gb, nvidia.com/mig-2g.20gb, nvidia.com/mig-1g.10gb",
        );
        refusal(
            spend({ pool: "a100-mig", gpuResource: "nvidia.com/mig-7g.80gb", resourceHours: 3 }),
            "records[0].gpuResource",
            'pool a100-mig offers nvidia.com/mig-3g.40gb, nvidia.com/mig-2g.20gb, nvidia.com/mig-1g.10gb (found "nvidia.com/mig-7g.80gb")',
        );
        refusal(
            spend({ pool: "h100", gpuResource: "nvidia.com/gpu.shared", resourceHours: 3 }),
            "records[0].gpuResource",
            'pool h100 offers nvidia.com/gpu (found "nvidia.com/gpu.shared")',
        );
    });

    it("lets a team push GPU spend of no workload when only workloads' GPU spend is pulled, and refuses a workload's", () => {
        const pulled = testConfig({
            sources: {
                ...config.sources,
                prometheus: { url: "http://prometheus.monitoring", namespaceLabel: "namespace" },
            },
        });
        assert.strictEqual(pushedRecords({ records: [spend()] }, pulled, NOW).records.length, 1);
        assert.throws(
            () =>
                pushedRecords(
                    { records: [spend({ workload: { namespace: "applied-ml", kind: "Job", name: "sweep-7" } })] },
                    pulled,
                    NOW,
                ),
            { name: "BadInput", field: "records[0].category" },
        );
    });
});
