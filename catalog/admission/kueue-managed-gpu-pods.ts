/**
 * No GPU pod starts in a team namespace unless Kueue holds it until admission (and so the
 * budget gate's check runs first).
 *
 * Kueue manages every workload in a team namespace (`manageJobsWithoutQueueName` with a
 * namespace selector on the team label): Jobs and the Kubeflow and Ray kinds are created
 * suspended and only their controllers create pods, after Kueue admits them; every other pod
 * (Deployments', StatefulSets', bare pods) gets Kueue's scheduling gate from Kueue's pod webhook
 * and waits until Kueue removes it (Kueue v0.19.2 pkg/controller/jobs/pod/pod_webhook.go). This
 * rule set is the backstop behind those webhooks:
 *
 * - a new pod that requests a GPU (whole, time-sliced or a MIG slice) must either carry Kueue's
 *   `kueue.x-k8s.io/admission` scheduling gate, or be created by a workload controller the
 *   platform trusts (the Job controller, or a listed operator) for an owner of a kind Kueue
 *   manages: a team member cannot create a GPU pod that skips the queue, even by writing an
 *   owner reference of their own;
 * - only Kueue's own service account may remove that scheduling gate (users may remove gates
 *   from their pods, and that would start the pod unadmitted).
 *
 * Validating admission runs after every mutating webhook, so Kueue's gate is already on the pod
 * when these rules read it.
 */
import { GPU_RESOURCE, LABELS, MIG_RESOURCE_PREFIX, SHARED_GPU_RESOURCE } from "../kubernetes-names";
import type { AdmissionRuleSet } from "./types";

/** The scheduling gate Kueue's pod webhook adds and its controller removes on admission (Kueue v0.19.2 pkg/controller/jobs/pod/constants). */
export const KUEUE_ADMISSION_GATE = "kueue.x-k8s.io/admission";

/**
 * Owners whose pods Kueue admits through the owner (it suspends the owner, not the pods), as
 * `<apiVersion>/<kind>`: the Job, and the Kubeflow and Ray kinds teams run (the templates make
 * Jobs and Deployments; Deployments' pods are gated one by one).
 */
export const KUEUE_MANAGED_OWNERS = [
    "batch/v1/Job",
    "kubeflow.org/v1/PyTorchJob",
    "kubeflow.org/v1/TFJob",
    "kubeflow.org/v1/XGBoostJob",
    "kubeflow.org/v1/PaddleJob",
    "kubeflow.org/v1/JAXJob",
    "kubeflow.org/v2beta1/MPIJob",
    "ray.io/v1/RayCluster",
] as const;

/**
 * Identities that create pods for those owners. The Job controller runs in kube-controller-manager,
 * as `system:serviceaccount:kube-system:job-controller` when the controller manager uses per-controller
 * credentials and as `system:kube-controller-manager` when it does not.
 */
export const KUBERNETES_JOB_CONTROLLERS = [
    "system:serviceaccount:kube-system:job-controller",
    "system:kube-controller-manager",
] as const;

export interface KueueManagedGpuPodsOptions {
    /** Kueue's controller, the only identity that may remove its scheduling gate: `system:serviceaccount:<ns>:<sa>`. */
    readonly kueueController: string;
    /** Identities that create pods for the owners above: the Job controller's, and any Kubeflow or Ray operator's. */
    readonly workloadControllers: readonly string[];
}

export const KUEUE_MANAGED_GPU_PODS_POLICY = "gpu-platform-kueue-managed-gpu-pods";

const cel = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(", ")}]`;

/** True for a CEL resource name `r` that is a GPU, a time-sliced share or a MIG slice. */
const IS_GPU = `(r == '${GPU_RESOURCE}' || r == '${SHARED_GPU_RESOURCE}' || r.startsWith('${MIG_RESOURCE_PREFIX}'))`;
const CONTAINER_WANTS_GPU =
    `has(c.resources) && ((has(c.resources.limits) && c.resources.limits.exists(r, ${IS_GPU})) || ` +
    `(has(c.resources.requests) && c.resources.requests.exists(r, ${IS_GPU})))`;
const HELD = (pod: string) =>
    `has(${pod}.spec.schedulingGates) && ${pod}.spec.schedulingGates.exists(g, g.name == '${KUEUE_ADMISSION_GATE}')`;

/** The rule set, for team namespaces (those carrying the team label). */
export function kueueManagedGpuPods(options: KueueManagedGpuPodsOptions): AdmissionRuleSet {
    return {
        name: KUEUE_MANAGED_GPU_PODS_POLICY,
        description:
            "GPU pods in team namespaces start only through Kueue: held by its scheduling gate, or created by a trusted controller for a Kueue-managed job",
        failurePolicy: "Fail",
        matchConstraints: {
            resourceRules: [
                { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"] },
            ],
            namespaceSelector: { matchExpressions: [{ key: LABELS.team, operator: "Exists" }] },
        },
        variables: [
            {
                name: "containers",
                expression:
                    "object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : [])",
            },
            { name: "wantsGpu", expression: `variables.containers.exists(c, ${CONTAINER_WANTS_GPU})` },
            { name: "held", expression: HELD("object") },
            {
                name: "managedOwner",
                expression:
                    "has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(o, " +
                    `has(o.controller) && o.controller && (o.apiVersion + '/' + o.kind) in ${cel(KUEUE_MANAGED_OWNERS)})`,
            },
            {
                name: "byWorkloadController",
                expression: `request.userInfo.username in ${cel(options.workloadControllers)}`,
            },
            {
                name: "gateRemoved",
                expression: `request.operation == 'UPDATE' && (${HELD("oldObject")}) && !variables.held`,
            },
        ],
        validations: [
            {
                expression:
                    "request.operation != 'CREATE' || !variables.wantsGpu || variables.held || " +
                    "(variables.managedOwner && variables.byWorkloadController)",
                messageExpression:
                    "'requests GPUs but Kueue does not hold it: in a team namespace a GPU pod starts only after Kueue and the budget gate admit it. " +
                    "Create a Job, Deployment or StatefulSet (Kueue queues it in the namespace\\'s default LocalQueue), not a pod that bypasses the queue'",
                reason: "Forbidden",
            },
            {
                expression: `!variables.gateRemoved || request.userInfo.username == '${options.kueueController}'`,
                messageExpression: `'removes the scheduling gate ${KUEUE_ADMISSION_GATE}, which only Kueue removes when it admits the pod; wait for admission (kubectl get workloads)'`,
                reason: "Forbidden",
            },
        ],
    };
}
