import * as assert from "assert";
import { named, ofType, record, validStackConfig } from "./harness";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { buildPlatform } from "../platform";

const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const ASG_TAG = "aws:autoscaling/tag:Tag";
const TEMPLATE = "k8s.io/cluster-autoscaler/node-template";

/** The ASG tags one pool created, as key → value. */
function asgTagsOf(resources: RecordedResource[], pool: string): Record<string, string> {
    const poolUrn = named(resources, "gpu-platform:cluster:NodePool", pool).urn;
    return Object.fromEntries(
        ofType(resources, ASG_TAG)
            .filter((r) => r.parent === poolUrn)
            .map((r) => {
                const tag = r.inputs.tag as { key: string; value: string; propagateAtLaunch: boolean };
                assert.strictEqual(r.inputs.autoscalingGroupName, `eks-${pool}-group-placeholder`);
                return [tag.key, tag.value];
            }),
    );
}

function policyDocument(resource: RecordedResource, input = "policy"): { Statement: any[] } {
    return JSON.parse(resource.inputs[input] as string);
}

describe("platform (prod config)", () => {
    let resources: RecordedResource[];
    before(async () => {
        ({ resources } = await record(() => buildPlatform(validStackConfig("prod"))));
    });

    it("creates the four production pools: CPU, A100 time-sliced, A100 MIG and H100", () => {
        const groups = Object.fromEntries(ofType(resources, NODE_GROUP).map((g) => [g.name, g.inputs]));
        assert.deepStrictEqual(Object.keys(groups).sort(), [
            "a100-mig-group",
            "a100-shared-group",
            "h100-group",
            "system-group",
        ]);
        assert.deepStrictEqual(groups["system-group"].instanceTypes, ["m7i.2xlarge"]);
        assert.deepStrictEqual(groups["a100-shared-group"].instanceTypes, ["p4d.24xlarge"]);
        assert.deepStrictEqual(groups["a100-mig-group"].instanceTypes, ["p4de.24xlarge"]);
        assert.deepStrictEqual(groups["h100-group"].instanceTypes, ["p5.48xlarge"]);
        assert.strictEqual(groups["system-group"].amiType, "AL2023_x86_64_STANDARD");
        for (const gpu of ["a100-mig-group", "a100-shared-group", "h100-group"]) {
            assert.strictEqual(
                groups[gpu].amiType,
                "AL2023_x86_64_NVIDIA",
                `${gpu} uses the AMI with the NVIDIA driver`,
            );
        }
    });

    it("taints every GPU pool, starts it at zero, and leaves the CPU pool untainted", () => {
        for (const group of ofType(resources, NODE_GROUP)) {
            const scaling = group.inputs.scalingConfig as { minSize: number; desiredSize: number; maxSize: number };
            if (group.name === "system-group") {
                assert.deepStrictEqual(group.inputs.taints, []);
                assert.deepStrictEqual(scaling, { minSize: 3, desiredSize: 3, maxSize: 10 });
                continue;
            }
            assert.deepStrictEqual(
                (group.inputs.taints as any[])[0],
                { key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" },
                group.name,
            );
            assert.deepStrictEqual(scaling, { minSize: 0, desiredSize: 0, maxSize: 4 }, group.name);
        }
    });

    it("labels GPU nodes with the pool, GPU model and the sharing configs the GPU Operator reads", () => {
        const labels = (pool: string) => named(resources, NODE_GROUP, `${pool}-group`).inputs.labels;
        assert.deepStrictEqual(labels("a100-mig"), {
            "gpu-platform/pool": "a100-mig",
            "gpu-platform/node-type": "gpu",
            "gpu-platform/gpu-model": "a100-80gb",
            "gpu-platform/gpu-sharing": "mig",
            // No k8s.amazonaws.com/accelerator: the autoscaler would wait forever for nvidia.com/gpu on a MIG node.
            // Configs are named after the layout, so any pool with this layout finds them in the operator.
            "nvidia.com/device-plugin.config": "mig-mixed",
            "nvidia.com/mig.config": "mig-1x3g.40gb-1x2g.20gb-2x1g.10gb",
        });
        assert.strictEqual((labels("a100-shared") as any)["nvidia.com/mig.config"], "all-disabled");
        assert.strictEqual((labels("a100-shared") as any)["nvidia.com/device-plugin.config"], "time-slicing-3");
        assert.strictEqual((labels("h100") as any)["nvidia.com/device-plugin.config"], "exclusive");
        assert.strictEqual((labels("h100") as any)["k8s.amazonaws.com/accelerator"], "nvidia-h100");
        assert.strictEqual((labels("a100-shared") as any)["gpu-platform/gpu-sharing"], "time-slicing");
        assert.deepStrictEqual(labels("system"), { "gpu-platform/pool": "system", "gpu-platform/node-type": "cpu" });
    });

    it("tags each pool's ASG so Cluster Autoscaler can scale it up from zero", () => {
        const h100 = asgTagsOf(resources, "h100");
        assert.strictEqual(h100[`${TEMPLATE}/taint/nvidia.com/gpu`], "true:NoSchedule");
        assert.strictEqual(h100[`${TEMPLATE}/resources/nvidia.com/gpu`], "8");
        assert.strictEqual(h100[`${TEMPLATE}/label/gpu-platform/pool`], "h100");
        assert.strictEqual(h100[`${TEMPLATE}/label/nvidia.com/device-plugin.config`], "exclusive");

        // Time-slicing: 8 A100s × 3 replicas are advertised as 24 nvidia.com/gpu.shared, never as whole GPUs.
        const shared = asgTagsOf(resources, "a100-shared");
        assert.strictEqual(shared[`${TEMPLATE}/resources/nvidia.com/gpu.shared`], "24");

        // MIG (mixed strategy): each profile is its own resource, per-GPU count × 8 GPUs.
        const mig = asgTagsOf(resources, "a100-mig");
        assert.strictEqual(mig[`${TEMPLATE}/resources/nvidia.com/mig-3g.40gb`], "8");
        assert.strictEqual(mig[`${TEMPLATE}/resources/nvidia.com/mig-2g.20gb`], "8");
        assert.strictEqual(mig[`${TEMPLATE}/resources/nvidia.com/mig-1g.10gb`], "16");

        const system = asgTagsOf(resources, "system");
        assert.deepStrictEqual(system, {
            [`${TEMPLATE}/label/gpu-platform/pool`]: "system",
            [`${TEMPLATE}/label/gpu-platform/node-type`]: "cpu",
        });
    });

    it("tells the autoscaler that time-sliced and MIG nodes offer no whole GPU, so it never starts them for pods that want one", () => {
        // cluster-autoscaler 1.35.2 aws_manager.go l.285 gives every GPU ASG's template the instance's nvidia.com/gpu count
        // (8 on p4d/p4de), and adds it to templates built from real nodes that lack it; a node-template/resources tag
        // overwrites it (l.290-293), and "0" parses to zero.
        assert.strictEqual(asgTagsOf(resources, "a100-shared")[`${TEMPLATE}/resources/nvidia.com/gpu`], "0");
        assert.strictEqual(asgTagsOf(resources, "a100-mig")[`${TEMPLATE}/resources/nvidia.com/gpu`], "0");
        // Whole GPUs stay advertised where the node has them, and a CPU pool says nothing of GPUs.
        assert.strictEqual(asgTagsOf(resources, "h100")[`${TEMPLATE}/resources/nvidia.com/gpu`], "8");
        assert.strictEqual(asgTagsOf(resources, "system")[`${TEMPLATE}/resources/nvidia.com/gpu`], undefined);
    });

    it("requires IMDSv2 and encrypts root volumes on every launch template", () => {
        const templates = ofType(resources, "aws:ec2/launchTemplate:LaunchTemplate");
        assert.strictEqual(templates.length, 4);
        for (const template of templates) {
            assert.strictEqual((template.inputs.metadataOptions as any).httpTokens, "required", template.name);
            assert.strictEqual((template.inputs.metadataOptions as any).httpPutResponseHopLimit, 1, template.name);
            const ebs = (template.inputs.blockDeviceMappings as any[])[0].ebs;
            assert.strictEqual(ebs.encrypted, "true", template.name);
            assert.strictEqual(ebs.volumeType, "gp3", template.name);
        }
        const h100 = named(resources, "aws:ec2/launchTemplate:LaunchTemplate", "h100-launch-template");
        assert.strictEqual((h100.inputs.blockDeviceMappings as any[])[0].ebs.volumeSize, 1000);
        // Provider default tags do not reach instances an ASG launches; the template carries them.
        const instanceTags = (h100.inputs.tagSpecifications as any[]).find((t) => t.resourceType === "instance").tags;
        assert.strictEqual(instanceTags["cost-center"], "CC-0001");
        assert.strictEqual(instanceTags["gpu-platform/pool"], "h100");
    });

    it("builds an EKS cluster with access entries, IRSA, KMS secrets encryption, all control-plane logs and a private endpoint", () => {
        const cluster = named(resources, "eks:index:Cluster", "gpu-platform-prod-eks").inputs as any;
        const key = named(resources, "aws:kms/key:Key", "gpu-platform-prod-secrets-key");
        assert.strictEqual(cluster.name, "gpu-platform-prod");
        assert.strictEqual(cluster.version, "1.35");
        assert.strictEqual(cluster.authenticationMode, "API");
        assert.strictEqual(cluster.createOidcProvider, true);
        assert.strictEqual(cluster.skipDefaultNodeGroup, true);
        assert.strictEqual(cluster.encryptionConfigKeyArn, key.outputs.arn);
        assert.strictEqual(key.inputs.enableKeyRotation, true);
        assert.deepStrictEqual(cluster.enabledClusterLogTypes, [
            "api",
            "audit",
            "authenticator",
            "controllerManager",
            "scheduler",
        ]);
        assert.strictEqual(cluster.endpointPrivateAccess, true);
        assert.strictEqual(cluster.endpointPublicAccess, false);
        assert.strictEqual(cluster.deletionProtection, true);
        assert.deepStrictEqual(
            cluster.upgradePolicy,
            { supportType: "EXTENDED" },
            "prod is never upgraded behind the team's back",
        );
        assert.deepStrictEqual(
            Object.values(cluster.accessEntries).map((e: any) => [
                e.principalArn,
                (Object.values(e.accessPolicies)[0] as any).policyArn,
            ]),
            [
                [
                    "arn:aws:iam::123456789012:role/platform-admin",
                    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                ],
                [
                    "arn:aws:iam::123456789012:role/platform-break-glass",
                    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                ],
                [
                    "arn:aws:iam::123456789012:role/platform-preview",
                    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
                ],
            ],
        );
        const logs = named(resources, "aws:cloudwatch/logGroup:LogGroup", "gpu-platform-prod-control-plane-logs");
        assert.strictEqual(
            logs.inputs.name,
            "/aws/eks/gpu-platform-prod/cluster",
            "the name EKS writes to, so its retention applies",
        );
        assert.strictEqual(logs.inputs.retentionInDays, 90);
    });

    it("spreads the VPC over three zones with a NAT gateway each, EKS subnet tags, an S3 endpoint and flow logs", () => {
        const vpc = named(resources, "awsx:ec2:Vpc", "gpu-platform-prod-vpc").inputs as any;
        assert.strictEqual(vpc.numberOfAvailabilityZones, 3);
        assert.deepStrictEqual(vpc.natGateways, { strategy: "OnePerAz" });
        assert.deepStrictEqual(vpc.subnetSpecs, [
            { type: "Public", cidrMask: 20, tags: { "kubernetes.io/role/elb": "1" } },
            { type: "Private", cidrMask: 19, tags: { "kubernetes.io/role/internal-elb": "1" } },
        ]);
        const endpoint = named(resources, "aws:ec2/vpcEndpoint:VpcEndpoint", "gpu-platform-prod-s3-endpoint")
            .inputs as any;
        assert.strictEqual(endpoint.serviceName, "com.amazonaws.us-east-1.s3");
        assert.strictEqual(endpoint.vpcEndpointType, "Gateway");
        assert.strictEqual(
            endpoint.routeTableIds.length,
            6,
            "every route table, so private subnets reach S3 without NAT",
        );
        const flowLog = named(resources, "aws:ec2/flowLog:FlowLog", "gpu-platform-prod-flow-log").inputs as any;
        assert.strictEqual(flowLog.trafficType, "ALL");
        const flowPolicy = policyDocument(
            named(resources, "aws:iam/rolePolicy:RolePolicy", "gpu-platform-prod-flow-logs-policy"),
        );
        assert.ok(flowPolicy.Statement.every((s) => s.Resource.every((r: string) => r.startsWith("arn:aws:logs:"))));
    });

    it("sets the budget tags once, as the AWS provider's default tags, which every AWS resource inherits", () => {
        const provider = named(resources, "pulumi:providers:aws", "gpu-platform-prod-aws");
        assert.deepStrictEqual(JSON.parse(provider.inputs.defaultTags as string), {
            tags: { team: "platform", "cost-center": "CC-0001", budget: "platform-prod", environment: "prod" },
        });
        const awsResources = resources.filter((r) => r.custom && r.type.startsWith("aws:"));
        assert.ok(awsResources.length > 30);
        for (const resource of awsResources) {
            assert.strictEqual(
                resource.provider?.split("::")[3],
                "gpu-platform-prod-aws",
                `${resource.name} uses the tagged provider`,
            );
        }
    });

    it("gives the autoscaler an IRSA role that can resize only this cluster's node groups", () => {
        const statements = policyDocument(
            named(resources, "aws:iam/rolePolicy:RolePolicy", "gpu-platform-prod-autoscaler-irsa-policy"),
        ).Statement;
        const resize = statements.find((s) => s.Sid === "ResizeThisClustersNodeGroups");
        assert.deepStrictEqual(resize.Action, [
            "autoscaling:SetDesiredCapacity",
            "autoscaling:TerminateInstanceInAutoScalingGroup",
        ]);
        assert.deepStrictEqual(
            resize.Resource,
            ["system", "a100-shared", "a100-mig", "h100"].map(
                (pool) =>
                    `arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/eks-${pool}-group-placeholder`,
            ),
        );
        const discover = statements.find((s) => s.Sid === "DiscoverNodeGroups");
        assert.ok(
            discover.Action.every((a: string) => /:(Describe|Get)/.test(a)),
            "only read actions are unscoped",
        );

        const trust = JSON.parse(
            named(resources, "aws:iam/role:Role", "gpu-platform-prod-autoscaler-irsa-role").inputs
                .assumeRolePolicy as string,
        );
        assert.strictEqual(
            trust.Statement[0].Condition.StringEquals["oidc.eks.us-east-1.amazonaws.com/id/PLACEHOLDER:sub"],
            "system:serviceaccount:kube-system:cluster-autoscaler",
        );
    });

    it("installs the pinned autoscaler chart on the CPU pool with GPU-minded scale-down", () => {
        const release = named(resources, "kubernetes:helm.sh/v3:Release", "gpu-platform-prod-autoscaler-release")
            .inputs as any;
        assert.strictEqual(release.chart, "cluster-autoscaler");
        assert.match(release.version, /^\d+\.\d+\.\d+$/);
        assert.strictEqual(release.values.autoDiscovery.clusterName, "gpu-platform-prod");
        // The newest 1.35 patch (kubernetes/autoscaler tag cluster-autoscaler-1.35.2), not the chart's v1.35.0.
        assert.strictEqual(release.values.image.tag, "v1.35.2");
        assert.deepStrictEqual(release.values.nodeSelector, { "gpu-platform/node-type": "cpu" });
        assert.strictEqual(release.values.extraArgs["scale-down-unneeded-time"], "5m");
        assert.strictEqual(release.values.extraArgs["ignore-daemonsets-utilization"], true);
        assert.strictEqual(
            release.values.rbac.serviceAccount.annotations["eks.amazonaws.com/role-arn"],
            "arn:aws:iam::123456789012:role/gpu-platform-prod-autoscaler-irsa-role",
        );
    });

    it("runs CoreDNS, the VPC CNI, the Pod Identity agent, the EBS CSI driver and the node monitoring agent as EKS managed add-ons", () => {
        // kube-proxy is pulumi-eks's own add-on, inside the remote eks:index:Cluster component.
        const addons = ofType(resources, "aws:eks/addon:Addon")
            .map((a) => a.inputs.addonName)
            .sort();
        assert.deepStrictEqual(addons, [
            "aws-ebs-csi-driver",
            "coredns",
            "eks-node-monitoring-agent",
            "eks-pod-identity-agent",
            "vpc-cni",
        ]);
    });
});

describe("platform (dev config)", () => {
    let resources: RecordedResource[];
    before(async () => {
        ({ resources } = await record(() => buildPlatform(validStackConfig("dev"))));
    });

    it("differs from prod only through config: two zones, one NAT, public endpoint for the office range, no flow logs", () => {
        const vpc = named(resources, "awsx:ec2:Vpc", "gpu-platform-dev-vpc").inputs as any;
        assert.strictEqual(vpc.numberOfAvailabilityZones, 2);
        assert.deepStrictEqual(vpc.natGateways, { strategy: "Single" });
        assert.deepStrictEqual(ofType(resources, "aws:ec2/flowLog:FlowLog"), []);
        const cluster = named(resources, "eks:index:Cluster", "gpu-platform-dev-eks").inputs as any;
        assert.strictEqual(cluster.endpointPublicAccess, true);
        assert.deepStrictEqual(cluster.publicAccessCidrs, ["203.0.113.0/24"]);
        assert.strictEqual(cluster.deletionProtection, false);
        assert.deepStrictEqual(
            cluster.upgradePolicy,
            { supportType: "STANDARD" },
            "dev is upgraded, not billed at the extended rate",
        );
    });

    it("creates what runs in the cluster after the CPU pool, whose nodes it needs, and waits for no GPU pool", () => {
        // An add-on or chart with no node to run on never becomes ready; GPU pools sit at zero nodes.
        const cpuGroup = named(resources, NODE_GROUP, "system-group").urn;
        const gpuGroups = ["gpu-dev-group", "a100-shared-group"].map((name) => named(resources, NODE_GROUP, name).urn);
        const inCluster = [
            ["gpu-platform:cluster:ClusterAddons", "gpu-platform-dev-addons"],
            ["gpu-platform:cluster:ClusterAutoscaler", "gpu-platform-dev-autoscaler"],
            ["gpu-platform:gpu:GpuOperator", "gpu-platform-dev-gpu-operator"],
            ["gpu-platform:tenancy:WorkloadClasses", "gpu-platform-dev-workload-classes"],
            ["gpu-platform:tenancy:TeamNamespace", "ml-research"],
            ["gpu-platform:tenancy:TeamNamespace", "applied-ml"],
            ["gpu-platform:inference:Keda", "gpu-platform-dev-keda"],
        ];
        for (const [type, name] of inCluster) {
            const { dependencies } = named(resources, type, name);
            assert.ok(dependencies.includes(cpuGroup), `${name} depends on the CPU pool's node group`);
            assert.deepStrictEqual(
                dependencies.filter((urn) => gpuGroups.includes(urn)),
                [],
                `${name} waits for no GPU pool`,
            );
        }
    });

    it("runs its GPU pools on spot, at zero nodes until asked", () => {
        for (const name of ["gpu-dev-group", "a100-shared-group"]) {
            const group = named(resources, NODE_GROUP, name).inputs as any;
            assert.strictEqual(group.capacityType, "SPOT");
            assert.strictEqual(group.scalingConfig.minSize, 0);
        }
    });
});
