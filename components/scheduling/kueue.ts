import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { stringify } from "yaml";
import { CPU_NODE_SELECTOR, LABELS } from "@gpu-platform/catalog";
import { CHARTS } from "../shared/charts";
import { HelmValues, mergeValues, pinnedRelease } from "../shared/helm";
import { PACKAGE } from "../shared/tokens";

export const KUEUE_TYPE = `${PACKAGE}:scheduling:Kueue`;

/**
 * Kueue's integrations the platform turns on (names as Kueue v0.19.2 pkg/controller/jobs/*
 * `FrameworkName`): Jobs; Deployments, StatefulSets and bare pods (the pod-based integrations);
 * the Kubeflow training kinds and Ray's. An integration whose CRD is absent is skipped by Kueue
 * until it appears, so listing the Kubeflow and Ray kinds costs nothing where they are not installed.
 */
export const KUEUE_FRAMEWORKS = [
    "batch/job",
    "pod",
    "deployment",
    "statefulset",
    "kubeflow.org/pytorchjob",
    "kubeflow.org/tfjob",
    "kubeflow.org/xgboostjob",
    "kubeflow.org/paddlejob",
    "kubeflow.org/jaxjob",
    "kubeflow.org/mpijob",
    "trainer.kubeflow.org/trainjob",
    "jobset.x-k8s.io/jobset",
    "ray.io/rayjob",
    "ray.io/raycluster",
    "ray.io/rayservice",
] as const;

/** Kueue's controller, as the chart names it for the release `kueue` (charts/kueue/templates/rbac/service_account.yaml at v0.19.2). */
export const KUEUE_CONTROLLER = {
    namespace: CHARTS.kueue.namespace,
    serviceAccount: "kueue-controller-manager",
    username: `system:serviceaccount:${CHARTS.kueue.namespace}:kueue-controller-manager`,
} as const;

export interface KueueArgs {
    /** Two controller replicas (leader election) and a PodDisruptionBudget. Default false; the platform sets it in prod. */
    highAvailability?: boolean;
    /** Kueue's integrations. Default `KUEUE_FRAMEWORKS`. */
    frameworks?: string[];
    /** Helm values merged over the component's, last. Default none. */
    values?: HelmValues;
}

/**
 * Kueue (the pinned `kueue` chart from registry.k8s.io, CRDs included), managing every workload
 * in the team namespaces, on the CPU pool.
 *
 * ```ts
 * const kueue = new Kueue("kueue", { highAvailability: true }, { providers: { kubernetes: cluster.provider } });
 * ```
 *
 * **Every workload in a team namespace is queued, named queue or not.** Kueue's
 * `manageJobsWithoutQueueName` with `managedJobsNamespaceSelector` on the team label
 * (`gpu-platform/team`) manages everything there, and Kueue puts a workload that names no queue
 * in the namespace's LocalQueue `default` (KueueQueues makes one per team). The alternative, an
 * admission policy refusing GPU workloads without the queue label, would break every manifest
 * written before Kueue and rely on users to opt in; this way nothing in a team namespace runs
 * unqueued, and the chart scopes Kueue's webhooks to the same selector, so system namespaces are
 * untouched. The backstop for pods that escape the webhooks is the `kueue-managed-gpu-pods`
 * admission policy (catalog/admission). Quota counts only the resources a ClusterQueue declares
 * (`quotaCheckStrategy: IgnoreUndeclared`): CPU, memory and every GPU resource of the pools.
 *
 * Cost: one controller pod (two in HA) of 500m CPU and 512 MiB on the CPU pool.
 */
export class Kueue extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;
    public readonly controller = KUEUE_CONTROLLER;

    constructor(name: string, args: KueueArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super(KUEUE_TYPE, name, {}, opts);
        this.release = pinnedRelease(
            `${name}-release`,
            CHARTS.kueue,
            mergeValues(
                kueueValues({
                    highAvailability: args.highAvailability ?? false,
                    frameworks: args.frameworks ?? [...KUEUE_FRAMEWORKS],
                }),
                args.values,
            ),
            { parent: this },
        );
        this.registerOutputs({ namespace: CHARTS.kueue.namespace });
    }
}

/**
 * Kueue's configuration file (config.kueue.x-k8s.io/v1beta2 `Configuration`, the chart's
 * `managerConfig.controllerManagerConfigYaml`): the chart's defaults at v0.19.2 for health,
 * metrics, webhook, leader election and clients, plus the platform's management of team namespaces.
 */
export function kueueManagerConfig(frameworks: readonly string[]): Record<string, unknown> {
    return {
        apiVersion: "config.kueue.x-k8s.io/v1beta2",
        kind: "Configuration",
        health: { healthProbeBindAddress: ":8081" },
        metrics: { bindAddress: ":8443" },
        webhook: { port: 9443 },
        leaderElection: { leaderElect: true, resourceName: "c1f6bfd2.kueue.x-k8s.io" },
        controller: {
            groupKindConcurrency: {
                "Job.batch": 5,
                Pod: 5,
                "Workload.kueue.x-k8s.io": 10,
                "LocalQueue.kueue.x-k8s.io": 5,
                "ClusterQueue.kueue.x-k8s.io": 5,
                "ResourceFlavor.kueue.x-k8s.io": 1,
            },
        },
        clientConnection: { qps: 300, burst: 500 },
        manageJobsWithoutQueueName: true,
        managedJobsNamespaceSelector: { matchExpressions: [{ key: LABELS.team, operator: "Exists" }] },
        integrations: { frameworks: [...frameworks] },
        resources: { quotaCheckStrategy: "IgnoreUndeclared" },
    };
}

/** The chart values (kubernetes-sigs/kueue charts/kueue/values.yaml at v0.19.2). */
export function kueueValues(s: { highAvailability: boolean; frameworks: readonly string[] }): HelmValues {
    return {
        controllerManager: {
            // The published chart already points here (hack/helm-chart-package.sh); pinned so the image is the release's.
            manager: {
                image: {
                    repository: "registry.k8s.io/kueue/kueue",
                    tag: `v${CHARTS.kueue.version}`,
                    pullPolicy: "IfNotPresent",
                },
            },
            replicas: s.highAvailability ? 2 : 1,
            podDisruptionBudget: { enabled: s.highAvailability, minAvailable: 1 },
            nodeSelector: { ...CPU_NODE_SELECTOR },
        },
        managerConfig: { controllerManagerConfigYaml: stringify(kueueManagerConfig(s.frameworks)) },
    };
}
