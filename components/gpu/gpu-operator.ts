import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { CHARTS } from "../shared/charts";
import { HelmValues, mergeValues, pinnedRelease } from "../shared/helm";
import { CPU_NODE_SELECTOR, GPU_CONFIG_STARTUP_TAINT, GPU_TAINT } from "@gpu-platform/catalog";
import { PACKAGE } from "../shared/tokens";
import {
    EXCLUSIVE_CONFIG,
    MIG_DISABLED_CONFIG,
    SharedGpuPool,
    devicePluginConfigData,
    migManagerConfig,
} from "./sharing";

export const GPU_OPERATOR_TYPE = `${PACKAGE}:gpu:GpuOperator`;

/** ConfigMaps the chart creates from the values below; the operator's ClusterPolicy points at them. */
export const DEVICE_PLUGIN_CONFIGMAP = "gpu-platform-device-plugin";
export const MIG_MANAGER_CONFIGMAP = "gpu-platform-mig-parted";

export interface GpuOperatorArgs {
    /**
     * The GPU pools of the cluster, each with its sharing mode. The operator holds one
     * device-plugin config per sharing layout they use and one MIG layout per MIG pool.
     */
    pools: SharedGpuPool[];
    /**
     * Create a Prometheus Operator `ServiceMonitor` for the DCGM exporter's metrics. Needs the
     * Prometheus Operator's CRDs in the cluster. Default false: the exporter still serves
     * `:9400/metrics` for any scraper.
     */
    dcgmServiceMonitor?: boolean;
    /** Helm values merged over the component's, last. Default none. */
    values?: HelmValues;
}

/**
 * NVIDIA's GPU Operator for nodes on the EKS AL2023 NVIDIA AMI: the AMI brings the driver and
 * the container toolkit, the operator brings the device plugin, GPU feature discovery, the MIG
 * manager and the DCGM exporter, and configures GPU sharing node by node.
 *
 * Each node's pool labels pick its configs (see `sharing.ts`): time-slicing with N replicas
 * per GPU, MIG in the pool's layout (mixed strategy: each profile its own resource), or whole
 * GPUs. The MIG manager reads the label when its pod starts on a new node, so a node from a
 * MIG pool comes up partitioned before the device plugin advertises its slices.
 *
 * ```ts
 * new GpuOperator("gpu-operator", { pools: [{ name: "a100-mig", sharing: { mode: "mig", layout: { "3g.40gb": 2 } } }] },
 *     { provider: cluster.provider });
 * ```
 *
 * Cost: the operator and NFD master on the CPU pool; the per-node DaemonSets run on GPU nodes
 * only while those exist.
 */
export class GpuOperator extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly release: k8s.helm.v3.Release;
    /** The device plugin's configs by name, as rendered into the chart values. */
    public readonly devicePluginConfigs: Record<string, string>;
    /** The MIG manager's `config.yaml`, as rendered into the chart values. */
    public readonly migConfig: string;

    constructor(name: string, args: GpuOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
        super(GPU_OPERATOR_TYPE, name, {}, opts);
        const pin = CHARTS.gpuOperator;
        this.devicePluginConfigs = devicePluginConfigData(args.pools);
        this.migConfig = migManagerConfig(args.pools);

        // The operands mount host paths and run privileged: the namespace must allow it.
        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: { name: pin.namespace, labels: { "pod-security.kubernetes.io/enforce": "privileged" } } },
            { parent: this },
        );
        const values = mergeValues(
            gpuOperatorValues(this.devicePluginConfigs, this.migConfig, args.dcgmServiceMonitor ?? false),
            args.values,
        );
        this.release = pinnedRelease(`${name}-release`, pin, values, { parent: this, dependsOn: [this.namespace] });
        this.registerOutputs({ releaseName: this.release.name });
    }
}

/**
 * The chart values (NVIDIA/gpu-operator deployments/gpu-operator/values.yaml at v26.7.0).
 *
 * - Driver and toolkit off: the EKS AL2023 NVIDIA AMI ships both, and AWS's guide says to
 *   disable them in the operator (EKS user guide, "Use EKS-optimized accelerated AMIs").
 * - CDI off: with the operator's toolkit off, the AMI's containerd runs the NVIDIA runtime,
 *   which injects the devices the plugin lists in `NVIDIA_VISIBLE_DEVICES`; the same
 *   device-list strategy AWS's own device-plugin guide uses.
 * - Operator and NFD's master and garbage collector on CPU nodes; the per-node DaemonSets
 *   tolerate the GPU taint, since that is where they must run, and the startup taint of
 *   time-sliced and MIG nodes, which stays until their device plugin (and, first, NFD's labels
 *   and the MIG manager) have done their work. A list replaces the chart's, so NFD's worker
 *   keeps the chart's control-plane toleration (values.yaml l.631-638 at v26.7.0).
 */
export function gpuOperatorValues(
    devicePluginConfigs: Record<string, string>,
    migConfig: string,
    dcgmServiceMonitor: boolean,
): HelmValues {
    const gpuTolerations = [GPU_TAINT, GPU_CONFIG_STARTUP_TAINT].map((taint) => ({
        key: taint.key,
        operator: "Exists",
        effect: taint.effect,
    }));
    return {
        driver: { enabled: false },
        toolkit: { enabled: false },
        cdi: { enabled: false },
        // Mixed: a MIG node advertises each profile as its own resource (nvidia.com/mig-3g.40gb).
        mig: { strategy: "mixed" },
        operator: { nodeSelector: { ...CPU_NODE_SELECTOR } },
        daemonsets: { tolerations: gpuTolerations },
        devicePlugin: {
            enabled: true,
            config: {
                create: true,
                name: DEVICE_PLUGIN_CONFIGMAP,
                default: EXCLUSIVE_CONFIG,
                data: devicePluginConfigs,
            },
        },
        migManager: {
            enabled: true,
            // Reboot the node when a GPU reset cannot switch MIG mode, as NVIDIA advises for cloud VMs
            // ("GPU Operator with MIG": WITH_REBOOT=true in a CSP environment); otherwise a node from zero
            // would stay "mode change pending" and never offer its slices.
            env: [{ name: "WITH_REBOOT", value: "true" }],
            config: {
                create: true,
                name: MIG_MANAGER_CONFIGMAP,
                default: MIG_DISABLED_CONFIG,
                data: { "config.yaml": migConfig },
            },
        },
        gfd: { enabled: true },
        dcgmExporter: { enabled: true, serviceMonitor: { enabled: dcgmServiceMonitor } },
        nfd: { enabled: true },
        "node-feature-discovery": {
            master: { nodeSelector: { ...CPU_NODE_SELECTOR } },
            gc: { nodeSelector: { ...CPU_NODE_SELECTOR } },
            worker: {
                tolerations: [
                    {
                        key: "node-role.kubernetes.io/control-plane",
                        operator: "Equal",
                        value: "",
                        effect: "NoSchedule",
                    },
                    ...gpuTolerations,
                ],
            },
        },
    };
}
