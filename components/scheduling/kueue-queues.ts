import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { DEFAULT_WORKLOAD_CLASSES, cpuMillis, memoryMiB } from "@gpu-platform/catalog";
import { KUBERNETES_JOB_CONTROLLERS, kueueManagedGpuPods } from "@gpu-platform/catalog/admission";
import { AdmissionPolicy, admissionPolicy } from "../shared/admission-policy";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";
import { KUEUE_CONTROLLER } from "./kueue";
import {
    KUEUE_OBJECT_DEFAULTS,
    KueueClass,
    KueueObject,
    KueuePool,
    KueueTeam,
    budgetAdmissionCheck,
    clusterQueue,
    localQueue,
    poolGpuResources,
    queueLimitProblems,
    resourceFlavors,
    workloadPriorityClasses,
} from "./kueue-objects";

export const KUEUE_QUEUES_TYPE = `${PACKAGE}:scheduling:KueueQueues`;

/** Kueue's limits on a ClusterQueue's resource groups (clusterqueues CRD at v0.19.2: `maxItems` of flavors and coveredResources). */
const KUEUE_LIMITS = { flavors: 64, coveredResources: 64 } as const;

export interface KueueQueuesArgs {
    /** The Kueue release whose CRDs these objects need; they wait for it. Default none (Kueue already runs). */
    kueue?: pulumi.Resource;
    /** The GPU pools: their names (their nodes' `gpu-platform/pool` label) and what a node advertises. Required. */
    pools: KueuePool[];
    /** The teams: their namespaces exist already (pass them in `opts.dependsOn`). Required. */
    teams: KueueTeam[];
    /** Priority classes to mirror as WorkloadPriorityClasses. Default the catalog's five. */
    classes?: KueueClass[];
    /** The AdmissionCheck's name. Default `"budget"`. */
    admissionCheck?: string;
    /** The controller that serves the check. Default `"gpu-platform.io/budget-gate"`. */
    controllerName?: string;
    /**
     * Identities that create pods for Kueue-managed jobs, besides the Job controller: a Kubeflow
     * or KubeRay operator's service account (`system:serviceaccount:<ns>:<name>`). Default none.
     */
    operatorIdentities?: string[];
}

/**
 * Kueue's queues for the teams, and the rule that no GPU pod skips them.
 *
 * ```ts
 * new KueueQueues("queues", {
 *     kueue: kueue.release,
 *     pools: [{ name: "h100", nodeResources: { "nvidia.com/gpu": 8 } }],
 *     teams: [{ name: "ml-research", quota: { gpus: 16 }, queue: { lendingLimitPercent: 50 } }],
 * }, { providers: { kubernetes: cluster.provider }, dependsOn: teamNamespaces });
 * ```
 *
 * - a ResourceFlavor per GPU pool (its pool label; the GPU taint, tolerated for admitted pods)
 *   and one for CPU and memory on any node;
 * - a ClusterQueue per team, all in one cohort: the team's CPU, memory and GPU quota of each
 *   resource in each pool that offers it (from `TeamQuota`, as its ResourceQuota), borrowing
 *   and lending limits as the team's `queue` says, and the budget AdmissionCheck;
 * - a LocalQueue `default` in each team namespace, where Kueue puts workloads that name none;
 * - a WorkloadPriorityClass per priority class;
 * - the `kueue-managed-gpu-pods` admission policy (catalog/admission).
 *
 * **CRDs and objects in one update.** The objects are plain `apiextensions.CustomResource`s that
 * depend on the Kueue release, as InferencePipeline's KEDA objects: on preview against a cluster
 * without Kueue's CRDs, pulumi-kubernetes skips the dry run of a kind the API server does not
 * know yet and previews the inputs as given; on update they are created after the release.
 *
 * Cost: none of its own.
 */
export class KueueQueues extends pulumi.ComponentResource {
    public readonly flavors: k8s.apiextensions.CustomResource[];
    public readonly priorityClasses: k8s.apiextensions.CustomResource[];
    public readonly admissionCheck: k8s.apiextensions.CustomResource;
    public readonly clusterQueues: Record<string, k8s.apiextensions.CustomResource>;
    public readonly localQueues: Record<string, k8s.apiextensions.CustomResource>;
    public readonly gpuPodPolicy: AdmissionPolicy;
    /** Every Kueue object the component creates, as plain data. */
    public readonly objects: KueueObject[];

    constructor(name: string, args: KueueQueuesArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("KueueQueues", name, kueueQueuesArgsProblems(args));
        super(KUEUE_QUEUES_TYPE, name, {}, opts);
        const check = args.admissionCheck ?? KUEUE_OBJECT_DEFAULTS.admissionCheck;
        const classes = args.classes ?? [...DEFAULT_WORKLOAD_CLASSES];
        const afterKueue: pulumi.CustomResourceOptions = {
            parent: this,
            dependsOn: args.kueue ? [args.kueue] : [],
        };
        const create = (object: KueueObject, dependsOn: pulumi.Resource[] = []) =>
            new k8s.apiextensions.CustomResource(`${name}-${object.kind.toLowerCase()}-${objectKey(object)}`, object, {
                ...afterKueue,
                dependsOn: [...(args.kueue ? [args.kueue] : []), ...dependsOn],
            });

        this.flavors = resourceFlavors(args.pools).map((f) => create(f));
        this.priorityClasses = workloadPriorityClasses(classes).map((c) => create(c));
        const checkObject = budgetAdmissionCheck(check, args.controllerName ?? KUEUE_OBJECT_DEFAULTS.controllerName);
        this.admissionCheck = create(checkObject);
        const queues = args.teams.map((team) => clusterQueue(team, args.pools, check));
        this.clusterQueues = Object.fromEntries(
            queues.map((q) => [q.metadata.name, create(q, [...this.flavors, this.admissionCheck])]),
        );
        const locals = args.teams.map((team) => localQueue(team.name));
        this.localQueues = Object.fromEntries(
            locals.map((q) => [q.metadata.namespace!, create(q, [this.clusterQueues[q.metadata.namespace!]])]),
        );
        this.objects = [
            ...resourceFlavors(args.pools),
            ...workloadPriorityClasses(classes),
            checkObject,
            ...queues,
            ...locals,
        ];
        this.gpuPodPolicy = admissionPolicy(
            `${name}-gpu-pods`,
            kueueManagedGpuPods({
                kueueController: KUEUE_CONTROLLER.username,
                workloadControllers: [...KUBERNETES_JOB_CONTROLLERS, ...(args.operatorIdentities ?? [])],
            }),
            // Only once Kueue's webhooks can gate pods: before that the policy would refuse every GPU pod.
            afterKueue,
        );
        this.registerOutputs({ clusterQueues: Object.keys(this.clusterQueues) });
    }
}

const objectKey = (o: KueueObject) =>
    o.metadata.namespace ? `${o.metadata.namespace}-${o.metadata.name}` : o.metadata.name;

/** Every problem with the arguments, each naming its property. */
export function kueueQueuesArgsProblems(
    args: Pick<KueueQueuesArgs, "pools" | "teams" | "operatorIdentities">,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key, message });
    const poolNames = new Set<string>();
    args.pools.forEach((pool, i) => {
        if (pool.name === KUEUE_OBJECT_DEFAULTS.anyNodeFlavor)
            add(`pools[${i}].name`, `"${pool.name}" is the flavor of CPU and memory; name the pool otherwise`);
        if (poolNames.has(pool.name)) add(`pools[${i}].name`, `duplicates another pool "${pool.name}"`);
        poolNames.add(pool.name);
    });
    if (args.pools.length + 1 > KUEUE_LIMITS.flavors)
        add(
            "pools",
            `has ${args.pools.length} pools; a ClusterQueue takes at most ${KUEUE_LIMITS.flavors - 1} GPU flavors`,
        );
    const resources = poolGpuResources(args.pools);
    if (resources.length > KUEUE_LIMITS.coveredResources)
        add(
            "pools",
            `offer ${resources.length} GPU resources; a ClusterQueue covers at most ${KUEUE_LIMITS.coveredResources}`,
        );
    const teamNames = new Set<string>();
    args.teams.forEach((team, i) => {
        if (teamNames.has(team.name)) add(`teams[${i}].name`, `duplicates another team "${team.name}"`);
        teamNames.add(team.name);
        if (team.quota?.cpu !== undefined && cpuMillis(team.quota.cpu) === undefined)
            add(`teams[${i}].quota.cpu`, `must be a CPU quantity such as "64" or "500m" (found "${team.quota.cpu}")`);
        if (team.quota?.memory !== undefined && memoryMiB(team.quota.memory) === undefined)
            add(`teams[${i}].quota.memory`, `must be a memory quantity such as "512Gi" (found "${team.quota.memory}")`);
        problems.push(...queueLimitProblems(`teams[${i}].queue.`, team.queue));
    });
    (args.operatorIdentities ?? []).forEach((identity, i) => {
        if (!/^system:serviceaccount:[a-z0-9-]+:[a-z0-9.-]+$/.test(identity))
            add(
                `operatorIdentities[${i}]`,
                `must be a service account's user name, system:serviceaccount:<namespace>:<name> (found "${identity}")`,
            );
    });
    return problems;
}
