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
    // Chart 9.x; the image tag is set per cluster to the autoscaler release that matches the
    // cluster's Kubernetes minor version, as the autoscaler's README asks.
    clusterAutoscaler: {
        chart: "cluster-autoscaler",
        repository: "https://kubernetes.github.io/autoscaler",
        version: "9.46.6",
        namespace: "kube-system",
    },
} as const satisfies Record<string, ChartPin>;
