/**
 * GPU capacity hidden one level down: in a CloudFormation template (JSON or YAML, intrinsics
 * and all) and in Karpenter NodePools. Prices by hand from catalog/instances.ts, 730 h a month:
 * p4d.24xlarge $21.957642/h, 8 GPUs.
 */
import * as assert from "assert";
import { gpuInstanceTypeAllowed, gpuPoolGpuLimit } from "../gpu-node-pools";
import { priceResources } from "../pricing";
import { stackMonthlyBudget } from "../stack-budget";
import { resource, theViolation, violationsOf } from "./support/check";
import type { PlanResource } from "../runner";

const allowlist = { allowedGpuInstanceTypes: ["g5.xlarge", "p4d.24xlarge"] };

async function refusals(resources: PlanResource[]): Promise<string[]> {
    return (await violationsOf(gpuInstanceTypeAllowed, resources, allowlist)).map((v) => v.message);
}

function monthlyMax(resources: PlanResource[]): number[] {
    return priceResources(
        resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: null, props: r.inputs })),
        "2026-12-07",
    ).map((i) => i.monthlyMax);
}

const stack = (templateBody: string, extra: Record<string, unknown> = {}) =>
    resource("aws:cloudformation/stack:Stack", "cfn", { name: "cfn", templateBody, ...extra });

const YAML_GROUP = `
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  GpuType:
    Type: String
    Default: p5.48xlarge
Resources:
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        InstanceType: !Ref GpuType
  Group:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      MinSize: "0"
      MaxSize: "2"
      LaunchTemplate:
        LaunchTemplateId: !Ref Template
        Version: !GetAtt Template.LatestVersionNumber
`;

describe("policies: GPU capacity in CloudFormation templates", () => {
    it("refuses a JSON template's instance by its type, naming the stack and the template's resource", async () => {
        const body = JSON.stringify({
            Resources: { Box: { Type: "AWS::EC2::Instance", Properties: { InstanceType: "p5.48xlarge" } } },
        });
        const [message] = await refusals([stack(body)]);
        assert.match(
            message,
            /^CloudFormation stack "cfn": instance "Box" sets templateBody: Resources\.Box instanceType to p5\.48xlarge/,
        );
    });

    it("follows a YAML template's !Ref from a group to its launch template and a parameter's default", async () => {
        const [message] = await refusals([stack(YAML_GROUP)]);
        assert.match(
            message,
            /^CloudFormation stack "cfn": Auto Scaling group "Group" sets templateBody: Resources\.Group launch template "Template"\.instanceType to p5\.48xlarge/,
        );
        // 2 × 8 H100s through the launch template the group names.
        assert.match(
            (await theViolation(gpuPoolGpuLimit, [stack(YAML_GROUP)], { maxGpusPerPool: 8 })).message,
            /Auto Scaling group "Group" can scale to 16 GPUs/,
        );
    });

    it("takes the stack's parameter value over the default: an allowed p4d passes and is priced, 2 × $21.957642 × 730 = $32,058.16", async () => {
        const ok = stack(YAML_GROUP, { parameters: { GpuType: "p4d.24xlarge" } });
        assert.deepStrictEqual(await refusals([ok]), []);
        assert.deepStrictEqual(monthlyMax([ok]), [32058.16]);
    });

    it("judges a parameter the preview does not know by its allowed values, and both branches of an Fn::If", async () => {
        const withAllowed = YAML_GROUP.replace("Default: p5.48xlarge", "AllowedValues: [g5.xlarge, p5.48xlarge]");
        const computed = stack(withAllowed, { parameters: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" });
        assert.match((await refusals([computed]))[0], /g5\.xlarge or p5\.48xlarge, which may launch p5\.48xlarge/);
        const branches = YAML_GROUP.replace(
            "InstanceType: !Ref GpuType",
            "InstanceType: !If [Big, p5.48xlarge, g5.xlarge]",
        );
        assert.match((await refusals([stack(branches)]))[0], /may launch p5\.48xlarge/);
    });

    it("multiplies a stack set by its stack instances: 3 instances × 2 × 8 GPUs = 48", async () => {
        const set = resource("aws:cloudformation/stackSet:StackSet", "set", {
            name: "gpu-set",
            templateBody: YAML_GROUP,
            parameters: { GpuType: "p4d.24xlarge" },
        });
        const instances = ["111111111111", "222222222222", "333333333333"].map((account) =>
            resource("aws:cloudformation/stackSetInstance:StackSetInstance", `i-${account}`, {
                stackSetName: "gpu-set",
                accountId: account,
            }),
        );
        assert.match(
            (await theViolation(gpuPoolGpuLimit, [set, ...instances])).message,
            /Group" can scale to 48 GPUs \(templateBody: Resources\.Group maxSize \(× 3 stack instances\) 6 × 8 GPUs/,
        );
        const byOu = resource("aws:cloudformation/stackSetInstance:StackSetInstance", "ou", {
            stackSetName: "gpu-set",
            deploymentTargets: { organizationalUnitIds: ["ou-1"] },
        });
        assert.match(
            (await theViolation(gpuPoolGpuLimit, [set, byOu])).message,
            /without a bound: stack set instance "ou" deploys to organizational units/,
        );
    });

    it("judges a template it cannot read as the worst case: a URL, a nested stack, a macro", async () => {
        const noCapacity = stack(JSON.stringify({ Resources: { Bucket: { Type: "AWS::S3::Bucket" } } }));
        const byUrl = resource("aws:cloudformation/stack:Stack", "remote", {
            templateUrl: "https://s3.amazonaws.com/b/t.yaml",
        });
        assert.match(
            (await theViolation(stackMonthlyBudget, [byUrl], { monthlyBudgetUsd: 1e9 })).message,
            /its template is at templateUrl, which the preview cannot read/,
        );
        const nested = stack(
            JSON.stringify({
                Resources: { Inner: { Type: "AWS::CloudFormation::Stack", Properties: { TemplateURL: "https://x" } } },
            }),
        );
        assert.match(
            (await theViolation(gpuPoolGpuLimit, [nested])).message,
            /nested stack Inner may launch GPU instances/,
        );
        const macro = stack(`Transform: Acme::Expand\nResources: {}\n`);
        assert.match(
            (await theViolation(gpuPoolGpuLimit, [macro])).message,
            /its Transform \(Acme::Expand\) rewrites the template/,
        );
        assert.deepStrictEqual(await refusals([noCapacity]), []);
        assert.match(
            (await refusals([stack("{ not: [valid")]))[0],
            /sets templateBody to whatever its template launches/,
        );
    });

    it("reads SageMaker, Batch and EMR resources in a template as it reads them in a program", async () => {
        const body = JSON.stringify({
            Resources: {
                Cfg: {
                    Type: "AWS::SageMaker::EndpointConfig",
                    Properties: {
                        ProductionVariants: [
                            { VariantName: "v", InstanceType: "ml.p5.48xlarge", InitialInstanceCount: 1 },
                        ],
                    },
                },
                Batch: {
                    Type: "AWS::Batch::ComputeEnvironment",
                    Properties: {
                        Type: "MANAGED",
                        ComputeResources: { Type: "EC2", InstanceTypes: ["p5"], MaxvCpus: 192 },
                    },
                },
                Emr: {
                    Type: "AWS::EMR::Cluster",
                    Properties: { Instances: { CoreInstanceGroup: { InstanceType: "p5.48xlarge", InstanceCount: 1 } } },
                },
            },
        });
        const messages = (await refusals([stack(body)])).map((m) => m.split(" sets")[0]);
        assert.deepStrictEqual(messages, [
            'CloudFormation stack "cfn": SageMaker endpoint configuration "Cfg" variant "v"',
            'CloudFormation stack "cfn": Batch compute environment "Batch"',
            'CloudFormation stack "cfn": EMR cluster "Emr" core group',
        ]);
    });
});

describe("policies: Karpenter NodePools", () => {
    const nodePool = (spec: Record<string, unknown>) =>
        resource("kubernetes:karpenter.sh/v1:NodePool", "gpu", {
            apiVersion: "karpenter.sh/v1",
            kind: "NodePool",
            metadata: { name: "gpu" },
            spec,
        });
    const template = (requirements: unknown[]) => ({
        spec: { nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: "default" }, requirements },
    });

    it("refuses a NodePool whose requirements allow GPU types, and one without limits", async () => {
        const open = nodePool({
            template: template([{ key: "kubernetes.io/arch", operator: "In", values: ["amd64"] }]),
        });
        assert.match(
            (await refusals([open]))[0],
            /^Karpenter NodePool "gpu" chooses instance types by attributes \(spec\.template\.spec\.requirements\) in a way that may launch .*p5\.48xlarge/,
        );
        assert.match(
            (await theViolation(gpuPoolGpuLimit, [open])).message,
            /without a bound: spec\.limits sets no limit on cpu, memory or nvidia\.com\/gpu/,
        );
    });

    it("passes a CPU NodePool that rules GPUs out", async () => {
        const cpu = nodePool({
            template: template([
                { key: "karpenter.k8s.aws/instance-gpu-count", operator: "DoesNotExist" },
                { key: "karpenter.k8s.aws/instance-category", operator: "In", values: ["c", "m", "r"] },
            ]),
            limits: { cpu: "1000" },
        });
        assert.deepStrictEqual(await refusals([cpu]), []);
        assert.deepStrictEqual(await violationsOf(gpuPoolGpuLimit, [cpu]), []);
    });

    it("passes a pool of allowed types and prices it at its limit plus one node: floor(16 / 8) + 1 = 3 × $21.957642 × 730 = $48,087.24", async () => {
        const ok = nodePool({
            template: template([{ key: "node.kubernetes.io/instance-type", operator: "In", values: ["p4d.24xlarge"] }]),
            limits: { "nvidia.com/gpu": 16 },
        });
        assert.deepStrictEqual(await refusals([ok]), []);
        assert.deepStrictEqual(monthlyMax([ok]), [48087.24]);
        assert.deepStrictEqual(await violationsOf(gpuPoolGpuLimit, [ok]), []);
    });

    it("refuses a category that holds GPU families, written in a yaml/v2 ConfigGroup", async () => {
        const yaml = `apiVersion: karpenter.sh/v1
kind: NodePool
metadata: { name: accel }
spec:
  limits: { cpu: "400" }
  template:
    spec:
      requirements:
        - { key: karpenter.k8s.aws/instance-category, operator: In, values: [g] }
`;
        const group = resource("kubernetes:yaml/v2:ConfigGroup", "pools", { yaml });
        assert.match(
            (await refusals([group]))[0],
            /^Karpenter ConfigGroup "pools": NodePool "accel" chooses instance types .* may launch g5\.12xlarge, g6e\.xlarge and GPU types the catalog/,
        );
    });
});
