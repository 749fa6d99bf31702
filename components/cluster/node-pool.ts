import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { GpuModelId, LABELS } from "@gpu-platform/catalog";
import type { GpuSharing } from "../gpu/sharing";
import { throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";
import {
    NODE_POOL_DEFAULTS,
    NODE_TEMPLATE_TAG,
    NodeTaint,
    PoolCapacityType,
    PoolDiskType,
    autoscalerNodeResources,
    nodePoolProblems,
    PoolPodRoom,
    poolMinSize,
    poolNodes,
    poolPodRoom,
    scaleFromZeroTags,
} from "./pool-settings";

export const NODE_POOL_TYPE = `${PACKAGE}:cluster:NodePool`;

export interface NodePoolArgs {
    /** The EKS cluster to join. Required. */
    clusterName: pulumi.Input<string>;
    /** IAM role of the pool's instances (the cluster's `nodeRole`). Required. */
    nodeRoleArn: pulumi.Input<string>;
    /** Subnets to launch into; private ones, and only those in the Capacity Block's zone for `"capacity-block"`. Required. */
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** EC2 instance type; must be in the catalog, which decides CPU or GPU. Required. */
    instanceType: string;
    /** Fewest nodes. Default 0 for GPU pools, 1 for CPU pools. */
    minSize?: number;
    /** Most nodes the autoscaler may run. Required. */
    maxSize: number;
    /**
     * `"on-demand"`, `"spot"`, or `"capacity-block"`: launch into the EC2 Capacity Block for ML
     * named by `capacityReservationId` (p4d.24xlarge, p5.48xlarge), starting at 0 nodes. Default `"on-demand"`.
     */
    capacityType?: PoolCapacityType;
    /** Root volume size in GiB. Default 200 for GPU pools, 50 for CPU pools. */
    diskSizeGiB?: number;
    /** Root volume type. Default `"gp3"`. */
    diskType?: PoolDiskType;
    /** Provisioned IOPS of the root volume; required with `diskType: "io2"` (100 to 1,000 per GiB, at most 256,000), refused otherwise. */
    diskIops?: number;
    /** How pods share each GPU (GPU pools only). Default `{ mode: "exclusive" }`. */
    gpuSharing?: GpuSharing;
    /**
     * Capacity reservation to launch into, `cr-…`: an on-demand capacity reservation, or with
     * `capacityType: "capacity-block"` the Capacity Block's reservation. Default none.
     */
    capacityReservationId?: string;
    /** Tags for the instances and volumes the pool launches (provider default tags do not reach them). Default none. */
    instanceTags?: Record<string, string>;
}

/**
 * One EKS managed node group with its launch template: a CPU pool for system workloads, or a
 * GPU pool (NVIDIA AL2023 AMI, GPU taint, labels the GPU Operator reads) that starts at zero
 * and is scaled by Cluster Autoscaler, which can scale it up from zero because the pool tags
 * its own ASG with its labels, taints and GPU resources.
 *
 * `opts.dependsOn` applies to the node group itself, not only to the component: pass the
 * cluster's `nodePrerequisites` (the node role's policies, the VPC CNI), so nodes never boot
 * without them and a destroy removes the nodes before them.
 *
 * ```ts
 * new NodePool("h100", { clusterName, nodeRoleArn, subnetIds, instanceType: "p5.48xlarge", maxSize: 2 });
 * ```
 *
 * Cost: an idle GPU pool (size 0) costs nothing; each running node is billed at its instance
 * price (see catalog/instances.ts).
 */
export class NodePool extends pulumi.ComponentResource {
    public readonly nodeGroup: aws.eks.NodeGroup;
    public readonly launchTemplate: aws.ec2.LaunchTemplate;
    /** Kubernetes labels every node of the pool carries. */
    public readonly labels: Record<string, string>;
    /** Taints pods meant for the pool tolerate. */
    public readonly taints: NodeTaint[];
    /** Taints a node loses once it offers its GPU layout (time-sliced and MIG pools); pods need not tolerate them. */
    public readonly startupTaints: NodeTaint[];
    /** Extended resources one node advertises (`nvidia.com/gpu`, `nvidia.com/mig-…`), by name. */
    public readonly nodeResources: Record<string, number>;
    /** What one node leaves for a pod: its allocatable less the platform's DaemonSets. A pod asking for more never runs here. */
    public readonly podRoom: PoolPodRoom;
    /** Physical GPUs per node. */
    public readonly gpusPerNode: number;
    /** The catalog's GPU model of the pool's nodes; undefined for a CPU pool. */
    public readonly gpuModel?: GpuModelId;
    /** How pods share each GPU; undefined for a CPU pool. */
    public readonly gpuSharing?: GpuSharing;
    /** Name of the node group's Auto Scaling group. */
    public readonly autoscalingGroupName: pulumi.Output<string>;
    public readonly asgTags: aws.autoscaling.Tag[];

    constructor(name: string, args: NodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("NodePool", name, nodePoolProblems("", args));
        super(NODE_POOL_TYPE, name, {}, opts);
        const nodes = poolNodes(name, args);
        const isGpu = nodes.gpusPerNode > 0;
        const minSize = poolMinSize(args);

        this.gpusPerNode = nodes.gpusPerNode;
        this.gpuModel = nodes.gpuModel;
        this.gpuSharing = nodes.gpuSharing;
        this.labels = nodes.labels;
        this.taints = nodes.taints;
        this.startupTaints = nodes.startupTaints;
        this.nodeResources = nodes.nodeResources;
        this.podRoom = poolPodRoom(args);
        const capacityBlock = args.capacityType === "capacity-block";

        this.launchTemplate = this.createLaunchTemplate(name, args, isGpu);
        this.nodeGroup = new aws.eks.NodeGroup(
            `${name}-group`,
            {
                clusterName: args.clusterName,
                nodeRoleArn: args.nodeRoleArn,
                subnetIds: args.subnetIds,
                // A Capacity Block's type is in the launch template, and EKS refuses a type in both
                // (EKS user guide, "Customize managed nodes with launch templates").
                instanceTypes: capacityBlock ? undefined : [args.instanceType],
                amiType: isGpu ? "AL2023_x86_64_NVIDIA" : "AL2023_x86_64_STANDARD",
                capacityType: eksCapacityType(args.capacityType ?? NODE_POOL_DEFAULTS.capacityType),
                // desiredSize only seeds the group; the autoscaler owns it afterwards.
                scalingConfig: { minSize, maxSize: args.maxSize, desiredSize: minSize },
                launchTemplate: {
                    id: this.launchTemplate.id,
                    version: pulumi.interpolate`${this.launchTemplate.latestVersion}`,
                },
                labels: this.labels,
                taints: [...this.taints, ...this.startupTaints].map((t) => ({
                    key: t.key,
                    value: t.value,
                    effect: eksTaintEffect(t.effect),
                })),
                updateConfig: { maxUnavailable: 1 },
                // Replace nodes that fail health checks instead of paying for broken capacity. GPU
                // failures count only because the cluster runs the EKS node monitoring agent
                // (ClusterAddons), which reports them as AcceleratedHardwareReady.
                nodeRepairConfig: { enabled: true },
            },
            { parent: this, dependsOn: opts?.dependsOn, ignoreChanges: ["scalingConfig.desiredSize"] },
        );
        this.autoscalingGroupName = this.nodeGroup.resources.apply(
            (resources) => resources[0].autoscalingGroups[0].name,
        );
        this.asgTags = this.createScaleFromZeroTags(name);

        this.registerOutputs({
            nodeGroupName: this.nodeGroup.nodeGroupName,
            autoscalingGroupName: this.autoscalingGroupName,
        });
    }

    private createLaunchTemplate(name: string, args: NodePoolArgs, isGpu: boolean): aws.ec2.LaunchTemplate {
        const tags = args.instanceTags ?? {};
        return new aws.ec2.LaunchTemplate(
            `${name}-launch-template`,
            {
                description: `Nodes of the ${name} pool`,
                // Hop limit 1 keeps pods from reaching the node role's credentials through IMDS.
                metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
                blockDeviceMappings: [
                    {
                        deviceName: "/dev/xvda",
                        ebs: {
                            volumeSize: args.diskSizeGiB ?? NODE_POOL_DEFAULTS.diskSizeGiB[isGpu ? "gpu" : "cpu"],
                            volumeType: args.diskType ?? NODE_POOL_DEFAULTS.diskType,
                            iops: args.diskIops,
                            encrypted: "true",
                            deleteOnTermination: "true",
                        },
                    },
                ],
                capacityReservationSpecification: args.capacityReservationId
                    ? { capacityReservationTarget: { capacityReservationId: args.capacityReservationId } }
                    : undefined,
                ...(args.capacityType === "capacity-block" ? capacityBlockLaunch(args.instanceType) : {}),
                tagSpecifications: [
                    { resourceType: "instance", tags: { ...tags, [LABELS.pool]: name } },
                    { resourceType: "volume", tags: { ...tags, [LABELS.pool]: name } },
                ],
            },
            { parent: this },
        );
    }

    /** Tags on the group's ASG that let Cluster Autoscaler scale it up from zero nodes. */
    private createScaleFromZeroTags(name: string): aws.autoscaling.Tag[] {
        return Object.entries(scaleFromZeroTags(this.labels, this.taints, autoscalerNodeResources(this))).map(
            ([key, value]) =>
                new aws.autoscaling.Tag(
                    `${name}-asg-${key.slice(NODE_TEMPLATE_TAG.length + 1).replace(/[^a-zA-Z0-9-]+/g, "-")}`,
                    { autoscalingGroupName: this.autoscalingGroupName, tag: { key, value, propagateAtLaunch: false } },
                    { parent: this },
                ),
        );
    }
}

/**
 * What a Capacity Block needs in the launch template besides its reservation (EKS user guide,
 * "Create a managed node group with Capacity Blocks for ML": the request is rejected without
 * them): the instance type and the market type "capacity-block". Indirect evidence: the
 * @pulumi/aws 7.48.0 docs name only "spot" for marketType and ON_DEMAND/SPOT for the node
 * group's capacityType; both fields are plain strings that the provider passes to EC2 and EKS,
 * whose enums (MarketType, CapacityTypes) include "capacity-block" and CAPACITY_BLOCK.
 */
function capacityBlockLaunch(
    instanceType: string,
): Pick<aws.ec2.LaunchTemplateArgs, "instanceType" | "instanceMarketOptions"> {
    return { instanceType, instanceMarketOptions: { marketType: "capacity-block" } };
}

function eksCapacityType(capacityType: PoolCapacityType): string {
    return { "on-demand": "ON_DEMAND", spot: "SPOT", "capacity-block": "CAPACITY_BLOCK" }[capacityType];
}

function eksTaintEffect(effect: NodeTaint["effect"]): string {
    return { NoSchedule: "NO_SCHEDULE", NoExecute: "NO_EXECUTE", PreferNoSchedule: "PREFER_NO_SCHEDULE" }[effect];
}
