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
} as const satisfies Record<string, ChartPin>;
