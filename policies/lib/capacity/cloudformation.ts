/**
 * CloudFormation stacks and stack sets whose template launches capacity. The template
 * (`templateBody`, JSON or YAML) is read (lib/cfn-template.ts) and each resource that launches
 * instances is judged as the same resource made directly: an AWS::EC2::Instance as an
 * `aws.ec2.Instance`, an AWS::AutoScaling::AutoScalingGroup with its launch template, and so on
 * (the mapping below). A template the preview cannot read (`templateUrl`, a computed body, a
 * nested stack's TemplateURL, a macro that rewrites it) is judged as the worst case: any type,
 * without bound. A stack set launches its template once per stack instance (account × region)
 * of this stack; instances by organizational unit have no count the preview knows.
 */
import { Capacity, Collector, LAUNCH_CONFIGURATION, LAUNCH_TEMPLATE, standingCapacity } from "../ec2-capacity";
import { computedChoice } from "../instance-choice";
import { ParsedTemplate, parseTemplate, templateResources } from "../cfn-template";
import { LinkedResource, referencedThrough } from "../references";
import { AnyOf, Props, asList, asRecord, isUnknown } from "../values";

export const CFN_STACK = "aws:cloudformation/stack:Stack";
export const CFN_STACK_SET = "aws:cloudformation/stackSet:StackSet";
const STACK_SET_INSTANCE = "aws:cloudformation/stackSetInstance:StackSetInstance";
const STACK_INSTANCES = "aws:cloudformation/stackInstances:StackInstances";

/** Keys whose camel case differs from @pulumi/aws's property names. */
const KEY_NAMES: Record<string, string> = {
    VCpuCount: "vcpuCount",
    MemoryMiB: "memoryMib",
    MaxvCpus: "maxVcpus",
    MinvCpus: "minVcpus",
};

function camel(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(camel);
    if (value instanceof AnyOf) return new AnyOf(value.values.map(camel));
    const record = asRecord(value);
    if (!record) return value;
    return Object.fromEntries(
        Object.entries(record).map(([k, v]) => [KEY_NAMES[k] ?? k.charAt(0).toLowerCase() + k.slice(1), camel(v)]),
    );
}

type Mapped = { type: string; props: Props };

/** A template resource as the @pulumi/aws resource that does the same, or undefined for one that launches nothing. */
function asPulumi(type: string, properties: Props, logicalId: string): Mapped[] {
    const p = camel(properties) as Props;
    const id = `cfn:${logicalId}`;
    const own = { id, name: logicalId };
    switch (type) {
        case "AWS::EC2::Instance":
            return [{ type: "aws:ec2/instance:Instance", props: { ...own, ...p } }];
        case "AWS::EC2::LaunchTemplate": {
            const data = asRecord(p.launchTemplateData) ?? {};
            return [{ type: LAUNCH_TEMPLATE, props: { ...own, ...data, name: p.launchTemplateName ?? logicalId } }];
        }
        case "AWS::AutoScaling::LaunchConfiguration":
            return [
                { type: LAUNCH_CONFIGURATION, props: { ...own, ...p, name: p.launchConfigurationName ?? logicalId } },
            ];
        case "AWS::AutoScaling::AutoScalingGroup":
            return [
                {
                    type: "aws:autoscaling/group:Group",
                    props: { ...own, ...p, launchConfiguration: p.launchConfigurationName },
                },
            ];
        case "AWS::EC2::EC2Fleet":
            return [{ type: "aws:ec2/fleet:Fleet", props: { ...own, ...p } }];
        case "AWS::EC2::SpotFleet":
            return [
                {
                    type: "aws:ec2/spotFleetRequest:SpotFleetRequest",
                    props: { ...own, ...(asRecord(p.spotFleetRequestConfigData) ?? {}) },
                },
            ];
        case "AWS::EKS::Nodegroup":
            return [{ type: "aws:eks/nodeGroup:NodeGroup", props: { ...own, ...p } }];
        case "AWS::EC2::CapacityReservation":
            return [{ type: "aws:ec2/capacityReservation:CapacityReservation", props: { ...own, ...p } }];
        case "AWS::EC2::Host":
            return [{ type: "aws:ec2/dedicatedHost:DedicatedHost", props: { ...own, ...p } }];
        case "AWS::Batch::ComputeEnvironment":
            return [{ type: "aws:batch/computeEnvironment:ComputeEnvironment", props: { ...own, ...p } }];
        case "AWS::SageMaker::EndpointConfig":
            return [
                {
                    type: "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
                    props: { ...own, ...p, name: p.endpointConfigName ?? logicalId },
                },
            ];
        case "AWS::SageMaker::Pipeline": {
            const definition = asRecord(p.pipelineDefinition) ?? {};
            const body = definition.pipelineDefinitionBody;
            return [
                {
                    type: "aws:sagemaker/pipeline:Pipeline",
                    props: {
                        ...own,
                        pipelineDefinition: body,
                        pipelineDefinitionS3Location: definition.pipelineDefinitionS3Location,
                    },
                },
            ];
        }
        case "AWS::EMR::Cluster":
            return emrCluster(p, own);
        case "AWS::EMR::InstanceGroupConfig":
            return [{ type: "aws:emr/instanceGroup:InstanceGroup", props: { ...own, ...p, clusterId: p.jobFlowId } }];
        case "AWS::EMR::InstanceFleetConfig":
            return [{ type: "aws:emr/instanceFleet:InstanceFleet", props: { ...own, ...p } }];
    }
    if (type.startsWith("AWS::SageMaker::")) {
        const kind = type.slice("AWS::SageMaker::".length);
        return [
            { type: `aws:sagemaker/${kind.charAt(0).toLowerCase()}${kind.slice(1)}:${kind}`, props: { ...own, ...p } },
        ];
    }
    return [];
}

function emrCluster(p: Props, own: Props): Mapped[] {
    const instances = asRecord(p.instances) ?? {};
    const cluster: Mapped = {
        type: "aws:emr/cluster:Cluster",
        props: {
            ...own,
            masterInstanceGroup: instances.masterInstanceGroup,
            coreInstanceGroup: instances.coreInstanceGroup,
            masterInstanceFleet: instances.masterInstanceFleet,
            coreInstanceFleet: instances.coreInstanceFleet,
        },
    };
    const tasks: Mapped[] = [
        ...asList(instances.taskInstanceGroups).map((g) => ({
            type: "aws:emr/instanceGroup:InstanceGroup",
            props: { ...(asRecord(g) ?? {}), clusterId: own.id },
        })),
        ...asList(instances.taskInstanceFleets).map((f) => ({
            type: "aws:emr/instanceFleet:InstanceFleet",
            props: { ...(asRecord(f) ?? {}), clusterId: own.id },
        })),
    ];
    const limits = asRecord(asRecord(p.managedScalingPolicy)?.computeLimits);
    const scaling: Mapped[] = limits
        ? [
              {
                  type: "aws:emr/managedScalingPolicy:ManagedScalingPolicy",
                  props: { clusterId: own.id, computeLimits: [limits] },
              },
          ]
        : [];
    return [cluster, ...tasks, ...scaling];
}

/** How many times the template is deployed: 1 for a stack; a stack set's instances in this stack. */
function deployments<R extends LinkedResource>(resource: R, all: readonly R[]): { count: number; unbounded?: string } {
    if (resource.type === CFN_STACK) return { count: 1 };
    let count = 0;
    for (const instance of all.filter((r) => r.type === STACK_SET_INSTANCE || r.type === STACK_INSTANCES)) {
        const names = [instance.props.stackSetName];
        if (referencedThrough(instance, "stackSetName", names, [resource], ["name", "id"]).length === 0) continue;
        const targets = asRecord(instance.props.deploymentTargets);
        if (
            targets &&
            (asList(targets.organizationalUnitIds).length > 0 ||
                targets.accountsUrl !== undefined ||
                isUnknown(targets.organizationalUnitIds))
        )
            return {
                count,
                unbounded: `stack set instance "${instance.name}" deploys to organizational units, whose accounts the preview cannot count`,
            };
        if (instance.type === STACK_SET_INSTANCE) count += 1;
        else
            count +=
                Math.max(1, asList(instance.props.accounts).length) *
                Math.max(1, asList(instance.props.regions).length);
    }
    // A stack set without instances here launches nothing yet, but is there to be deployed: judged as one.
    return { count: Math.max(1, count) };
}

/** The worst case for a template the preview cannot read. */
function unreadable<R extends LinkedResource>(resource: R, label: string, setting: string, why: string): Capacity<R> {
    const found = new Collector(resource, [], []);
    found.chosen({ ...computedChoice(), written: "whatever its template launches" }, setting, false);
    return standingCapacity(resource, label, found.result().types, { units: undefined, setting, unbounded: why });
}

export function cloudFormationCapacities<R extends LinkedResource>(
    resource: R,
    all: readonly R[],
    capacitiesOf: (r: LinkedResource, all: readonly LinkedResource[]) => Capacity[],
): Capacity<R>[] {
    const kind = resource.type === CFN_STACK ? "CloudFormation stack" : "CloudFormation stack set";
    const label = `${kind} "${resource.name}"`;
    const body = resource.props.templateBody;
    if (typeof body !== "string") {
        if (body === undefined && resource.props.templateUrl === undefined) return [];
        const why = isUnknown(body)
            ? "its templateBody is computed during the update"
            : "its template is at templateUrl, which the preview cannot read; inline it as templateBody";
        return [unreadable(resource, label, body === undefined ? "templateUrl" : "templateBody", why)];
    }
    const template = parseTemplate(body);
    if (!template) return [unreadable(resource, label, "templateBody", "its templateBody is neither JSON nor YAML")];
    const parsed: ParsedTemplate = templateResources(template, resource.props.parameters);
    if (parsed.macros.length > 0)
        return [
            unreadable(
                resource,
                label,
                "templateBody",
                `its Transform (${parsed.macros.join(", ")}) rewrites the template when it is deployed`,
            ),
        ];
    const { count, unbounded } = deployments(resource, all);
    const nested = parsed.resources.filter((r) => r.type === "AWS::CloudFormation::Stack");
    const virtuals: LinkedResource[] = parsed.resources.flatMap((r) =>
        asPulumi(r.type, r.properties, r.logicalId).map((m, i) => ({
            urn: `${resource.urn}#${r.logicalId}${i > 0 ? `#${i}` : ""}`,
            type: m.type,
            name: r.logicalId,
            props: m.props,
        })),
    );
    const inner = virtuals.flatMap((v) => capacitiesOf(v, virtuals));
    return [
        ...nested.map((n) =>
            unreadable(
                resource,
                `${label} nested stack ${n.logicalId}`,
                `templateBody: Resources.${n.logicalId}.Properties.TemplateURL`,
                "a nested stack's template is at a URL the preview cannot read",
            ),
        ),
        ...inner.map((c) => ({
            ...c,
            resource,
            label: `${label}: ${c.label}`,
            // A launch template inside the template is no resource of the stack: the group that names it reports its type.
            types: c.types.map((t) => ({
                ...t,
                viaTemplate: false,
                setting: `templateBody: Resources.${c.resource.name} ${t.setting}`,
            })),
            minUnits: c.minUnits === undefined ? undefined : c.minUnits * count,
            maxUnits: c.maxUnits === undefined ? undefined : c.maxUnits * count,
            maxSetting: `templateBody: Resources.${c.resource.name} ${c.maxSetting}${count > 1 ? ` (× ${count} stack instances)` : ""}`,
            unbounded: c.unbounded ?? unbounded,
            template: undefined,
        })),
    ];
}
