/**
 * GPU node pools: the taint that keeps non-GPU pods off them, which GPU instance types a stack
 * may launch, and how many GPUs a pool and the whole stack can scale to. GPU counts come from
 * the catalog (catalog/instances.ts), never from the policy config.
 */
import { GPU_TAINT, INSTANCE_TYPES, gpusPerInstance, isKnownInstanceType } from "../catalog";
import { CheckedResource, resourcePolicy, stackPolicy } from "./lib/define";
import { Props, asList, asNumber, asRecord, asString, isUnknown, listing } from "./lib/values";

const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";

/** EKS spells taint effects in upper snake case (`NO_SCHEDULE`). */
const EKS_GPU_TAINT_EFFECT = GPU_TAINT.effect.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();

/** EKS AMI types that carry NVIDIA drivers (AL2_x86_64_GPU, AL2023_x86_64_NVIDIA, BOTTLEROCKET_*_NVIDIA). */
const GPU_AMI = /NVIDIA|GPU/;

/** Every GPU instance type the catalog knows: the allowlist when a stack's config names none. */
const CATALOG_GPU_TYPES = Object.keys(INSTANCE_TYPES).filter((type) => gpusPerInstance(type) > 0);

function instanceTypesOf(props: Props): string[] {
    return asList(props.instanceTypes).map(asString).filter((t): t is string => t !== undefined);
}

/** A node group launches GPUs when one of its types has GPUs in the catalog, or its AMI is a GPU AMI. */
function isGpuNodeGroup(props: Props): boolean {
    return instanceTypesOf(props).some((t) => isKnownInstanceType(t) && gpusPerInstance(t) > 0) || GPU_AMI.test(asString(props.amiType) ?? "");
}

/** The most GPUs a node group can run: its maximum size times the GPUs of its largest instance type. */
function nodeGroupMaxGpus(props: Props): { gpus: number; maxSize: number; perInstance: number; instanceType: string } | undefined {
    const maxSize = asNumber(asRecord(props.scalingConfig)?.maxSize);
    const known = instanceTypesOf(props).filter(isKnownInstanceType);
    if (maxSize === undefined || known.length === 0) return undefined;
    const instanceType = known.reduce((a, b) => (gpusPerInstance(b) > gpusPerInstance(a) ? b : a));
    const perInstance = gpusPerInstance(instanceType);
    return perInstance === 0 ? undefined : { gpus: maxSize * perInstance, maxSize, perInstance, instanceType };
}

export const gpuNodeGroupTaint = resourcePolicy({
    name: "gpu-node-group-taint",
    description:
        `Every EKS node group that launches GPU instances carries the taint ${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}, ` +
        "so only pods that tolerate it (GPU workloads) land on GPU nodes and system pods never keep an expensive node alive.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [NODE_GROUP],
    validate: ({ name, props }, _config, report) => {
        if (!isGpuNodeGroup(props) || isUnknown(props.taints)) return;
        const taints = asList(props.taints).map((t) => asRecord(t) ?? {});
        const wanted = `{ key: "${GPU_TAINT.key}", value: "${GPU_TAINT.value}", effect: "${EKS_GPU_TAINT_EFFECT}" }`;
        const gpuTaint = taints.find((t) => t.key === GPU_TAINT.key);
        const launches = `node group "${name}" launches GPU instances (${instanceTypesOf(props).join(", ") || asString(props.amiType)})`;
        if (!gpuTaint) {
            report(`${launches} but its taints do not include ${GPU_TAINT.key}; add ${wanted} to taints so only GPU workloads are scheduled there.`);
        } else if (!isUnknown(gpuTaint.value) && !isUnknown(gpuTaint.effect) && (gpuTaint.value !== GPU_TAINT.value || gpuTaint.effect !== EKS_GPU_TAINT_EFFECT)) {
            report(
                `${launches} with taint ${GPU_TAINT.key}=${String(gpuTaint.value)}:${String(gpuTaint.effect)}; set it to ${wanted}, ` +
                    "the taint the platform's GPU workloads tolerate.",
            );
        }
    },
});

export const gpuInstanceTypeAllowed = resourcePolicy({
    name: "gpu-instance-type-allowed",
    description:
        "GPU node groups and launch templates use only the GPU instance types this environment allows (allowedGpuInstanceTypes), " +
        "and only types the catalog knows, so their GPUs are counted and priced.",
    enforcementLevel: "mandatory",
    config: {
        allowedGpuInstanceTypes: {
            type: "array",
            items: { type: "string" },
            description: "GPU instance types this stack may launch. Default: every GPU type in catalog/instances.ts.",
            default: CATALOG_GPU_TYPES,
        },
    },
    resourceTypes: [NODE_GROUP, LAUNCH_TEMPLATE],
    validate: (resource, { allowedGpuInstanceTypes }, report) => {
        const { setting, types, gpuByAmi } = launchedTypes(resource);
        const allowed = `allowed here: ${allowedGpuInstanceTypes.join(", ") || "none"}`;
        for (const type of types) {
            const known = isKnownInstanceType(type);
            // A catalog type is checked if it has GPUs; an unknown one if the AMI says it has.
            const isGpu = known ? gpusPerInstance(type) > 0 : gpuByAmi;
            if (!isGpu || allowedGpuInstanceTypes.includes(type)) continue;
            const why = known ? "is not an allowed GPU instance type in this stack" : "is not in the catalog (catalog/instances.ts), so its GPUs cannot be counted or priced";
            report(`${describe(resource)} sets ${setting} to ${type}, which ${why} (${allowed}); change ${setting} to an allowed type, or allow it in allowedGpuInstanceTypes in the stack's policy config.`);
        }
    },
});

export const gpuPoolGpuLimit = resourcePolicy({
    name: "gpu-pool-gpu-limit",
    description: "A GPU node group can scale to at most maxGpusPerPool GPUs: scalingConfig.maxSize × the GPUs per instance from the catalog.",
    enforcementLevel: "mandatory",
    config: {
        maxGpusPerPool: { type: "integer", minimum: 0, description: "Most GPUs one node group may scale to.", default: 32 },
    },
    resourceTypes: [NODE_GROUP],
    validate: ({ name, props }, { maxGpusPerPool }, report) => {
        const max = nodeGroupMaxGpus(props);
        if (!max || max.gpus <= maxGpusPerPool) return;
        const fits = Math.floor(maxGpusPerPool / max.perInstance);
        report(
            `node group "${name}" can scale to ${max.gpus} GPUs (scalingConfig.maxSize ${max.maxSize} × ${max.perInstance} GPUs per ${max.instanceType}), ` +
                `above the limit of ${maxGpusPerPool} GPUs per pool; lower scalingConfig.maxSize to ${fits} or raise maxGpusPerPool in the stack's policy config.`,
        );
    },
});

export const gpuStackGpuLimit = stackPolicy({
    name: "gpu-stack-gpu-limit",
    description: "All GPU node groups of the stack together can scale to at most maxGpusPerStack GPUs (each scalingConfig.maxSize × GPUs per instance from the catalog).",
    enforcementLevel: "mandatory",
    config: {
        maxGpusPerStack: { type: "integer", minimum: 0, description: "Most GPUs all node groups of the stack may scale to together.", default: 64 },
    },
    validate: (resources, { maxGpusPerStack }, report) => {
        const pools = resources
            .filter((r) => r.type === NODE_GROUP)
            .map((r) => ({ name: r.name, max: nodeGroupMaxGpus(r.props) }))
            .filter((p): p is { name: string; max: NonNullable<ReturnType<typeof nodeGroupMaxGpus>> } => p.max !== undefined);
        const total = pools.reduce((sum, p) => sum + p.max.gpus, 0);
        if (total <= maxGpusPerStack) return;
        report(
            `the stack's GPU node groups can scale to ${total} GPUs together (${listing(pools.map((p) => `${p.name} ${p.max.gpus}`))}), ` +
                `above the limit of ${maxGpusPerStack}; lower their scalingConfig.maxSize or raise maxGpusPerStack in the stack's policy config.`,
        );
    },
});

/** The instance types a resource launches, the setting that names them, and whether its AMI says GPU. */
function launchedTypes({ type, props }: CheckedResource): { setting: string; types: string[]; gpuByAmi: boolean } {
    if (type === LAUNCH_TEMPLATE) {
        const instanceType = asString(props.instanceType);
        return { setting: "instanceType", types: instanceType ? [instanceType] : [], gpuByAmi: false };
    }
    return { setting: "instanceTypes", types: instanceTypesOf(props), gpuByAmi: GPU_AMI.test(asString(props.amiType) ?? "") };
}

function describe({ type, name }: CheckedResource): string {
    return type === LAUNCH_TEMPLATE ? `launch template "${name}"` : `node group "${name}"`;
}
