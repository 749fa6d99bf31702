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
import { GPU_TAINT, INSTANCE_TYPES, gpusPerInstance, isKnownInstanceType } from "../catalog";
import { StackResource, stackPolicy } from "./lib/define";
import {
    Capacity,
    LAUNCH_CONFIGURATION,
    LAUNCH_TEMPLATE,
    NODE_GROUP,
    capacityOf,
    isGpuType,
    maxInstances,
    templateTypes,
} from "./lib/ec2-capacity";
import { asList, asRecord, asString, isUnknown, listing } from "./lib/values";

/** EKS spells taint effects in upper snake case (`NO_SCHEDULE`). */
const EKS_GPU_TAINT_EFFECT = GPU_TAINT.effect.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();

/** Every GPU instance type the catalog knows: the allowlist when a stack's config names none. */
const CATALOG_GPU_TYPES = Object.keys(INSTANCE_TYPES).filter((type) => gpusPerInstance(type) > 0);

function capacities(resources: readonly StackResource[]): Capacity<StackResource>[] {
    return resources.map((r) => capacityOf(r, resources)).filter((c): c is Capacity<StackResource> => c !== undefined);
}

/** Launches GPUs: a type with GPUs (catalog, or an accelerated family), or a node group on a GPU AMI. */
function launchesGpus(capacity: Capacity): boolean {
    return capacity.types.some((t) => isGpuType(t.type)) || capacity.gpuAmi;
}

/** The most GPUs a capacity can run: its maximum units, on its type with the most GPUs per unit. */
function maxGpus(
    capacity: Capacity,
): { gpus: number; units: number; perInstance: number; instanceType: string; weight: number } | undefined {
    let best: ReturnType<typeof maxGpus>;
    for (const launched of capacity.types.filter((t) => isKnownInstanceType(t.type))) {
        const instances = maxInstances(capacity, launched);
        const perInstance = gpusPerInstance(launched.type);
        if (instances === undefined || perInstance === 0) continue;
        const gpus = instances * perInstance;
        if (!best || gpus > best.gpus)
            best = {
                gpus,
                units: capacity.maxUnits!,
                perInstance,
                instanceType: launched.type,
                weight: launched.weight,
            };
    }
    return best;
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
                attributeSelections: c.attributeSelections.filter((a) => !a.viaTemplate),
                gpuAmi: c.gpuAmi,
            })),
            ...templates.map((t) => ({
                label: `${t.type === LAUNCH_TEMPLATE ? "launch template" : "launch configuration"} "${t.name}"`,
                urn: t.urn,
                ...templateTypes(t),
                gpuAmi: false,
            })),
        ];
        for (const { label, urn, types, attributeSelections, gpuAmi } of named) {
            for (const { type, setting } of types) {
                const known = isKnownInstanceType(type);
                // A catalog type is checked if it has GPUs; an unknown one if its family is accelerated or the AMI says it has GPUs.
                if (!(isGpuType(type) || (!known && gpuAmi)) || allowedGpuInstanceTypes.includes(type)) continue;
                const why = known
                    ? "is not an allowed GPU instance type in this stack"
                    : "is not in the catalog (catalog/instances.ts), so its GPUs cannot be counted or priced";
                report(
                    `${label} sets ${setting} to ${type}, which ${why} (${allowed}); change ${setting} to an allowed type, or allow it in allowedGpuInstanceTypes in the stack's policy config.`,
                    urn,
                );
            }
            for (const { setting } of attributeSelections) {
                report(
                    `${label} chooses instance types by attributes (${setting}) without capping accelerators, so it may launch GPU types outside the allowlist (${allowed}); ` +
                        `set ${setting}.acceleratorCount.max to 0, or name allowed instance types instead.`,
                    urn,
                );
            }
        }
    },
});

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
            const max = maxGpus(capacity);
            if (!max || max.gpus <= maxGpusPerPool) continue;
            const fits = Math.floor(maxGpusPerPool / max.perInstance) * max.weight;
            const size = capacity.maxSetting
                ? `${capacity.maxSetting} ${max.units}${max.weight > 1 ? ` ÷ weight ${max.weight}` : ""} × `
                : "";
            const lower = capacity.maxSetting
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
        const pools = capacities(resources)
            .map((c) => ({ name: c.resource.name, max: maxGpus(c) }))
            .filter((p): p is { name: string; max: NonNullable<ReturnType<typeof maxGpus>> } => p.max !== undefined);
        const total = pools.reduce((sum, p) => sum + p.max.gpus, 0);
        if (total <= maxGpusPerStack) return;
        report(
            `the stack's GPU node groups and instances can scale to ${total} GPUs together (${listing(pools.map((p) => `${p.name} ${p.max.gpus}`))}), ` +
                `above the limit of ${maxGpusPerStack}; lower their scalingConfig.maxSize or raise maxGpusPerStack in the stack's policy config.`,
        );
    },
});
