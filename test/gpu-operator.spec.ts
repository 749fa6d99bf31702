import * as assert from "assert";
import { parse } from "yaml";
import { named, ofType, record, validStackConfig } from "./harness";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { buildPlatform } from "../platform";
import { GpuOperator, devicePluginConfigName, migConfigName } from "../components/gpu";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";

function operatorRelease(resources: RecordedResource[]): any {
    const releases = ofType(resources, RELEASE).filter((r) => r.inputs.chart === "gpu-operator");
    assert.strictEqual(releases.length, 1, "one GPU Operator per cluster");
    return releases[0].inputs;
}

/** The device plugin's configs and the MIG manager's layouts, parsed from the chart values as the operator would read them. */
function renderedConfigs(release: any): { devicePlugin: Record<string, any>; mig: Record<string, any[]> } {
    const devicePlugin = Object.fromEntries(
        Object.entries(release.values.devicePlugin.config.data as Record<string, string>).map(([k, v]) => [
            k,
            parse(v),
        ]),
    );
    const migDoc = parse(release.values.migManager.config.data["config.yaml"]);
    assert.strictEqual(migDoc.version, "v1");
    return { devicePlugin, mig: migDoc["mig-configs"] };
}

describe("GPU Operator (prod config)", () => {
    let resources: RecordedResource[];
    let release: any;
    before(async () => {
        ({ resources } = await record(() => buildPlatform(validStackConfig("prod"))));
        release = operatorRelease(resources);
    });

    it("installs NVIDIA's pinned chart into a privileged namespace, leaving the driver and toolkit to the AL2023 NVIDIA AMI", () => {
        assert.strictEqual(release.chart, "gpu-operator");
        assert.strictEqual(release.version, "v26.7.0");
        assert.deepStrictEqual(release.repositoryOpts, { repo: "https://helm.ngc.nvidia.com/nvidia" });
        assert.strictEqual(release.namespace, "gpu-operator");
        const namespace = named(resources, "kubernetes:core/v1:Namespace", "gpu-platform-prod-gpu-operator-namespace")
            .inputs as any;
        assert.strictEqual(namespace.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
        assert.deepStrictEqual(release.values.driver, { enabled: false });
        assert.deepStrictEqual(release.values.toolkit, { enabled: false });
        assert.deepStrictEqual(release.values.cdi, { enabled: false });
        assert.deepStrictEqual(release.values.mig, { strategy: "mixed" });
    });

    it("runs the DCGM exporter, device plugin, GPU feature discovery and MIG manager", () => {
        assert.strictEqual(release.values.dcgmExporter.enabled, true);
        assert.strictEqual(
            release.values.dcgmExporter.serviceMonitor.enabled,
            false,
            "no Prometheus Operator CRDs assumed",
        );
        assert.strictEqual(release.values.devicePlugin.enabled, true);
        assert.strictEqual(release.values.gfd.enabled, true);
        assert.strictEqual(release.values.migManager.enabled, true);
        assert.deepStrictEqual(
            release.values.migManager.env,
            [{ name: "WITH_REBOOT", value: "true" }],
            "a cloud VM may need a reboot to switch MIG mode",
        );
    });

    it("keeps the operator and NFD's master off GPU nodes; the per-node DaemonSets tolerate the GPU taint and the startup taint", () => {
        const cpu = { "gpu-platform/node-type": "cpu" };
        assert.deepStrictEqual(release.values.operator.nodeSelector, cpu);
        assert.deepStrictEqual(release.values["node-feature-discovery"].master.nodeSelector, cpu);
        assert.deepStrictEqual(release.values["node-feature-discovery"].gc.nodeSelector, cpu);
        // Without the startup taint's toleration the device plugin, MIG manager and NFD's worker would never
        // start on a time-sliced or MIG node, and the taint would never go.
        const tolerations = [
            { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
            {
                key: "startup-taint.cluster-autoscaler.kubernetes.io/gpu-config",
                operator: "Exists",
                effect: "NoSchedule",
            },
        ];
        assert.deepStrictEqual(release.values.daemonsets.tolerations, tolerations);
        // A list replaces the chart's: NFD's worker keeps its control-plane toleration (values.yaml l.631-638, v26.7.0).
        assert.deepStrictEqual(release.values["node-feature-discovery"].worker.tolerations, [
            { key: "node-role.kubernetes.io/control-plane", operator: "Equal", value: "", effect: "NoSchedule" },
            ...tolerations,
        ]);
    });

    it("renders a device-plugin config per sharing layout: whole GPUs, 3 time-sliced replicas, MIG mixed", () => {
        const { devicePlugin } = renderedConfigs(release);
        assert.deepStrictEqual(Object.keys(devicePlugin), ["exclusive", "mig-mixed", "time-slicing-3"]);
        assert.strictEqual(release.values.devicePlugin.config.default, "exclusive");
        assert.strictEqual(release.values.devicePlugin.config.create, true);
        assert.deepStrictEqual(devicePlugin.exclusive, { version: "v1", flags: { migStrategy: "none" } });
        assert.deepStrictEqual(devicePlugin["mig-mixed"], { version: "v1", flags: { migStrategy: "mixed" } });
        assert.deepStrictEqual(devicePlugin["time-slicing-3"].sharing.timeSlicing, {
            renameByDefault: true,
            failRequestsGreaterThanOne: true,
            resources: [{ name: "nvidia.com/gpu", replicas: 3 }],
        });
    });

    it("renders the MIG manager's layouts: all-disabled by default, and the a100-mig pool's 3g.40gb + 2g.20gb + 2 × 1g.10gb on every GPU", () => {
        const { mig } = renderedConfigs(release);
        assert.strictEqual(release.values.migManager.config.default, "all-disabled");
        assert.deepStrictEqual(mig["all-disabled"], [{ devices: "all", "mig-enabled": false }]);
        assert.deepStrictEqual(mig["mig-1x3g.40gb-1x2g.20gb-2x1g.10gb"], [
            { devices: "all", "mig-enabled": true, "mig-devices": { "3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2 } },
        ]);
        assert.deepStrictEqual(Object.keys(mig).sort(), ["all-disabled", "mig-1x3g.40gb-1x2g.20gb-2x1g.10gb"]);
    });

    it("labels every GPU node with configs the operator holds, so each node comes up in its pool's layout", () => {
        const { devicePlugin, mig } = renderedConfigs(release);
        for (const group of ofType(resources, NODE_GROUP)) {
            const labels = group.inputs.labels as Record<string, string>;
            if (labels["gpu-platform/node-type"] === "cpu") continue;
            assert.ok(
                Object.hasOwn(devicePlugin, labels["nvidia.com/device-plugin.config"]),
                `${group.name}: device-plugin config "${labels["nvidia.com/device-plugin.config"]}" exists`,
            );
            assert.ok(
                Object.hasOwn(mig, labels["nvidia.com/mig.config"]),
                `${group.name}: MIG config "${labels["nvidia.com/mig.config"]}" exists`,
            );
        }
    });
});

describe("GPU Operator (component)", () => {
    it("names configs after the layout, so equal layouts share one entry, and long MIG layouts stay valid label values", () => {
        assert.strictEqual(devicePluginConfigName({ mode: "time-slicing", replicas: 4 }), "time-slicing-4");
        const a = migConfigName({ mode: "mig", layout: { "1g.10gb": 2, "3g.40gb": 1 } });
        const b = migConfigName({ mode: "mig", layout: { "3g.40gb": 1, "1g.10gb": 2 } });
        assert.strictEqual(a, b);
        const long = migConfigName({
            mode: "mig",
            layout: { "1g.10gb": 2, "1g.20gb": 1, "2g.20gb": 1, "3g.40gb": 1, "4g.40gb": 1, "7g.80gb": 1, "1g.5gb": 1 },
        });
        assert.match(long, /^mig-[0-9a-f]{16}$/);
        assert.ok(long.length <= 63);
    });

    it("holds the dev stack's configs only: one time-sliced layout on two pools, no MIG layout", async () => {
        const { resources } = await record(() => buildPlatform(validStackConfig("dev")));
        const { devicePlugin, mig } = renderedConfigs(operatorRelease(resources));
        assert.deepStrictEqual(Object.keys(devicePlugin), ["exclusive", "time-slicing-3"]);
        assert.deepStrictEqual(Object.keys(mig), ["all-disabled"]);
    });

    it("merges a caller's values last", async () => {
        const { resources } = await record(
            () =>
                new GpuOperator("op", {
                    pools: [{ name: "h100", sharing: { mode: "exclusive" } }],
                    dcgmServiceMonitor: true,
                    values: { dcgmExporter: { enabled: false } },
                }),
        );
        const values = operatorRelease(resources).values;
        assert.strictEqual(values.dcgmExporter.enabled, false);
        assert.strictEqual(values.dcgmExporter.serviceMonitor.enabled, true);
        assert.deepStrictEqual(values.driver, { enabled: false });
    });

    it("is not installed on a cluster without GPU pools", async () => {
        const config = validStackConfig("dev");
        const cpuOnly = {
            ...config,
            nodePools: config.nodePools.filter((p) => p.gpuSharing === undefined),
            inferencePipelines: [],
        };
        const { resources } = await record(() => buildPlatform(cpuOnly));
        assert.deepStrictEqual(
            ofType(resources, RELEASE).filter((r) => r.inputs.chart === "gpu-operator"),
            [],
        );
    });
});
