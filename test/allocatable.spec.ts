import * as assert from "assert";
import {
    CLUSTER_AUTOSCALER_IMAGE_TAGS,
    EKS_VERSIONS,
    cpuMillis,
    eniMaxPods,
    instanceType,
    managedNodeMaxPods,
    memoryMiB,
    podRoom,
} from "@gpu-platform/catalog";

describe("catalog: what a node leaves for pods", () => {
    it("sizes a g5.xlarge as nodeadm does: 58 pods, 80m and 893Mi kube-reserved, 100Mi eviction", () => {
        // ENIs × (IPv4 per ENI − 1) + 2 = 4 × 14 + 2 = 58; the same 58 as the last eni-max-pods.txt.
        assert.strictEqual(eniMaxPods(instanceType("g5.xlarge")), 58);
        const room = podRoom("g5.xlarge");
        // CPU: 6% of the first core (60m) + 1% of the second (10m) + 0.5% of cores 3-4 (10m) = 80m.
        // Memory: 11 × 58 + 255 = 893Mi; capacity 16 GiB × 1024 × (1 − 0.075) = 15155.2Mi.
        assert.deepStrictEqual(room.kubeReserved, { cpuMillis: 80, memoryMiB: 893 });
        assert.deepStrictEqual(room.capacity, { cpuMillis: 4000, memoryMiB: 15155 });
        assert.strictEqual(room.evictionMemoryMiB, 100);
        // The platform's DaemonSets on every node: aws-node 25m, kube-proxy 100m, ebs-csi-node 30m/104Mi,
        // nfd-worker 5m/64Mi, node monitoring agent 10m/30Mi = 170m / 198Mi.
        assert.deepStrictEqual(room.daemonSets, { cpuMillis: 170, memoryMiB: 198 });
        // 4000 − 80 − 170 = 3750m; 15155.2 − 893 − 100 − 198 = 13964.2 → 13964Mi: a 4-CPU, 16Gi worker cannot fit.
        assert.strictEqual(room.cpuMillis, 3750);
        assert.strictEqual(room.memoryMiB, 13964);
    });

    it("leaves less on a time-sliced or MIG node, which also runs the GPU config gate (10m, 32Mi)", () => {
        const room = podRoom("g5.xlarge", true);
        assert.strictEqual(room.cpuMillis, 3740);
        assert.strictEqual(room.memoryMiB, 13932);
    });

    it("reserves by the uncapped ENI limit but caps pods as managed node groups do (110 below 30 vCPUs, 250 above)", () => {
        const p4de = instanceType("p4de.24xlarge");
        assert.strictEqual(eniMaxPods(p4de), 737); // 15 × 49 + 2
        assert.strictEqual(managedNodeMaxPods(p4de), 250);
        assert.strictEqual(podRoom("p4de.24xlarge").kubeReserved.memoryMiB, 8362); // 11 × 737 + 255
        assert.strictEqual(managedNodeMaxPods(instanceType("m7i.4xlarge")), 110); // ENI limit 234, 16 vCPUs
        const p5 = podRoom("p5.48xlarge");
        assert.strictEqual(p5.maxPods, 100); // 2 × 49 + 2, under the 250 cap
        // 60 + 10 + 10 + 0.25% × (192000 − 4000) = 550m; 11 × 100 + 255 = 1355Mi.
        assert.deepStrictEqual(p5.kubeReserved, { cpuMillis: 550, memoryMiB: 1355 });
    });

    it("reads CPU and memory quantities as Kubernetes writes them", () => {
        assert.strictEqual(cpuMillis("4"), 4000);
        assert.strictEqual(cpuMillis("500m"), 500);
        assert.strictEqual(cpuMillis("2.5"), 2500);
        assert.strictEqual(memoryMiB("12Gi"), 12288);
        assert.strictEqual(memoryMiB("512Mi"), 512);
        assert.strictEqual(memoryMiB("1G"), 1e9 / 1048576);
        assert.strictEqual(cpuMillis("four"), undefined);
        assert.strictEqual(memoryMiB("16GB"), undefined);
    });
});

describe("catalog: Cluster Autoscaler images", () => {
    it("pins each Kubernetes minor to the newest patch of the matching autoscaler minor, not the .0 the chart defaults to", () => {
        // kubernetes/autoscaler release tags, 2026-08-22: cluster-autoscaler-1.35.2 is the newest 1.35.
        assert.strictEqual(CLUSTER_AUTOSCALER_IMAGE_TAGS["1.35"], "v1.35.2");
        for (const version of Object.keys(EKS_VERSIONS)) {
            assert.match(
                CLUSTER_AUTOSCALER_IMAGE_TAGS[version] ?? "",
                new RegExp(`^v${version.replace(".", "\\.")}\\.\\d+$`),
                version,
            );
        }
    });
});
