/**
 * A team's GPU workloads, at their most, fit the team's GPU quota. Multipliers count: a Job's
 * parallelism, a Deployment's replicas (or its HorizontalPodAutoscaler's or KEDA ScaledObject's
 * maximum), a ScaledJob's maxReplicaCount, Kubeflow and Ray replica specs, times GPUs per pod
 * (lib/workload-scale.ts). A workload with no bound the preview can see is refused in a team
 * namespace: its team's share cannot be known.
 *
 * The quota of a team namespace comes from `teamGpuQuotas` in the stack's policy config (the
 * GPU part of each team's quota in Pulumi.<stack>.yaml, which a team's own stack cannot see),
 * or from a ResourceQuota the stack itself creates in that namespace (the platform's stack).
 * Kubernetes would refuse pods past the quota at run time; the pack says so before anything is
 * created, and the stack-budget policy prices what the quota lets run.
 */
import { isGpuResource, parseQuantity, quantityValue } from "@gpu-platform/catalog";
import { StackResource, stackPolicy } from "./lib/define";
import { kubernetesObjects, holdsKubernetesObjects } from "./lib/pod-specs";
import { ScaledWorkload, gpusAtMost, scaledWorkloads } from "./lib/workload-scale";
import { describeNamespace, objectNamespace } from "./lib/object-namespace";
import { asRecord, listing } from "./lib/values";

interface TeamQuota {
    readonly source: string;
    readonly hard: ReadonlyMap<string, number>;
}

/** The GPU limits of each team namespace: the policy config's, else a ResourceQuota of the stack in it. */
function teamQuotas(
    resources: readonly StackResource[],
    configured: Record<string, Record<string, number>>,
): Map<string, TeamQuota> {
    const quotas = new Map<string, TeamQuota>();
    for (const r of resources.filter((x) => holdsKubernetesObjects(x.type))) {
        for (const { kind, object, label } of kubernetesObjects(r.type, r.name, r.props)) {
            if (kind !== "ResourceQuota") continue;
            // A quota whose namespace the pack cannot name bounds no namespace it can name; teamGpuQuotas still does.
            const where = objectNamespace(r.type, kind, object, r.providerProps);
            if (where.state !== "known") continue;
            const namespace = where.name;
            const hard = new Map(quotas.get(namespace)?.hard ?? []);
            for (const [key, value] of Object.entries(asRecord(asRecord(object.spec)?.hard) ?? {})) {
                const resource = key.replace(/^requests\./, "");
                const q = parseQuantity(value);
                if (isGpuResource(resource) && q)
                    hard.set(resource, Math.min(hard.get(resource) ?? Infinity, quantityValue(q)));
            }
            quotas.set(namespace, { source: `the stack's ${label}`, hard });
        }
    }
    for (const [team, limits] of Object.entries(configured))
        quotas.set(team, {
            source: "teamGpuQuotas in the stack's policy config",
            hard: new Map(Object.entries(limits)),
        });
    return quotas;
}

function describe(workload: ScaledWorkload, resource: string): string {
    const parts = workload.pods
        .filter((p) => (p.gpusPerPod.get(resource) ?? 0) > 0)
        .map((p) => `${p.pods} pod${p.pods === 1 ? "" : "s"} (${p.why}) × ${p.gpusPerPod.get(resource)}`);
    return `${workload.label} ${parts.join(" + ")}`;
}

/**
 * In a stack that holds team quotas, a GPU workload whose namespace neither it nor its provider
 * names may land in any team namespace (the kubeconfig decides): it is refused, never skipped.
 */
function reportUnresolved(workloads: readonly ScaledWorkload[], report: (message: string, urn?: string) => void): void {
    for (const w of workloads.filter((x) => x.namespace.state === "unresolved"))
        report(
            `${w.label} asks for GPUs in ${describeNamespace(w.namespace)}, so no team's GPU quota can be checked against it.`,
            w.urn,
        );
}

export const gpuWorkloadTeamQuota = stackPolicy({
    name: "gpu-workload-team-quota",
    description:
        "GPU workloads in a team namespace, at their most (replicas, autoscaler and KEDA maximums, Job parallelism, Kubeflow and Ray replica specs, times GPUs per pod), " +
        "fit the team's GPU quota (teamGpuQuotas, or a ResourceQuota the stack creates there); a workload with no bound the preview can see is refused there.",
    enforcementLevel: "mandatory",
    config: {
        teamGpuQuotas: {
            type: "object",
            additionalProperties: { type: "object", additionalProperties: { type: "integer", minimum: 0 } },
            description:
                'Team namespace → GPU resource → most units its pods may request at once, e.g. { "ml-research": { "nvidia.com/gpu": 8 } }; a resource a team does not list is 0. Default: none (only ResourceQuotas of the stack).',
            default: {},
        },
    },
    validate: (resources, { teamGpuQuotas }, report) => {
        const quotas = teamQuotas(resources, teamGpuQuotas);
        const all = scaledWorkloads(resources);
        if (quotas.size > 0) reportUnresolved(all, report);
        for (const [namespace, quota] of quotas) {
            const mine = all.filter((w) => w.namespace.state === "known" && w.namespace.name === namespace);
            const totals = new Map<string, { sum: number; parts: ScaledWorkload[] }>();
            for (const w of mine) {
                const held = gpusAtMost(w);
                if (!held) {
                    const why = w.pods.find((p) => p.unbounded)?.unbounded;
                    report(
                        `${w.label} in team namespace "${namespace}" asks for GPUs with no bound the preview can see (${why}), so its share of the team's GPU quota cannot be checked; give it a maximum.`,
                        w.urn,
                    );
                    continue;
                }
                for (const [resource, n] of held) {
                    const t = totals.get(resource) ?? { sum: 0, parts: [] };
                    totals.set(resource, { sum: t.sum + n, parts: [...t.parts, w] });
                }
            }
            for (const [resource, { sum, parts }] of totals) {
                const limit = quota.hard.get(resource) ?? 0;
                if (sum <= limit) continue;
                report(
                    `team namespace "${namespace}" asks for up to ${sum} ${resource} at once (${listing(parts.map((w) => describe(w, resource)))}), above its quota of ${limit} (${quota.source}); ` +
                        `lower the replicas, parallelism or autoscaling maximums, or raise the team's quota (teams[].quota in Pulumi.<stack>.yaml and teamGpuQuotas in the policy config).`,
                    parts[0].urn,
                );
            }
        }
    },
});
