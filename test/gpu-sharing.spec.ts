import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT, recording } from "./harness";
import { validatePlatformConfig } from "../stacks";
import { NodePool } from "../components/cluster";

/** A valid config with one GPU pool; each test gives that pool a sharing config. */
function withPool(pool: Record<string, unknown>): Record<string, unknown> {
    return {
        environment: "dev",
        region: "us-east-1",
        cluster: { kubernetesVersion: "1.35", publicAccessCidrs: ["203.0.113.0/24"] },
        nodePools: { system: { instanceType: "m7i.xlarge", maxSize: 2 }, gpu: { maxSize: 2, ...pool } },
        tags: { team: "platform", "cost-center": "CC-0001", budget: "platform-dev" },
    };
}

function problems(pool: Record<string, unknown>): string[] {
    return validatePlatformConfig(withPool(pool), PROJECT, "dev").problems.map((p) => `${p.key}: ${p.message}`);
}

describe("GPU sharing configs", () => {
    it("accepts time-slicing, MIG layouts the GPU can make, and whole GPUs", () => {
        assert.deepStrictEqual(
            problems({ instanceType: "p4d.24xlarge", gpuSharing: { mode: "time-slicing", replicas: 4 } }),
            [],
        );
        assert.deepStrictEqual(
            problems({ instanceType: "p4de.24xlarge", gpuSharing: { mode: "mig", layout: { "3g.40gb": 2 } } }),
            [],
        );
        assert.deepStrictEqual(
            problems({ instanceType: "p5.48xlarge", gpuSharing: { mode: "mig", layout: { "1g.10gb": 7 } } }),
            [],
        );
        assert.deepStrictEqual(
            problems({ instanceType: "p4d.24xlarge", gpuSharing: { mode: "mig", layout: { "3g.20gb": 2 } } }),
            [],
        );
        assert.deepStrictEqual(problems({ instanceType: "p5.48xlarge", gpuSharing: { mode: "exclusive" } }), []);
    });

    it("defaults time-slicing to 3 replicas per GPU", () => {
        const config = validatePlatformConfig(
            withPool({ instanceType: "g5.xlarge", gpuSharing: { mode: "time-slicing" } }),
            PROJECT,
            "dev",
        ).config!;
        assert.deepStrictEqual(config.nodePools.find((p) => p.name === "gpu")!.gpuSharing, {
            mode: "time-slicing",
            replicas: 3,
        });
    });

    it("rejects a MIG profile of another memory size: an A100 40 GB makes 3g.20gb, not 3g.40gb", () => {
        assert.deepStrictEqual(
            problems({ instanceType: "p4d.24xlarge", gpuSharing: { mode: "mig", layout: { "3g.40gb": 1 } } }),
            [
                "nodePools.gpu.gpuSharing.layout.3g.40gb: is not a MIG profile of NVIDIA A100-SXM4-40GB (p4d.24xlarge); allowed: 1g.5gb, 1g.10gb, 2g.10gb, 3g.20gb, 4g.20gb, 7g.40gb",
            ],
        );
    });

    it("rejects MIG on a GPU without MIG", () => {
        assert.deepStrictEqual(
            problems({ instanceType: "g5.xlarge", gpuSharing: { mode: "mig", layout: { "1g.10gb": 1 } } }),
            [
                'nodePools.gpu.gpuSharing.mode: is "mig" but NVIDIA A10G (g5.xlarge) has no MIG; use "time-slicing" or "exclusive"',
            ],
        );
    });

    it("rejects a layout that does not fit on one GPU, and more of a profile than a GPU holds", () => {
        assert.deepStrictEqual(
            problems({
                instanceType: "p5.48xlarge",
                gpuSharing: { mode: "mig", layout: { "4g.40gb": 1, "3g.40gb": 1, "1g.10gb": 1 } },
            }),
            [
                "nodePools.gpu.gpuSharing.layout: needs 8/7 compute and 9/8 memory slices per GPU; a NVIDIA H100 80GB HBM3 has 7 and 8: remove instances",
            ],
        );
        assert.deepStrictEqual(
            problems({ instanceType: "p4de.24xlarge", gpuSharing: { mode: "mig", layout: { "3g.40gb": 3 } } }),
            [
                "nodePools.gpu.gpuSharing.layout.3g.40gb: is 3, but one GPU holds at most 2 of 3g.40gb",
                "nodePools.gpu.gpuSharing.layout: needs 9/7 compute and 12/8 memory slices per GPU; a NVIDIA A100-SXM4-80GB has 7 and 8: remove instances",
            ],
        );
    });

    it("rejects an empty layout and media-extension profiles", () => {
        assert.match(
            problems({ instanceType: "p4de.24xlarge", gpuSharing: { mode: "mig", layout: {} } })[0],
            /^nodePools\.gpu\.gpuSharing\.layout: is empty; name at least one profile: 1g\.10gb, /,
        );
        assert.match(
            problems({ instanceType: "p4de.24xlarge", gpuSharing: { mode: "mig", layout: { "1g.10gb+me": 1 } } })[0],
            /^nodePools\.gpu\.gpuSharing\.layout\.1g\.10gb\+me: is not a MIG profile of NVIDIA A100-SXM4-80GB/,
        );
    });

    it("rejects time-slice replicas outside 2 to 16, and a fraction of a replica", () => {
        const replicas = (n: number) =>
            problems({ instanceType: "p4d.24xlarge", gpuSharing: { mode: "time-slicing", replicas: n } });
        for (const n of [1, 17]) {
            assert.deepStrictEqual(replicas(n), [
                `nodePools.gpu.gpuSharing.replicas: is ${n}; must be a whole number from 2 to 16 (1 is no sharing: use mode exclusive; more pods per GPU starve each other of GPU memory)`,
            ]);
        }
        assert.deepStrictEqual(replicas(2.5), [
            "nodePools.gpu.gpuSharing.replicas: must be a whole number (found 2.5)",
        ]);
    });

    it("rejects GPU sharing on a CPU pool and an unknown mode", () => {
        assert.deepStrictEqual(
            problems({ instanceType: "m7i.xlarge", gpuSharing: { mode: "time-slicing", replicas: 2 } }),
            ["nodePools.gpu.gpuSharing: is set but m7i.xlarge has no GPU; remove it"],
        );
        assert.deepStrictEqual(problems({ instanceType: "p5.48xlarge", gpuSharing: { mode: "mps" } }), [
            'nodePools.gpu.gpuSharing.mode: must set mode to "exclusive", "time-slicing" or "mig" (found "mps")',
        ]);
    });

    it("refuses a time-sliced pool's pipeline worker more than one replica, since the device plugin would", () => {
        const raw = withPool({ instanceType: "p4d.24xlarge", gpuSharing: { mode: "time-slicing", replicas: 3 } });
        raw.teams = [{ name: "search", costCenter: "CC-1004", monthlyBudgetUsd: 1000 }];
        raw.inferencePipelines = [
            {
                name: "embed",
                team: "search",
                pool: "gpu",
                image: "repo/embed:1",
                gpusPerWorker: 2,
                priorityClass: "training",
            },
        ];
        assert.deepStrictEqual(
            validatePlatformConfig(raw, PROJECT, "dev").problems.map((p) => `${p.key}: ${p.message}`),
            [
                'inferencePipelines[0].gpusPerWorker: is 2, but pool "gpu" time-slices its GPUs and gives each pod one replica; use 1, or a pool of whole GPUs',
            ],
        );
    });

    it("refuses a NodePool a team builds with a bad layout, before creating anything", async () => {
        recording.reset();
        const args = {
            clusterName: "c",
            nodeRoleArn: "arn:aws:iam::123456789012:role/node",
            subnetIds: ["s"],
            maxSize: 1,
        };
        assert.throws(
            () =>
                new NodePool("team-a100", {
                    ...args,
                    instanceType: "p4d.24xlarge",
                    gpuSharing: { mode: "mig", layout: { "3g.40gb": 1 } },
                }),
            (err: unknown) => {
                assert.ok(pulumi.InputPropertiesError.isInstance(err));
                assert.strictEqual(err.message, 'NodePool "team-a100" has invalid arguments');
                assert.deepStrictEqual(
                    err.errors.map((e) => e.propertyPath),
                    ["gpuSharing.layout.3g.40gb"],
                );
                return true;
            },
        );
        await recording.settle();
        assert.deepStrictEqual(
            recording.resources.map((r) => r.type),
            [],
            "not even the component was registered",
        );
    });
});
