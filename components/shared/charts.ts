import { PORTAL_NAMESPACES, SCHEDULING_NAMESPACES } from "@gpu-platform/catalog";

/**
 * Every Helm chart the platform installs, pinned to a repository and version in this one
 * place. Bump a version here, read the chart's changelog, and run the tests.
 */
export interface ChartPin {
    readonly chart: string;
    /** A chart repository's URL, or an OCI registry path (`oci://…`) holding the chart as `<repository>/<chart>`. */
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
    // The portal layer's charts. Each is the newest version in its chart repository's git history
    // as of 2026-08; its values were read at the release tag (test/fixtures/charts/ holds trimmed
    // copies with their sources, and test/chart-values.spec.ts checks every key the components set).
    // 3.5.0 (app v3.5.0, aws/eks-charts tag v0.0.242): the controller's IAM policy is its
    // docs/install/iam_policy.json at tag v3.5.0.
    awsLoadBalancerController: {
        chart: "aws-load-balancer-controller",
        repository: "https://aws.github.io/eks-charts",
        version: "3.5.0",
        namespace: "kube-system",
    },
    // 2.9.0 (app v2.9.0): its CRDs serve external-secrets.io/v1 only.
    externalSecrets: {
        chart: "external-secrets",
        repository: "https://charts.external-secrets.io",
        version: "2.9.0",
        namespace: PORTAL_NAMESPACES.externalSecrets,
    },
    // 10.1.1 (Argo CD v3.4.4): NetworkPolicies on by default since 10.0.0.
    argoCd: {
        chart: "argo-cd",
        repository: "https://argoproj.github.io/argo-helm",
        version: "10.1.1",
        namespace: PORTAL_NAMESPACES.argoCd,
    },
    // 2.0.5: applications and projects are maps keyed by name since 2.0.
    argoCdApps: {
        chart: "argocd-apps",
        repository: "https://argoproj.github.io/argo-helm",
        version: "2.0.5",
        namespace: PORTAL_NAMESPACES.argoCd,
    },
    // 1.11.5 (MLflow 3.15.1), the community chart.
    mlflow: {
        chart: "mlflow",
        repository: "https://community-charts.github.io/helm-charts",
        version: "1.11.5",
        namespace: PORTAL_NAMESPACES.mlflow,
    },
    // 2.8.2 (no appVersion: the image is the platform's own Backstage app).
    backstage: {
        chart: "backstage",
        repository: "https://backstage.github.io/charts",
        version: "2.8.2",
        namespace: PORTAL_NAMESPACES.backstage,
    },
    // The scheduling layer. 0.19.2 (app v0.19.2, 2026-08-20) is the newest release tag of
    // kubernetes-sigs/kueue; its chart is published only as an OCI artifact (charts/kueue/README.md
    // at that tag), and its values were read at that tag (test/fixtures/charts/kueue-0.19.2.values.yaml).
    kueue: {
        chart: "kueue",
        repository: "oci://registry.k8s.io/kueue/charts",
        version: "0.19.2",
        namespace: SCHEDULING_NAMESPACES.kueue,
    },
} as const satisfies Record<string, ChartPin>;
