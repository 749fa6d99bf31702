/**
 * Catalog facts the other specs reached only in part (the survivors of `npm run mutation --
 * catalog`), each checked against its published source, not against the catalog's own tables.
 */
import * as assert from "assert";
import {
    GPU_MODELS,
    PRICE_REGION,
    cpuMillis,
    instanceType,
    isAcceleratedInstanceType,
    memoryMiB,
    placeMigLayout,
} from "@gpu-platform/catalog";

describe("catalog facts", () => {
    describe("A100 40 GB MIG placements", () => {
        // NVIDIA Multi-Instance GPU User Guide, "A100 MIG profiles" and `nvidia-smi mig -lgipp` on an
        // A100-SXM4-40GB: the most instances of each profile a GPU holds, and the memory slices they start at.
        const documented: Array<[string, number, number[]]> = [
            ["1g.5gb", 7, [0, 1, 2, 3, 4, 5, 6]],
            ["1g.5gb+me", 1, [0]],
            ["1g.10gb", 4, [0, 2, 4, 6]],
            ["2g.10gb", 3, [0, 2, 4]],
            ["3g.20gb", 2, [0, 4]],
            ["4g.20gb", 1, [0]],
            ["7g.40gb", 1, [0]],
        ];
        for (const [profile, most, starts] of documented) {
            it(`places ${most} × ${profile} on one GPU, at slices ${starts.join(", ")}`, () => {
                const placed = placeMigLayout(GPU_MODELS["a100-40gb"].migProfiles, { [profile]: most });
                assert.deepStrictEqual(
                    placed?.map((p) => p.start),
                    starts,
                );
            });
        }
    });

    it("names a profile the GPU cannot make", () => {
        // 1g.10gb+me exists on the 80 GB models only.
        assert.throws(
            () => placeMigLayout(GPU_MODELS["a100-40gb"].migProfiles, { "1g.10gb+me": 1 }),
            /^Error: placeMigLayout: "1g\.10gb\+me" is not a profile of this GPU$/,
        );
    });

    describe("quantities (k8s.io/apimachinery resource.Quantity)", () => {
        it("reads decimals with several digits, with and without a leading zero", () => {
            // 1.25 cores = 1,250 m; .25 cores = 250 m; .5 Gi = 512 Mi.
            assert.deepStrictEqual([cpuMillis("1.25"), cpuMillis(".25"), memoryMiB(".5Gi")], [1250, 250, 512]);
        });

        it("refuses text around a quantity", () => {
            assert.deepStrictEqual(
                [cpuMillis("x5"), cpuMillis("5x"), memoryMiB("about 2Gi")],
                [undefined, undefined, undefined],
            );
        });

        it("takes a number as base units, and refuses a negative or non-finite one", () => {
            // 1.5 cores = 1,500 m; 0 stays 0; 1,048,576 bytes = 1 MiB.
            assert.deepStrictEqual([cpuMillis(1.5), cpuMillis(0), memoryMiB(1048576)], [1500, 0, 1]);
            assert.deepStrictEqual(
                [cpuMillis(-1), cpuMillis(Number.NaN), memoryMiB(Number.POSITIVE_INFINITY)],
                [undefined, undefined, undefined],
            );
        });

        it("refuses memory in millibytes, spaces around it included", () => {
            assert.deepStrictEqual([memoryMiB("100m"), memoryMiB(" 100m ")], [undefined, undefined]);
        });
    });

    describe("instance types", () => {
        it("names the unknown type and the known ones", () => {
            assert.throws(
                () => instanceType("p9.huge"),
                /^Error: unknown instance type "p9\.huge"; known: .*p5\.48xlarge/,
            );
        });

        it("tells accelerated families (Amazon EC2 User Guide, accelerated computing) in any case", () => {
            assert.deepStrictEqual(
                ["p5.48xlarge", " P4D.24XLARGE ", "g6e.xlarge", "trn2.48xlarge", "p6-b200.48xlarge"].map(
                    isAcceleratedInstanceType,
                ),
                [true, true, true, true, true],
            );
            // m7i is general purpose; "mp5" and "pd" only look like a family.
            assert.deepStrictEqual(["m7i.2xlarge", "mp5.large", "pd.large"].map(isAcceleratedInstanceType), [
                false,
                false,
                false,
            ]);
        });

        it("labels its prices with the region they were read for", () => {
            // The table's p5.48xlarge at $55.04/h is the US East (N. Virginia) Linux on-demand rate after
            // AWS's June 2025 P5 reduction (AWS Price List, AmazonEC2, us-east-1).
            assert.strictEqual(PRICE_REGION, "us-east-1");
            assert.strictEqual(instanceType("p5.48xlarge").onDemandUsdPerHour, 55.04);
        });
    });
});
