import * as assert from "assert";
import { stringify } from "yaml";
import { gpuOperatorSharing } from "../gpu-operator";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const RELEASE = "kubernetes:helm.sh/v3:Release";

/** Device plugin configs as NVIDIA's k8s-device-plugin reads them: A100s time-sliced 3 ways, and MIG (mixed strategy). */
const timeSliced = (replicas: number) =>
    stringify({ version: "v1", flags: { migStrategy: "none" }, sharing: { timeSlicing: { resources: [{ name: "nvidia.com/gpu", replicas }] } } });
const migLayout = (devices: Record<string, number>) =>
    stringify({
        version: "v1",
        "mig-configs": {
            "all-disabled": [{ devices: "all", "mig-enabled": false }],
            "a100-mig": [{ devices: "all", "mig-enabled": true, "mig-devices": devices }],
        },
    });

/** The GPU Operator release as the platform builds it (gpu-operator chart values, v26.7.0). */
const releaseInputs = {
    name: "gpu-operator",
    chart: "gpu-operator",
    version: "v26.7.0",
    namespace: "gpu-operator",
    repositoryOpts: { repo: "https://helm.ngc.nvidia.com/nvidia" },
    values: {
        driver: { enabled: false },
        toolkit: { enabled: false },
        devicePlugin: {
            config: {
                create: true,
                name: "device-plugin-config",
                default: "a100-shared",
                data: { "a100-shared": timeSliced(3), "a100-mig": stringify({ version: "v1", flags: { migStrategy: "mixed" } }) },
            },
        },
        migManager: {
            config: { create: true, name: "mig-config", default: "all-disabled", data: { "config.yaml": migLayout({ "3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2 }) } },
        },
    },
};
const release = (inputs = releaseInputs) => resource(RELEASE, "gpu-platform-prod-gpu-operator", inputs);

describe("policies: GPU Operator", () => {
    describe("gpu-operator-sharing", () => {
        it("passes time-slicing with 3 replicas and a MIG layout of catalog profiles", async () => {
            assert.deepStrictEqual(await violationsOf(gpuOperatorSharing, [release()]), []);
        });

        it("leaves other charts alone", async () => {
            const keda = release(changed(changed(releaseInputs, "chart", "keda"), "values.devicePlugin.config.data.a100-shared", timeSliced(64)));
            assert.deepStrictEqual(await violationsOf(gpuOperatorSharing, [keda]), []);
        });

        it("reports time-slicing replicas outside the allowlist, naming the entry and setting", async () => {
            const v = await theViolation(gpuOperatorSharing, [release(changed(releaseInputs, "values.devicePlugin.config.data.a100-shared", timeSliced(16)))]);
            assert.strictEqual(
                v.message,
                'GPU Operator release "gpu-platform-prod-gpu-operator": values.devicePlugin.config.data["a100-shared"] sets sharing.timeSlicing.resources[0].replicas ' +
                    "to 16 for nvidia.com/gpu; use one of 2, 3, 4 (allowedTimeSliceReplicas).",
            );
        });

        it("reports a MIG profile outside the allowlist", async () => {
            const layout = migLayout({ "3g.40gb": 1, "1g.12gb": 2 });
            const v = await theViolation(gpuOperatorSharing, [release(changed(releaseInputs, "values.migManager.config.data", { "config.yaml": layout }))]);
            assert.match(v.message, /values\.migManager\.config\.data\["config\.yaml"\] uses MIG profile "1g\.12gb" in mig-configs\.a100-mig\[0\]\.mig-devices, which is not allowed; use one of /);
        });

        it("takes the allowlists from the stack's policy config", async () => {
            const v = await theViolation(gpuOperatorSharing, [release()], { allowedTimeSliceReplicas: [2], allowedMigProfiles: ["3g.40gb", "2g.20gb", "1g.10gb"] });
            assert.match(v.message, /replicas to 3 .*use one of 2 \(allowedTimeSliceReplicas\)/);
        });

        it("reports a config entry that does not parse as YAML", async () => {
            const v = await theViolation(gpuOperatorSharing, [release(changed(releaseInputs, "values.devicePlugin.config.data.a100-shared", "version: v1\nsharing: [unclosed"))]);
            assert.match(v.message, /values\.devicePlugin\.config\.data\["a100-shared"\] does not parse as YAML \(.+\); fix the YAML\.$/);
        });
    });
});
