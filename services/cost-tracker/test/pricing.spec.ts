import * as assert from "assert";
import { resolveResource } from "../src/approvals";
import { poolResources } from "../src/pricing";
import { testConfig } from "./helpers";

/**
 * Expected figures are worked by hand from the catalog's on-demand prices (catalog/instances.ts,
 * us-east-1, AWS Price List data of 2026-07-20): p5.48xlarge $55.04/h for 8 H100s,
 * p4de.24xlarge $27.44705/h for 8 A100 80 GB, p4d.24xlarge $21.957642/h for 8 A100 40 GB.
 */
const pool = (name: string) => testConfig().pools.find((p) => p.name === name)!;
const close = (actual: number, expected: number) =>
    assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≠ ${expected}`);

describe("cost tracker: pricing", () => {
    it("prices a whole H100 at the p5.48xlarge price over its 8 GPUs: $6.88/h", () => {
        const [gpu] = poolResources(pool("h100"));
        assert.strictEqual(gpu.gpuResource, "nvidia.com/gpu");
        close(gpu.usdPerUnitHour, 6.88);
        assert.strictEqual(gpu.maxUnits, 32, "4 nodes × 8 GPUs");
    });

    it("prices a MIG slice as its compute slices over 7 of an A100 80 GB ($3.43088125/h)", () => {
        const bySlice = Object.fromEntries(poolResources(pool("a100-mig")).map((r) => [r.gpuResource, r]));
        assert.deepStrictEqual(Object.keys(bySlice), [
            "nvidia.com/mig-3g.40gb",
            "nvidia.com/mig-2g.20gb",
            "nvidia.com/mig-1g.10gb",
        ]);
        close(bySlice["nvidia.com/mig-3g.40gb"].usdPerUnitHour, (3 * 3.43088125) / 7); // 1.4703776786
        close(bySlice["nvidia.com/mig-2g.20gb"].usdPerUnitHour, (2 * 3.43088125) / 7);
        close(bySlice["nvidia.com/mig-1g.10gb"].usdPerUnitHour, 3.43088125 / 7); // 0.4901258929
        assert.strictEqual(bySlice["nvidia.com/mig-1g.10gb"].maxUnits, 64, "2 per GPU × 8 GPUs × 4 nodes");
    });

    it("prices a time-sliced share as a third of an A100 40 GB with 3 replicas: $0.91490175/h", () => {
        const [share] = poolResources(pool("a100-shared"));
        assert.strictEqual(share.gpuResource, "nvidia.com/gpu.shared");
        close(share.usdPerUnitHour, 21.957642 / 8 / 3);
        assert.strictEqual(share.maxUnits, 96, "3 replicas × 8 GPUs × 4 nodes");
    });

    it("needs gpuResource on a pool of several MIG profiles, and checks it and the count against the pool", () => {
        assert.throws(() => resolveResource(pool("a100-mig"), { gpus: 1 }), {
            message:
                "gpuResource: is required for pool a100-mig, which offers nvidia.com/mig-3g.40gb, nvidia.com/mig-2g.20gb, nvidia.com/mig-1g.10gb",
        });
        assert.throws(() => resolveResource(pool("h100"), { gpus: 1, gpuResource: "nvidia.com/mig-1g.10gb" }), {
            message: 'gpuResource: pool h100 offers nvidia.com/gpu (found "nvidia.com/mig-1g.10gb")',
        });
        assert.throws(() => resolveResource(pool("h100"), { gpus: 33 }), {
            message: "gpus: is 33, more than pool h100 holds at its largest (32 nvidia.com/gpu)",
        });
        assert.strictEqual(
            resolveResource(pool("a100-shared"), { gpus: 96 }).gpuResource,
            "nvidia.com/gpu.shared",
            "a single-resource pool needs no gpuResource",
        );
    });
});
