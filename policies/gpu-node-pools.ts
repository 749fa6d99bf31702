/**
 * GPU capacity: the taint that keeps non-GPU pods off GPU node groups, which GPU instance types
 * a stack may launch, and how many GPUs a group and the whole stack can scale to. GPU counts come
 * from the catalog (catalog/instances.ts), never from the policy config.
 *
 * Every way of launching instances counts (lib/ec2-capacity.ts): EKS node groups, instances,
 * spot requests, Auto Scaling groups and fleets, with their types written directly, in a launch
 * template or launch configuration, or in mixed-instance overrides. Checked at the stack level,
 * since a type may sit in a launch template that a group names.
 */
import { GPU_TAINT, INSTANCE_TYPES, gpusPerInstance } from "@gpu-platform/catalog";
import { allCapacities } from "./lib/capacity";
import { StackResource, stackPolicy } from "./lib/define";
import {
    Capacity,
    LAUNCH_CONFIGURATION,
    LAUNCHERS,
    LAUNCH_TEMPLATE,
    LaunchedType,
    NODE_GROUP,
    MostGpus,
    mostGpus,
    templateTypes,
} from "./lib/ec2-capacity";
import { catalogGpuTypes, mayLaunchGpus } from "./lib/instance-choice";
import { asList, asRecord, asString, isUnknown, listing } from "./lib/values";

/** EKS spells taint effects in upper snake case (`NO_SCHEDULE`). */
const EKS_GPU_TAINT_EFFECT = GPU_TAINT.effect.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();

/** Every GPU instance type the catalog knows: the allowlist when a stack's config names none. */
const CATALOG_GPU_TYPES = Object.keys(INSTANCE_TYPES).filter((type) => gpusPerInstance(type) > 0);

const capacities = (resources: readonly StackResource[]): Capacity<StackResource>[] => allCapacities(resources);

/** Launches GPUs: a type with GPUs (catalog, or an accelerated family), or a node group on a GPU AMI. */
function launchesGpus(capacity: Capacity): boolean {
    return capacity.types.some((t) => mayLaunchGpus(t.choice)) || (capacity.gpuAmi && capacity.types.length > 0);
}

/** A capacity that may launch GPUs with nothing bounding how many. */
function unboundedGpus(capacity: Capacity): string | undefined {
    return launchesGpus(capacity) ? capacity.unbounded : undefined;
}

export const gpuNodeGroupTaint = stackPolicy({
    name: "gpu-node-group-taint",
    description:
        `Every EKS node group that launches GPU instances (by instanceTypes, its launch template's instanceType, or a GPU AMI type) carries the taint ` +
        `${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}, so only pods that tolerate it (GPU workloads) land on GPU nodes and system pods never keep an expensive node alive.`,
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources, _config, report) => {
        for (const capacity of capacities(resources).filter((c) => c.resource.type === NODE_GROUP && launchesGpus(c))) {
            const { name, props, urn } = capacity.resource;
            if (isUnknown(props.taints)) continue;
            const taints = asList(props.taints).map((t) => asRecord(t) ?? {});
            const wanted = `{ key: "${GPU_TAINT.key}", value: "${GPU_TAINT.value}", effect: "${EKS_GPU_TAINT_EFFECT}" }`;
            const gpuTaint = taints.find((t) => t.key === GPU_TAINT.key);
            const launches = `node group "${name}" launches GPU instances (${capacity.types.map((t) => t.type).join(", ") || asString(props.amiType)})`;
            if (!gpuTaint) {
                report(
                    `${launches} but its taints do not include ${GPU_TAINT.key}; add ${wanted} to taints so only GPU workloads are scheduled there.`,
                    urn,
                );
            } else if (
                !isUnknown(gpuTaint.value) &&
                !isUnknown(gpuTaint.effect) &&
                (gpuTaint.value !== GPU_TAINT.value || gpuTaint.effect !== EKS_GPU_TAINT_EFFECT)
            ) {
                report(
                    `${launches} with taint ${GPU_TAINT.key}=${String(gpuTaint.value)}:${String(gpuTaint.effect)}; set it to ${wanted}, the taint the platform's GPU workloads tolerate.`,
                    urn,
                );
            }
        }
    },
});

export const gpuInstanceTypeAllowed = stackPolicy({
    name: "gpu-instance-type-allowed",
    description:
        "Whatever launches instances (EKS node groups, instances, spot requests, Auto Scaling groups and their mixed-instance overrides, fleets, " +
        "launch templates and configurations) uses only the GPU instance types this environment allows (allowedGpuInstanceTypes), and only types the " +
        "catalog knows, so their GPUs are counted and priced. A type of an accelerated family (P, G, Trn, Inf, DL, F, VT) that the catalog does not know is " +
        "refused, as is a node group on a GPU AMI with an unknown type, and selection by attributes (instanceRequirements) that does not cap accelerators at 0.",
    enforcementLevel: "mandatory",
    config: {
        allowedGpuInstanceTypes: {
            type: "array",
            items: { type: "string" },
            description: "GPU instance types this stack may launch. Default: every GPU type in catalog/instances.ts.",
            default: CATALOG_GPU_TYPES,
        },
    },
    validate: (resources, { allowedGpuInstanceTypes }, report) => {
        const allowed = `allowed here: ${allowedGpuInstanceTypes.join(", ") || "none"}`;
        const templates = resources.filter((r) => r.type === LAUNCH_TEMPLATE || r.type === LAUNCH_CONFIGURATION);
        const named = [
            ...capacities(resources).map((c) => ({
                label: c.label,
                urn: c.resource.urn,
                types: c.types.filter((t) => !t.viaTemplate),
                gpuAmi: c.gpuAmi,
            })),
            ...templates.map((t) => ({
                label: `${t.type === LAUNCH_TEMPLATE ? "launch template" : "launch configuration"} "${t.name}"`,
                urn: t.urn,
                ...templateTypes(t),
                gpuAmi: false,
            })),
        ];
        for (const { label, urn, types, gpuAmi } of named) {
            for (const launched of types) {
                const refusal = refusalOf(launched, gpuAmi, allowedGpuInstanceTypes);
                if (refusal) report(`${label} ${refusal(allowed)}`, urn);
            }
        }
    },
});

/** Why a setting may launch a GPU type outside the allowlist, as the rest of a sentence; undefined when it may not. */
function refusalOf(
    launched: LaunchedType,
    gpuAmi: boolean,
    allowedTypes: readonly string[],
): ((allowed: string) => string) | undefined {
    const { choice, setting } = launched;
    const refused = catalogGpuTypes(choice).filter((t) => !allowedTypes.includes(t));
    const unknownGpus = choice.open && (choice.unknownMayBeGpu || gpuAmi);
    if (refused.length === 0 && !unknownGpus) return undefined;
    const allowIt = "or allow it in allowedGpuInstanceTypes in the stack's policy config.";
    const closedCatalogType = !choice.open && choice.catalog.length === 1;
    const plainUnknownType =
        choice.open && choice.catalog.length === 0 && /^[\w-]+\.[\w-]+$/.test(choice.written.replace(/^ml\./i, ""));
    if (closedCatalogType)
        return (allowed) =>
            `sets ${setting} to ${choice.written}, which is not an allowed GPU instance type in this stack (${allowed}); change ${setting} to an allowed type, ${allowIt}`;
    if (plainUnknownType)
        return (allowed) =>
            `sets ${setting} to ${choice.written}, which is not in the catalog (catalog/instances.ts), so its GPUs cannot be counted or priced (${allowed}); change ${setting} to an allowed type, ${allowIt}`;
    const what = listing([
        ...refused,
        ...(unknownGpus ? ["GPU types the catalog (catalog/instances.ts) does not know"] : []),
    ]);
    if (launched.byAttributes) {
        const ruleOut = setting.endsWith("instanceRequirements")
            ? `set ${setting}.acceleratorCount.max to 0, or list only allowed types in ${setting}.allowedInstanceTypes`
            : `add the requirement { key: "karpenter.k8s.aws/instance-gpu-count", operator: "DoesNotExist" } to ${setting}, or { key: "node.kubernetes.io/instance-type", operator: "In", values: [allowed types] }`;
        return (allowed) =>
            `chooses instance types by attributes (${setting}) in a way that may launch ${what}, outside the allowlist (${allowed}); ${ruleOut}.`;
    }
    return (allowed) =>
        `sets ${setting} to ${choice.written}, which may launch ${what}, outside the allowlist (${allowed}); name one allowed instance type in ${setting} instead.`;
}

export const gpuPoolGpuLimit = stackPolicy({
    name: "gpu-pool-gpu-limit",
    description:
        "A GPU node group (or Auto Scaling group, fleet, instance) can scale to at most maxGpusPerPool GPUs: its maximum size × the GPUs per instance " +
        "of its largest type, from the catalog (weighted capacity counted in instances).",
    enforcementLevel: "mandatory",
    config: {
        maxGpusPerPool: {
            type: "integer",
            minimum: 0,
            description: "Most GPUs one node group may scale to.",
            default: 32,
        },
    },
    validate: (resources, { maxGpusPerPool }, report) => {
        for (const capacity of capacities(resources)) {
            const unbounded = unboundedGpus(capacity);
            if (unbounded) {
                report(
                    `${capacity.label} may launch GPU instances (${capacity.types.map((t) => t.type).join(", ")}) without a bound: ${unbounded}; ` +
                        `set a maximum that holds at most ${maxGpusPerPool} GPUs (the limit per pool).`,
                    capacity.resource.urn,
                );
                continue;
            }
            const max = mostGpus(capacity);
            if (!max || max.gpus <= maxGpusPerPool) continue;
            const weight = max.launched.weightOf?.(max.instanceType) ?? max.launched.weight;
            const fits = Math.floor(maxGpusPerPool / max.perInstance) * weight;
            const size = capacity.maxSetting
                ? `${capacity.maxSetting} ${capacity.maxUnits ?? max.instances}${weight > 1 ? ` ÷ ${max.launched.weightOf ? "vCPUs" : "weight"} ${weight}` : ""} × `
                : "";
            const lower = max.launched.instancesOf
                ? `lower ${capacity.maxSetting} so that at most ${Math.floor(maxGpusPerPool / max.perInstance)} ${max.instanceType} fit`
                : capacity.maxSetting
                  ? `lower ${capacity.maxSetting} to ${fits}`
                  : `use a type with at most ${maxGpusPerPool} GPUs`;
            report(
                `${capacity.label} can scale to ${max.gpus} GPUs (${size}${max.perInstance} GPUs per ${max.instanceType}), ` +
                    `above the limit of ${maxGpusPerPool} GPUs per pool; ${lower} or raise maxGpusPerPool in the stack's policy config.`,
                capacity.resource.urn,
            );
        }
    },
});

export const gpuStackGpuLimit = stackPolicy({
    name: "gpu-stack-gpu-limit",
    description:
        "Everything in the stack that launches GPU instances (node groups, Auto Scaling groups, fleets, instances, spot requests) can scale to at most " +
        "maxGpusPerStack GPUs together (each maximum size × GPUs per instance from the catalog).",
    enforcementLevel: "mandatory",
    config: {
        maxGpusPerStack: {
            type: "integer",
            minimum: 0,
            description: "Most GPUs all node groups of the stack may scale to together.",
            default: 64,
        },
    },
    validate: (resources, { maxGpusPerStack }, report) => {
        const all = capacities(resources);
        const unbounded = all.filter((c) => unboundedGpus(c) !== undefined).map((c) => c.label);
        if (unbounded.length > 0) {
            report(
                `the stack's GPU capacity has no bound (${listing(unbounded)} may launch GPUs without a maximum), so it cannot be held to the limit of ${maxGpusPerStack} GPUs; give each a maximum size.`,
            );
            return;
        }
        const pools = all
            .map((c) => ({ name: LAUNCHERS[c.resource.type] ? c.resource.name : c.label, max: mostGpus(c) }))
            .filter((p): p is { name: string; max: MostGpus } => p.max !== undefined);
        const total = pools.reduce((sum, p) => sum + p.max.gpus, 0);
        if (total <= maxGpusPerStack) return;
        report(
            `the stack's GPU node groups and instances can scale to ${total} GPUs together (${listing(pools.map((p) => `${p.name} ${p.max.gpus}`))}), ` +
                `above the limit of ${maxGpusPerStack}; lower their scalingConfig.maxSize or raise maxGpusPerStack in the stack's policy config.`,
        );
    },
});
