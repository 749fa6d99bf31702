/**
 * Every Helm chart the platform installs, pinned to a repository and version in this one
 * place. Bump a version here, read the chart's changelog, and run the tests.
 */
export interface ChartPin {
    readonly chart: string;
    readonly repository: string;
    readonly version: string;
    readonly namespace: string;
}

export const CHARTS = {
    // 9.59.0 (app 1.35.0, 2026-07-21) is the newest in the chart index; the image tag is set per
    // cluster to the autoscaler release matching its Kubernetes minor, as the autoscaler's README asks.
    clusterAutoscaler: {
        chart: "cluster-autoscaler",
        repository: "https://kubernetes.github.io/autoscaler",
        version: "9.59.0",
        namespace: "kube-system",
    },
    // 2.20.2 (app 2.20.2, 2026-07-31): KEDA's compatibility matrix (keda.sh/docs/2.20/operate/cluster)
    // lists v2.20 as tested on Kubernetes 1.33-1.35, which covers the cluster's 1.35; its values and
    // SQS scaler were read at this tag. 2.21.x (tested 1.34-1.36) is the next bump to review.
    keda: {
        chart: "keda",
        repository: "https://kedacore.github.io/charts",
        version: "2.20.2",
        namespace: "keda",
    },
    // v26.7.0 (2026-08) is the newest release tag of NVIDIA/gpu-operator; its values were read at
    // that tag (deployments/gpu-operator/values.yaml). NGC's chart versions carry the "v".
    gpuOperator: {
        chart: "gpu-operator",
        repository: "https://helm.ngc.nvidia.com/nvidia",
        version: "v26.7.0",
        namespace: "gpu-operator",
    },
    // 2.5.17 (app 1.120.1, 2026-04-28), the newest tag of opencost/opencost-helm-chart; values read
    // at that tag (test/fixtures/charts/opencost-2.5.17.values.yaml).
    opencost: {
        chart: "opencost",
        repository: "https://opencost.github.io/opencost-helm-chart",
        version: "2.5.17",
        namespace: "opencost",
    },
    // 29.27.0 (Prometheus v3.14.0, 2026-08-18), the newest tag of prometheus-community's chart;
    // values read at that tag (test/fixtures/charts/prometheus-29.27.0.values.yaml).
    prometheus: {
        chart: "prometheus",
        repository: "https://prometheus-community.github.io/helm-charts",
        version: "29.27.0",
        namespace: "prometheus",
    },
} as const satisfies Record<string, ChartPin>;
