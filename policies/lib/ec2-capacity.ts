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
import { gpusPerInstance, isAcceleratedInstanceType, isKnownInstanceType } from "../../catalog";
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

/** One instance type a resource may launch, and the setting that names it. */
export interface LaunchedType {
    readonly type: string;
    /** `instanceTypes`, `launchTemplate "gpu-lt".instanceType`, `mixedInstancesPolicy...overrides[1].instanceType` */
    readonly setting: string;
    /** Capacity units one instance counts for (weightedCapacity); 1 unless weighted. */
    readonly weight: number;
    /** Named by a launch template or launch configuration, which is checked (and reported) itself. */
    readonly viaTemplate: boolean;
}

export interface AttributeSelection {
    readonly setting: string;
    /** In a launch template, which is checked (and reported) itself. */
    readonly viaTemplate: boolean;
}

export interface Capacity<R extends LinkedResource = LinkedResource> {
    readonly resource: R;
    /** `node group "h100"`, `Auto Scaling group "batch"` */
    readonly label: string;
    readonly types: readonly LaunchedType[];
    /** Settings that choose types by attributes (instanceRequirements) without ruling out accelerators. */
    readonly attributeSelections: readonly AttributeSelection[];
    /** A node group whose AMI type carries NVIDIA drivers. */
    readonly gpuAmi: boolean;
    /** Capacity units (instances unless weighted) at the minimum and at most; undefined when unknown. */
    readonly minUnits?: number;
    readonly maxUnits?: number;
    /** The setting `maxUnits` comes from, for messages. */
    readonly maxSetting: string;
    readonly spot: boolean;
    /** The launch template the resource names (for its root volume), if found in the stack. */
    readonly template?: R;
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
                spot: p.capacityType === "SPOT",
                template,
            };
        }
        case INSTANCE:
        case SPOT_INSTANCE_REQUEST: {
            found.type(p.instanceType, "instanceType");
            const template = found.template("launchTemplate", asRecord(p.launchTemplate), !isSetType(p.instanceType));
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
                template,
            };
        }
        case AUTOSCALING_GROUP: {
            const mixed = asRecord(asRecord(p.mixedInstancesPolicy)?.launchTemplate);
            const overrides = asList(mixed?.overrides).map((o) => asRecord(o) ?? {});
            overrides.forEach((o, i) => {
                const at = `mixedInstancesPolicy.launchTemplate.overrides[${i}]`;
                found.type(o.instanceType, `${at}.instanceType`, o.weightedCapacity);
                found.requirements(o.instanceRequirements, `${at}.instanceRequirements`);
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
                spot,
            };
        }
    }
    return undefined;
}

/** Most instances of one type the capacity can run: its units over the type's weight, rounded up. */
export function maxInstances(
    capacity: Capacity,
    launched: LaunchedType,
    units = capacity.maxUnits,
): number | undefined {
    return units === undefined ? undefined : Math.ceil(units / launched.weight);
}

/** The instance types a launch template names, directly or by its own attribute-based selection. */
export function templateTypes(template: LinkedResource): {
    types: LaunchedType[];
    attributeSelections: AttributeSelection[];
} {
    const collector = new Collector(template, [], []);
    collector.type(template.props.instanceType, "instanceType");
    collector.requirements(template.props.instanceRequirements, "instanceRequirements");
    return collector.result();
}

function isSetType(value: unknown): boolean {
    return typeof value === "string" && value !== "";
}

/** Gathers what one resource launches as its settings are read. */
class Collector<R extends LinkedResource> {
    private readonly types: LaunchedType[] = [];
    private readonly attributeSelections: AttributeSelection[] = [];

    constructor(
        private readonly resource: R,
        private readonly templates: readonly R[],
        private readonly all: readonly R[],
    ) {}

    type(value: unknown, setting: string, weight?: unknown): void {
        if (!isSetType(value)) return;
        this.types.push({
            type: value as string,
            setting,
            weight: Math.max(1, asNumber(weight) ?? 1),
            viaTemplate: false,
        });
    }

    /** Attribute-based selection launches GPU types unless it caps accelerators at 0. */
    requirements(value: unknown, setting: string): void {
        const requirements = asRecord(value);
        if (!requirements) return;
        const max = asRecord(requirements.acceleratorCount)?.max;
        if (isUnknown(max) || asNumber(max) !== 0) this.attributeSelections.push({ setting, viaTemplate: false });
    }

    /** The launch template `spec` names; when `takeTypes`, its instance types count as the resource's. */
    template(property: string, spec: Props | undefined, takeTypes: boolean): R | undefined {
        if (!spec) return undefined;
        const names = [spec.id, spec.name, spec.launchTemplateId, spec.launchTemplateName];
        const template = referencedThrough(this.resource, property, names, this.templates, ["id", "name"])[0];
        if (template && takeTypes) {
            const own = templateTypes(template);
            const via = `launch template "${template.name}".`;
            this.types.push(...own.types.map((t) => ({ ...t, setting: via + t.setting, viaTemplate: true })));
            this.attributeSelections.push(
                ...own.attributeSelections.map((a) => ({ setting: via + a.setting, viaTemplate: true })),
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
        const type = configuration?.props.instanceType;
        if (isSetType(type))
            this.types.push({
                type: type as string,
                setting: `launch configuration "${configuration.name}".instanceType`,
                weight: 1,
                viaTemplate: true,
            });
    }

    result(): { types: LaunchedType[]; attributeSelections: AttributeSelection[] } {
        return { types: this.types, attributeSelections: this.attributeSelections };
    }
}

/** True when the type has GPUs: by the catalog when it knows the type, else by its family (any accelerated type). */
export function isGpuType(type: string): boolean {
    return isKnownInstanceType(type) ? gpusPerInstance(type) > 0 : isAcceleratedInstanceType(type);
}
