/**
 * What EC2 capacity a resource launches, wherever its instance types are written: EKS node
 * groups (`instanceTypes`, or the launch template they name), instances and spot instance
 * requests (`instanceType`, or their launch template), Auto Scaling groups (their launch
 * template or launch configuration, or a mixed instances policy's overrides), spot fleets and EC2
 * fleets (launch specifications, launch template configs and their overrides). GPU limits, the
 * instance-type allowlist and the stack's price all read it, so a GPU type counts wherever it
 * is written.
 *
 * Shapes as @pulumi/aws 7.x lays them out (the Terraform AWS provider's schemas).
 */
import {
    HOURS_PER_MONTH,
    InstanceTypeName,
    gpusPerInstance,
    isAcceleratedInstanceType,
    isKnownInstanceType,
} from "@gpu-platform/catalog";
import { InstanceChoice, choiceOf, requirementsChoice } from "./instance-choice";
import { LinkedResource, referencedThrough } from "./references";
import { Props, asList, asNumber, asRecord, asString, isUnknown } from "./values";

export const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
export const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
export const LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration";
const INSTANCE = "aws:ec2/instance:Instance";
const SPOT_INSTANCE_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest";
const AUTOSCALING_GROUP = "aws:autoscaling/group:Group";
const SPOT_FLEET_REQUEST = "aws:ec2/spotFleetRequest:SpotFleetRequest";
const EC2_FLEET = "aws:ec2/fleet:Fleet";

/** Resource types that launch instances, and what to call them in a message. */
export const LAUNCHERS: Readonly<Record<string, string>> = {
    [NODE_GROUP]: "node group",
    [INSTANCE]: "instance",
    [SPOT_INSTANCE_REQUEST]: "spot instance request",
    [AUTOSCALING_GROUP]: "Auto Scaling group",
    [SPOT_FLEET_REQUEST]: "spot fleet request",
    [EC2_FLEET]: "EC2 fleet",
};

/** EKS AMI types that carry NVIDIA drivers (AL2_x86_64_GPU, AL2023_x86_64_NVIDIA, BOTTLEROCKET_*_NVIDIA). */
const GPU_AMI = /NVIDIA|GPU/i;

/** One setting that chooses the instance types a resource may launch, and what it lets AWS launch. */
export interface LaunchedType {
    /** As written (lib/instance-choice.ts), for messages. */
    readonly type: string;
    /** The types it may launch: catalog types, and whether unknown (GPU) types too. */
    readonly choice: InstanceChoice;
    /** `instanceTypes`, `launchTemplate "gpu-lt".instanceType`, `mixedInstancesPolicy...overrides[1].instanceType` */
    readonly setting: string;
    /**
     * Capacity units one instance counts for (weightedCapacity); 1 unless weighted. A resource
     * sized in vCPUs (an AWS Batch compute environment) weighs each type by its vCPUs instead:
     * `weightOf` then gives the weight per catalog type.
     */
    readonly weight: number;
    readonly weightOf?: (type: string) => number;
    /** Most instances of a catalog type, when a resource bounds them otherwise than by units (Karpenter's limits). */
    readonly instancesOf?: (type: string) => number | undefined;
    /** Named by a launch template or launch configuration, which is checked (and reported) itself. */
    readonly viaTemplate: boolean;
    /** Chosen by attributes (instanceRequirements, Karpenter requirements) rather than named. */
    readonly byAttributes: boolean;
}

export interface Capacity<R extends LinkedResource = LinkedResource> {
    readonly resource: R;
    /** `node group "h100"`, `Auto Scaling group "batch"`, `SageMaker endpoint configuration "llm": production variant "main"` */
    readonly label: string;
    readonly types: readonly LaunchedType[];
    /** A node group whose AMI type carries NVIDIA drivers. */
    readonly gpuAmi: boolean;
    /** Capacity units (instances unless weighted) at the minimum and at most; undefined when unknown. */
    readonly minUnits?: number;
    readonly maxUnits?: number;
    /** The setting `maxUnits` comes from, for messages. */
    readonly maxSetting: string;
    /** Why the most it can launch has no bound (no limits, a count computed during the update); judged as unbounded. */
    readonly unbounded?: string;
    readonly spot: boolean;
    /** Hours a month it runs at most: 730 for standing capacity, less for a job with a maximum run time. */
    readonly hoursPerMonth: number;
    /** Why the catalog's rate is only a floor for it (a dedicated host), shown with its price. */
    readonly priceFloor?: string;
    /** The launch template the resource names (for its root volume), if found in the stack. */
    readonly template?: R;
}

/** Capacity that stands all month (a reservation, an endpoint, a notebook): the fields most of them share. */
export function standingCapacity<R extends LinkedResource>(
    resource: R,
    label: string,
    types: LaunchedType[],
    size: { units: number | undefined; setting: string; min?: number; unbounded?: string },
    extra: Partial<Capacity<R>> = {},
): Capacity<R> {
    return {
        resource,
        label,
        types,
        gpuAmi: false,
        minUnits: size.min ?? size.units,
        maxUnits: size.units,
        maxSetting: size.setting,
        unbounded: size.unbounded,
        spot: false,
        hoursPerMonth: HOURS_PER_MONTH,
        ...extra,
    };
}

/** The capacity a resource launches, or undefined for a resource that launches none. */
export function capacityOf<R extends LinkedResource>(resource: R, all: readonly R[]): Capacity<R> | undefined {
    const kind = LAUNCHERS[resource.type];
    if (!kind) return undefined;
    const templates = all.filter((r) => r.type === LAUNCH_TEMPLATE);
    const p = resource.props;
    const found = new Collector(resource, templates, all);
    const label = `${kind} "${resource.name}"`;
    switch (resource.type) {
        case NODE_GROUP: {
            if (isUnknown(p.instanceTypes)) found.type(p.instanceTypes, "instanceTypes");
            asList(p.instanceTypes).forEach((t, i) => found.type(t, `instanceTypes[${i}]`));
            const template = found.template(
                "launchTemplate",
                asRecord(p.launchTemplate),
                asList(p.instanceTypes).length === 0,
            );
            const scaling = asRecord(p.scalingConfig) ?? {};
            return {
                ...found.result(),
                resource,
                label,
                gpuAmi: GPU_AMI.test(asString(p.amiType) ?? ""),
                minUnits: asNumber(scaling.minSize) ?? 0,
                maxUnits: asNumber(scaling.maxSize),
                maxSetting: "scalingConfig.maxSize",
                unbounded: unboundedWhen(scaling.maxSize, "scalingConfig.maxSize"),
                spot: p.capacityType === "SPOT",
                hoursPerMonth: HOURS_PER_MONTH,
                template,
            };
        }
        case INSTANCE:
        case SPOT_INSTANCE_REQUEST: {
            found.type(p.instanceType, "instanceType");
            const template = found.template(
                "launchTemplate",
                asRecord(p.launchTemplate),
                !isSetOrUnknown(p.instanceType),
            );
            const spot =
                resource.type === SPOT_INSTANCE_REQUEST || asRecord(p.instanceMarketOptions)?.marketType === "spot";
            return {
                ...found.result(),
                resource,
                label,
                gpuAmi: false,
                minUnits: 1,
                maxUnits: 1,
                maxSetting: "",
                spot,
                hoursPerMonth: HOURS_PER_MONTH,
                template,
            };
        }
        case AUTOSCALING_GROUP: {
            const mixed = asRecord(asRecord(p.mixedInstancesPolicy)?.launchTemplate);
            const overrides = asList(mixed?.overrides).map((o) => asRecord(o) ?? {});
            overrides.forEach((o, i) => {
                const at = `mixedInstancesPolicy.launchTemplate.overrides[${i}]`;
                found.type(o.instanceType, `${at}.instanceType`, o.weightedCapacity);
                found.requirements(o.instanceRequirements, `${at}.instanceRequirements`, o.weightedCapacity);
                found.template("mixedInstancesPolicy", asRecord(o.launchTemplateSpecification), false);
            });
            const spec = mixed ? asRecord(mixed.launchTemplateSpecification) : asRecord(p.launchTemplate);
            const template = found.template(
                mixed ? "mixedInstancesPolicy" : "launchTemplate",
                spec,
                overrides.length === 0,
            );
            if (!mixed && !spec) found.launchConfiguration(p.launchConfiguration);
            return {
                ...found.result(),
                resource,
                label,
                gpuAmi: false,
                minUnits: asNumber(p.minSize) ?? 0,
                maxUnits: asNumber(p.maxSize),
                maxSetting: "maxSize",
                unbounded: unboundedWhen(p.maxSize, "maxSize"),
                hoursPerMonth: HOURS_PER_MONTH,
                spot:
                    (asNumber(
                        asRecord(asRecord(p.mixedInstancesPolicy)?.instancesDistribution)
                            ?.onDemandPercentageAboveBaseCapacity,
                    ) ?? 100) < 100,
                template,
            };
        }
        case SPOT_FLEET_REQUEST:
        case EC2_FLEET: {
            asList(p.launchSpecifications).forEach((s, i) => {
                const spec = asRecord(s) ?? {};
                found.type(spec.instanceType, `launchSpecifications[${i}].instanceType`, spec.weightedCapacity);
            });
            asList(p.launchTemplateConfigs ?? p.launchTemplateConfig).forEach((c, i) => {
                const config = asRecord(c) ?? {};
                const overrides = asList(config.overrides ?? config.override).map((o) => asRecord(o) ?? {});
                overrides.forEach((o, j) => {
                    found.type(
                        o.instanceType,
                        `launchTemplateConfigs[${i}].overrides[${j}].instanceType`,
                        o.weightedCapacity,
                    );
                    found.requirements(
                        o.instanceRequirements,
                        `launchTemplateConfigs[${i}].overrides[${j}].instanceRequirements`,
                        o.weightedCapacity,
                    );
                });
                found.template(
                    Object.hasOwn(p, "launchTemplateConfigs") ? "launchTemplateConfigs" : "launchTemplateConfig",
                    asRecord(config.launchTemplateSpecification),
                    overrides.length === 0,
                );
            });
            const target =
                resource.type === EC2_FLEET
                    ? asRecord(p.targetCapacitySpecification)?.totalTargetCapacity
                    : p.targetCapacity;
            const spot =
                resource.type === SPOT_FLEET_REQUEST ||
                asRecord(p.targetCapacitySpecification)?.defaultTargetCapacityType === "spot";
            const setting =
                resource.type === EC2_FLEET ? "targetCapacitySpecification.totalTargetCapacity" : "targetCapacity";
            return {
                ...found.result(),
                resource,
                label,
                gpuAmi: false,
                minUnits: asNumber(target),
                maxUnits: asNumber(target),
                maxSetting: setting,
                unbounded: unboundedWhen(target, setting),
                spot,
                hoursPerMonth: HOURS_PER_MONTH,
            };
        }
    }
    return undefined;
}

/** Most instances of one catalog type the capacity can run: its units over the type's weight, rounded up. */
export function maxInstances(
    capacity: Capacity,
    launched: LaunchedType,
    type: string,
    units = capacity.maxUnits,
): number | undefined {
    if (launched.instancesOf) return units === capacity.maxUnits ? launched.instancesOf(type) : 0;
    const weight = launched.weightOf?.(type) ?? launched.weight;
    return units === undefined ? undefined : Math.ceil(units / weight);
}

export interface MostGpus {
    gpus: number;
    instances: number;
    perInstance: number;
    instanceType: string;
    launched: LaunchedType;
}

/** The most GPUs a capacity can run: its maximum units, on the catalog type it may launch with the most GPUs in all. */
export function mostGpus(capacity: Capacity): MostGpus | undefined {
    let best: MostGpus | undefined;
    for (const { launched, type } of catalogOptions(capacity)) {
        const instances = maxInstances(capacity, launched, type);
        const perInstance = gpusPerInstance(type);
        if (instances === undefined || perInstance === 0) continue;
        const gpus = instances * perInstance;
        if (!best || gpus > best.gpus) best = { gpus, instances, perInstance, instanceType: type, launched };
    }
    return best;
}

/** Every catalog type the capacity may launch, with the setting that allows it. */
export function catalogOptions(capacity: Capacity): { launched: LaunchedType; type: InstanceTypeName }[] {
    return capacity.types.flatMap((launched) => launched.choice.catalog.map((type) => ({ launched, type })));
}

/** The settings that may launch GPU types the catalog does not know (or any type on a GPU AMI): their GPUs and price are unknown. */
export function unknownGpuSettings(capacity: Capacity): LaunchedType[] {
    return capacity.types.filter((t) => t.choice.open && (t.choice.unknownMayBeGpu || capacity.gpuAmi));
}

/** The instance types a launch template names, directly or by its own attribute-based selection. */
export function templateTypes(template: LinkedResource): { types: LaunchedType[] } {
    const collector = new Collector(template, [], []);
    collector.type(template.props.instanceType, "instanceType");
    collector.requirements(template.props.instanceRequirements, "instanceRequirements");
    return collector.result();
}

/** Set to a type, or unknown until the update (which will be one). */
function isSetOrUnknown(value: unknown): boolean {
    return isUnknown(value) || (typeof value === "string" && value !== "");
}

/** Why a size setting leaves the capacity unbounded: only when the preview cannot know it. */
export function unboundedWhen(value: unknown, setting: string): string | undefined {
    return isUnknown(value) ? `${setting} is computed during the update` : undefined;
}

/** Gathers what one resource launches as its settings are read. */
export class Collector<R extends LinkedResource> {
    private readonly types: LaunchedType[] = [];

    constructor(
        private readonly resource: R,
        private readonly templates: readonly R[],
        private readonly all: readonly R[],
    ) {}

    /** A written type (or family, bundle, wildcard, unknown value); nothing when unset. */
    type(value: unknown, setting: string, weight?: unknown, weightOf?: (type: string) => number): void {
        const choice = choiceOf(value);
        if (!choice) return;
        this.types.push({
            type: choice.written,
            choice,
            setting,
            weight: Math.max(1, asNumber(weight) ?? 1),
            weightOf,
            viaTemplate: false,
            byAttributes: false,
        });
    }

    /** Attribute-based selection: the worst its constraints allow (lib/instance-choice.ts). */
    requirements(value: unknown, setting: string, weight?: unknown): void {
        const choice = requirementsChoice(value, `types chosen by ${setting}`);
        if (!choice) return;
        this.types.push({
            type: choice.written,
            choice,
            setting,
            weight: Math.max(1, asNumber(weight) ?? 1),
            viaTemplate: false,
            byAttributes: true,
        });
    }

    /** A choice made elsewhere (Karpenter requirements, a CloudFormation parameter's allowed values). */
    chosen(choice: InstanceChoice, setting: string, byAttributes: boolean, weight = 1): void {
        this.types.push({ type: choice.written, choice, setting, weight, viaTemplate: false, byAttributes });
    }

    /** The launch template `spec` names; when `takeTypes`, its instance types count as the resource's. */
    template(property: string, spec: Props | undefined, takeTypes: boolean): R | undefined {
        if (!spec) return undefined;
        const names = [spec.id, spec.name, spec.launchTemplateId, spec.launchTemplateName];
        const template = referencedThrough(this.resource, property, names, this.templates, ["id", "name"])[0];
        if (template && takeTypes) {
            const via = `launch template "${template.name}".`;
            this.types.push(
                ...templateTypes(template).types.map((t) => ({ ...t, setting: via + t.setting, viaTemplate: true })),
            );
        }
        return template;
    }

    launchConfiguration(value: unknown): void {
        const configurations = this.all.filter((r) => r.type === LAUNCH_CONFIGURATION);
        const configuration = referencedThrough(this.resource, "launchConfiguration", [value], configurations, [
            "id",
            "name",
            "arn",
        ])[0];
        const choice = configuration && choiceOf(configuration.props.instanceType);
        if (choice)
            this.types.push({
                type: choice.written,
                choice,
                setting: `launch configuration "${configuration.name}".instanceType`,
                weight: 1,
                viaTemplate: true,
                byAttributes: false,
            });
    }

    result(): { types: LaunchedType[] } {
        return { types: this.types };
    }
}

/** True when the type has GPUs: by the catalog when it knows the type, else by its family (any accelerated type). */
export function isGpuType(type: string): boolean {
    return isKnownInstanceType(type) ? gpusPerInstance(type) > 0 : isAcceleratedInstanceType(type);
}
