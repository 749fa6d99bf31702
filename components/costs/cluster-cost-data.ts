import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { CPU_NODE_SELECTOR, LABELS } from "@gpu-platform/catalog";
import { CHARTS } from "../shared/charts";
import { HelmValues, mergeValues, pinnedRelease } from "../shared/helm";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";

export const CLUSTER_COST_DATA_TYPE = `${PACKAGE}:costs:ClusterCostData`;

/**
 * The two in-cluster services the cost tracker reads, as the Kubernetes API's service proxy
 * names them (`[scheme:]name:port`). RBAC matches a proxy request's resource name literally, so
 * these exact strings are both the URL segment and the Role's `resourceNames`.
 */
export const COST_DATA_SERVICES = {
    opencost: { namespace: CHARTS.opencost.namespace, proxyName: "http:opencost:9003" },
    prometheus: { namespace: CHARTS.prometheus.namespace, proxyName: "http:prometheus-server:80" },
} as const;

/** The Kubernetes group a reader is mapped to (an EKS access entry's `kubernetesGroups`); it may only proxy GETs to the two services. */
export const COST_DATA_READER_GROUP = "gpu-platform:cost-data-readers";

export interface ClusterCostDataArgs {
    /** The cluster's name: OpenCost labels its figures with it. Required. */
    clusterName: pulumi.Input<string>;
    /** Days Prometheus keeps samples, 2 to 90. Default 15. */
    retentionDays?: number;
    /**
     * The most nodes the cluster may run (every pool at its maximum): Prometheus' memory and
     * disk are sized from it, since node-exporter, kubelet and DCGM series grow with nodes.
     * Default 10.
     */
    maxNodes?: number;
    /** Helm values merged over OpenCost's, last. Default none. */
    opencostValues?: HelmValues;
    /** Helm values merged over Prometheus', last. Default none. */
    prometheusValues?: HelmValues;
}

/** Prometheus' size for a cluster of `maxNodes` nodes keeping `retentionDays` of samples. */
export interface PrometheusSizing {
    readonly cpu: string;
    readonly memory: string;
    readonly memoryLimit: string;
    readonly storageGiB: number;
}

/**
 * OpenCost and the Prometheus it needs, from their pinned charts, on the CPU pool: the
 * cluster-side data the cost tracker reads. OpenCost's allocation API gives spend per
 * namespace (GPU cost and hours included); Prometheus holds DCGM's GPU utilisation, which its
 * chart's default `kubernetes-service-endpoints` job scrapes from the GPU Operator's exporter
 * (the `nvidia-dcgm-exporter` Service carries `prometheus.io/scrape: "true"`; the job keeps
 * the exporter's `namespace`/`pod` labels with `honor_labels`, so a series names the workload's
 * namespace, not `gpu-operator`). kube-state-metrics exports the team label of namespaces and
 * the pool label of nodes, which OpenCost and the tracker map spend with.
 *
 * Neither service is exposed: readers go through the Kubernetes API's service proxy. Members of
 * `COST_DATA_READER_GROUP` may `get` `services/proxy` on exactly `opencost:9003` and
 * `prometheus-server:80`, nothing else (a Role in each namespace).
 *
 * Cost: Prometheus' and OpenCost's requests on the CPU pool, node-exporter's on every node, and
 * Prometheus' gp3 volume (see `prometheusSizing`).
 */
export class ClusterCostData extends pulumi.ComponentResource {
    public readonly opencost: k8s.helm.v3.Release;
    public readonly prometheus: k8s.helm.v3.Release;
    /** Encrypted gp3 volumes, for Prometheus' samples (EKS has no default StorageClass since 1.30). */
    public readonly storageClass: k8s.storage.v1.StorageClass;
    public readonly readerRoles: k8s.rbac.v1.Role[];
    /** The group readers are mapped to, and the API server paths that reach each service. */
    public readonly readerGroup = COST_DATA_READER_GROUP;
    public readonly proxyPaths: { readonly opencost: string; readonly prometheus: string };
    public readonly sizing: PrometheusSizing;

    constructor(name: string, args: ClusterCostDataArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("ClusterCostData", name, clusterCostDataArgsProblems(args));
        super(CLUSTER_COST_DATA_TYPE, name, {}, opts);
        const retentionDays = args.retentionDays ?? 15;
        this.sizing = prometheusSizing(args.maxNodes ?? 10, retentionDays);
        this.proxyPaths = {
            opencost: serviceProxyPath(COST_DATA_SERVICES.opencost),
            prometheus: serviceProxyPath(COST_DATA_SERVICES.prometheus),
        };

        this.storageClass = new k8s.storage.v1.StorageClass(
            `${name}-gp3`,
            {
                metadata: { name: `${name}-gp3` },
                provisioner: "ebs.csi.aws.com",
                parameters: { type: "gp3", encrypted: "true" },
                volumeBindingMode: "WaitForFirstConsumer",
                allowVolumeExpansion: true,
                reclaimPolicy: "Delete",
            },
            { parent: this },
        );
        this.prometheus = pinnedRelease(
            `${name}-prometheus`,
            CHARTS.prometheus,
            this.storageClass.metadata.name.apply((storageClass) =>
                mergeValues(prometheusValues(this.sizing, retentionDays, storageClass), args.prometheusValues),
            ),
            { parent: this },
        );
        this.opencost = pinnedRelease(
            `${name}-opencost`,
            CHARTS.opencost,
            pulumi
                .output(args.clusterName)
                .apply((clusterName) => mergeValues(opencostValues(clusterName), args.opencostValues)),
            // OpenCost reads Prometheus from its first query on.
            { parent: this, dependsOn: [this.prometheus] },
        );
        this.readerRoles = [
            this.grantProxy(`${name}-opencost-reader`, COST_DATA_SERVICES.opencost, this.opencost),
            this.grantProxy(`${name}-prometheus-reader`, COST_DATA_SERVICES.prometheus, this.prometheus),
        ];
        this.registerOutputs({ readerGroup: this.readerGroup, proxyPaths: this.proxyPaths });
    }

    /** A Role allowing exactly GET through the API server's proxy to one service, bound to the reader group. */
    private grantProxy(
        name: string,
        service: { namespace: string; proxyName: string },
        release: k8s.helm.v3.Release,
    ): k8s.rbac.v1.Role {
        // The release creates the namespace.
        const inNamespace = { parent: this, dependsOn: [release] };
        const role = new k8s.rbac.v1.Role(
            name,
            {
                metadata: { name: "gpu-platform-cost-data-reader", namespace: service.namespace },
                rules: [
                    {
                        apiGroups: [""],
                        resources: ["services/proxy"],
                        resourceNames: [service.proxyName],
                        verbs: ["get"],
                    },
                ],
            },
            inNamespace,
        );
        new k8s.rbac.v1.RoleBinding(
            `${name}-binding`,
            {
                metadata: { name: "gpu-platform-cost-data-reader", namespace: service.namespace },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "gpu-platform-cost-data-reader" },
                subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: COST_DATA_READER_GROUP }],
            },
            { ...inNamespace, dependsOn: [release, role] },
        );
        return role;
    }
}

/** Every problem with the arguments, keyed by argument name. */
export function clusterCostDataArgsProblems(
    args: Pick<ClusterCostDataArgs, "retentionDays" | "maxNodes">,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const { retentionDays, maxNodes } = args;
    if (retentionDays !== undefined && (!Number.isInteger(retentionDays) || retentionDays < 2 || retentionDays > 90)) {
        problems.push({
            key: "retentionDays",
            message: `must be a whole number of days from 2 to 90 (found ${retentionDays})`,
        });
    }
    if (maxNodes !== undefined && (!Number.isInteger(maxNodes) || maxNodes < 1)) {
        problems.push({ key: "maxNodes", message: `must be a whole number, 1 or more (found ${maxNodes})` });
    }
    return problems;
}

/** `/api/v1/namespaces/<ns>/services/<[scheme:]name:port>/proxy`: append the service's own path. */
export function serviceProxyPath(service: { namespace: string; proxyName: string }): string {
    return `/api/v1/namespaces/${service.namespace}/services/${service.proxyName}/proxy`;
}

/**
 * Prometheus for `maxNodes` nodes: about 1,500 active series per node (node-exporter, kubelet
 * and cAdvisor, kube-state-metrics, DCGM on GPU nodes) scraped every minute is 1,500 × 1,440
 * samples × about 1.5 bytes compressed ≈ 3 MB of disk per node per day, and a few KB of memory
 * per series. Memory: 1 GiB up to 16 nodes, then 64 MiB per node; disk: that daily rate ×
 * retention, doubled for compaction headroom, in steps of 10 GiB, 20 GiB at least.
 */
export function prometheusSizing(maxNodes: number, retentionDays: number): PrometheusSizing {
    const memoryMiB = Math.max(1024, Math.ceil((maxNodes * 64) / 256) * 256);
    return {
        cpu: maxNodes > 50 ? "1" : "250m",
        memory: `${memoryMiB}Mi`,
        memoryLimit: `${memoryMiB * 2}Mi`,
        storageGiB: Math.max(20, Math.ceil((maxNodes * 3 * retentionDays * 2) / 1024 / 10) * 10),
    };
}

/**
 * The prometheus chart's values (prometheus-community/helm-charts, charts/prometheus at
 * prometheus-29.27.0): no Alertmanager or Pushgateway (nothing here alerts from Prometheus),
 * kube-state-metrics with the team and pool labels allowed, OpenCost's metrics scraped, retention
 * and a volume sized for the cluster, and the server on the CPU pool.
 */
export function prometheusValues(sizing: PrometheusSizing, retentionDays: number, storageClass: string): HelmValues {
    return {
        alertmanager: { enabled: false },
        "prometheus-pushgateway": { enabled: false },
        server: {
            retention: `${retentionDays}d`,
            // Drop the oldest blocks before the volume fills, whatever the day count says.
            retentionSize: `${Math.floor(sizing.storageGiB * 0.85)}GB`,
            persistentVolume: { enabled: true, size: `${sizing.storageGiB}Gi`, storageClass },
            resources: { requests: { cpu: sizing.cpu, memory: sizing.memory }, limits: { memory: sizing.memoryLimit } },
            nodeSelector: { ...CPU_NODE_SELECTOR },
        },
        "kube-state-metrics": {
            // KSM exports no Kubernetes labels unless allowed: OpenCost maps namespaces to teams, the tracker nodes to pools.
            metricLabelsAllowlist: [`namespaces=[${LABELS.team}]`, `nodes=[${LABELS.pool}]`],
            resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
            nodeSelector: { ...CPU_NODE_SELECTOR },
        },
        // A DaemonSet on every node, GPU nodes included (its default tolerations accept any NoSchedule taint).
        "prometheus-node-exporter": {
            resources: { requests: { cpu: "20m", memory: "32Mi" }, limits: { memory: "128Mi" } },
        },
        scrapeConfigs: {
            // OpenCost's own metrics (node prices, allocations), as its install guide adds them.
            opencost: {
                enabled: true,
                honor_labels: true,
                scrape_interval: "1m",
                scrape_timeout: "10s",
                metrics_path: "/metrics",
                scheme: "http",
                dns_sd_configs: [{ names: [`opencost.${CHARTS.opencost.namespace}`], type: "A", port: 9003 }],
            },
        },
    };
}

/**
 * The opencost chart's values (opencost/opencost-helm-chart, charts/opencost at opencost-2.5.17):
 * the allocation API only (no UI, no MCP server: nothing outside the cluster may reach them),
 * reading the Prometheus above, on the CPU pool.
 */
export function opencostValues(clusterName: string): HelmValues {
    return {
        opencost: {
            exporter: {
                defaultClusterId: clusterName,
                resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
            },
            prometheus: {
                internal: {
                    enabled: true,
                    serviceName: "prometheus-server",
                    namespaceName: CHARTS.prometheus.namespace,
                    port: 80,
                },
            },
            ui: { enabled: false },
            mcp: { enabled: false },
            nodeSelector: { ...CPU_NODE_SELECTOR },
        },
    };
}
