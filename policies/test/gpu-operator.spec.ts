import * as assert from "assert";
import { stringify } from "yaml";
import { gpuOperatorInstall, gpuOperatorSharing } from "../gpu-operator";
import { ASSET_SIG, SIG_KEY } from "../lib/wire";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const RELEASE = "kubernetes:helm.sh/v3:Release";

/** Device plugin configs as NVIDIA's k8s-device-plugin reads them: A100s time-sliced 3 ways, and MIG (mixed strategy). */
const timeSliced = (replicas: number) =>
    stringify({
        version: "v1",
        flags: { migStrategy: "none" },
        sharing: { timeSlicing: { resources: [{ name: "nvidia.com/gpu", replicas }] } },
    });
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
                data: {
                    "a100-shared": timeSliced(3),
                    "a100-mig": stringify({ version: "v1", flags: { migStrategy: "mixed" } }),
                },
            },
        },
        migManager: {
            config: {
                create: true,
                name: "mig-config",
                default: "all-disabled",
                data: { "config.yaml": migLayout({ "3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2 }) },
            },
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
            const keda = release({
                ...releaseInputs,
                chart: "keda",
                repositoryOpts: { repo: "https://kedacore.github.io/charts" },
                values: { podIdentity: { aws: { irsa: { enabled: true } } } },
            } as never);
            assert.deepStrictEqual(await violationsOf(gpuOperatorSharing, [keda]), []);
            assert.deepStrictEqual(await violationsOf(gpuOperatorInstall, [keda]), []);
        });

        it("reports time-slicing replicas outside the allowlist, naming the entry and setting", async () => {
            const v = await theViolation(gpuOperatorSharing, [
                release(changed(releaseInputs, "values.devicePlugin.config.data.a100-shared", timeSliced(16))),
            ]);
            assert.strictEqual(
                v.message,
                'GPU Operator release "gpu-platform-prod-gpu-operator": values.devicePlugin.config.data["a100-shared"] sets sharing.timeSlicing.resources[0].replicas ' +
                    "to 16 for nvidia.com/gpu; use one of 2, 3, 4 (allowedTimeSliceReplicas).",
            );
        });

        it("reports a MIG profile outside the allowlist", async () => {
            const layout = migLayout({ "3g.40gb": 1, "1g.12gb": 2 });
            const v = await theViolation(gpuOperatorSharing, [
                release(changed(releaseInputs, "values.migManager.config.data", { "config.yaml": layout })),
            ]);
            assert.match(
                v.message,
                /values\.migManager\.config\.data\["config\.yaml"\] uses MIG profile "1g\.12gb" in mig-configs\.a100-mig\[0\]\.mig-devices, which is not allowed; use one of /,
            );
        });

        it("takes the allowlists from the stack's policy config", async () => {
            const v = await theViolation(gpuOperatorSharing, [release()], {
                allowedTimeSliceReplicas: [2],
                allowedMigProfiles: ["3g.40gb", "2g.20gb", "1g.10gb"],
            });
            assert.match(v.message, /replicas to 3 .*use one of 2 \(allowedTimeSliceReplicas\)/);
        });

        it("reports a config entry that does not parse as YAML", async () => {
            const v = await theViolation(gpuOperatorSharing, [
                release(
                    changed(
                        releaseInputs,
                        "values.devicePlugin.config.data.a100-shared",
                        "version: v1\nsharing: [unclosed",
                    ),
                ),
            ]);
            assert.match(
                v.message,
                /values\.devicePlugin\.config\.data\["a100-shared"\] does not parse as YAML \(.+\); fix the YAML\.$/,
            );
        });
    });

    describe("gpu-operator-sharing: configs moved out of data", () => {
        const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
        const movedOut = changed(releaseInputs, "values.devicePlugin.config", {
            create: false,
            name: "team-plugin-config",
            default: "a100-shared",
        });

        it("reads a ConfigMap the values name instead of creating it from data", async () => {
            const configMap = resource(CONFIG_MAP, "plugin-config", {
                metadata: { name: "team-plugin-config", namespace: "gpu-operator" },
                data: { "a100-shared": timeSliced(16) },
            });
            const v = await theViolation(gpuOperatorSharing, [release(movedOut), configMap]);
            assert.strictEqual(v.urn, release().urn);
            assert.match(
                v.message,
                /ConfigMap "team-plugin-config" \(ConfigMap "plugin-config"\) data\["a100-shared"\] sets sharing\.timeSlicing\.resources\[0\]\.replicas to 16/,
            );
            assert.deepStrictEqual(
                await violationsOf(gpuOperatorSharing, [
                    release(movedOut),
                    changed(configMap, "inputs.data.a100-shared", timeSliced(4)),
                ]),
                [],
            );
        });

        it("reports a ConfigMap named but not created by this stack, which cannot be checked", async () => {
            const v = await theViolation(gpuOperatorSharing, [release(movedOut)]);
            assert.match(
                v.message,
                /values\.devicePlugin\.config\.name names ConfigMap "team-plugin-config", which this stack does not create/,
            );
        });

        it("reads sharing configs from valueYamlFiles too, under values", async () => {
            const file = {
                [SIG_KEY]: ASSET_SIG,
                text: stringify({
                    devicePlugin: { config: { create: true, name: "x", data: { shared: timeSliced(8) } } },
                }),
            };
            const inputs = { ...changed(releaseInputs, "values.devicePlugin", undefined), valueYamlFiles: [file] };
            assert.match(
                (await theViolation(gpuOperatorSharing, [release(inputs)])).message,
                /values\.devicePlugin\.config\.data\["shared"\] sets .*replicas to 8/,
            );
        });
    });

    describe("gpu-operator-install", () => {
        it("passes the platform's release: NVIDIA's chart, driver and toolkit off", async () => {
            assert.deepStrictEqual(await violationsOf(gpuOperatorInstall, [release()]), []);
        });

        for (const [what, inputs, expected] of [
            [
                "driver.enabled: true",
                changed(releaseInputs, "values.driver.enabled", true),
                /sets values\.driver\.enabled to true: the NVIDIA driver would be installed again/,
            ],
            [
                "driver left to the chart's default",
                changed(releaseInputs, "values.driver", undefined),
                /leaves values\.driver\.enabled unset, which installs it/,
            ],
            [
                'a dotted key Helm does not split ("driver.enabled")',
                {
                    ...changed(releaseInputs, "values.driver", undefined),
                    values: { ...changed(releaseInputs, "values.driver", undefined).values, "driver.enabled": false },
                },
                /leaves values\.driver\.enabled unset/,
            ],
            [
                'toolkit.enabled: "true"',
                changed(releaseInputs, "values.toolkit.enabled", "true"),
                /sets values\.toolkit\.enabled to "true": the NVIDIA container toolkit would be installed again/,
            ],
        ] as const) {
            it(`reports ${what}`, async () => {
                assert.match((await theViolation(gpuOperatorInstall, [release(inputs as never)])).message, expected);
            });
        }

        it('takes "false" written as YAML 1.1 reads it, as the ClusterPolicy does', async () => {
            assert.deepStrictEqual(
                await violationsOf(gpuOperatorInstall, [
                    release(
                        changed(
                            changed(releaseInputs, "values.driver.enabled", "False"),
                            "values.toolkit.enabled",
                            "no",
                        ),
                    ),
                ]),
                [],
            );
        });

        it("reads valueYamlFiles under values: a file turning the driver on is overridden by values, not the other way round", async () => {
            const file = (enabled: boolean) => ({ [SIG_KEY]: ASSET_SIG, text: stringify({ driver: { enabled } }) });
            assert.deepStrictEqual(
                await violationsOf(gpuOperatorInstall, [
                    release({ ...releaseInputs, valueYamlFiles: [file(true)] } as never),
                ]),
                [],
            );
            const withoutDriver = {
                ...changed(releaseInputs, "values.driver", undefined),
                valueYamlFiles: [file(false), file(true)],
            };
            assert.match(
                (await theViolation(gpuOperatorInstall, [release(withoutDriver)])).message,
                /sets values\.driver\.enabled to true/,
            );
        });

        it("reports value files it cannot read", async () => {
            const missing = {
                ...releaseInputs,
                valueYamlFiles: [{ [SIG_KEY]: ASSET_SIG, path: "/nonexistent/gpu-values.yaml" }],
            };
            assert.match(
                (await theViolation(gpuOperatorInstall, [release(missing)])).message,
                /takes values from valueYamlFiles\[0\] \(file \/nonexistent\/gpu-values\.yaml\), which cannot be read at preview/,
            );
        });

        for (const [what, chart, repo] of [
            ["a local path", "./charts/gpu-operator", undefined],
            ["another repository", "gpu-operator", "https://charts.example.com/mirror"],
            ["a renamed copy carrying the operator's values", "./vendor/accelerators", undefined],
            ["another OCI registry", "oci://registry.example.com/charts/gpu-operator", undefined],
        ] as const) {
            it(`reports the chart from ${what}`, async () => {
                const inputs = { ...releaseInputs, chart, repositoryOpts: repo ? { repo } : undefined };
                const v = await theViolation(gpuOperatorInstall, [release(inputs as never)]);
                assert.match(
                    v.message,
                    /installs chart ".*"( from \S+)?, not NVIDIA's chart from https:\/\/helm\.ngc\.nvidia\.com\/nvidia; set chart: "gpu-operator" and repositoryOpts\.repo/,
                );
            });
        }

        it("judges a ClusterPolicy the stack creates itself", async () => {
            const clusterPolicy = resource("kubernetes:nvidia.com/v1:ClusterPolicy", "cluster-policy", {
                spec: { driver: { enabled: true }, toolkit: { enabled: false } },
            });
            assert.match(
                (await theViolation(gpuOperatorInstall, [clusterPolicy])).message,
                /^ClusterPolicy "cluster-policy" sets spec\.driver\.enabled to true/,
            );
        });
    });
});
