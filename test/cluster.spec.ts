/**
 * The cluster's own pieces: the VPC CNI with its own role, the managed add-ons, what node groups
 * wait for, ARNs in the region's partition, and who may reach and administer the API.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { PROJECT, REPO_ROOT, configProblems, named, ofType, record, stackConfig, validStackConfig } from "./harness";
import { DEPLOY_RUNNER_DEFAULTS, deployRunnerProblems, runnerFilterGroups } from "../components/cluster";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { buildPlatform } from "../platform";
import { validatePlatformConfig } from "../stacks";

const ADDON = "aws:eks/addon:Addon";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";

describe("cluster (prod config)", () => {
    let resources: RecordedResource[];
    before(async () => {
        ({ resources } = await record(() => buildPlatform(validStackConfig("prod"))));
    });

    it("runs the VPC CNI as a managed add-on with its own IRSA role, and takes the CNI policy off the node role", () => {
        const cluster = named(resources, "eks:index:Cluster", "gpu-platform-prod-eks").inputs as any;
        // true: pulumi-eks creates no vpc-cni add-on of its own (cluster.ts l.1091-1092, v4.3.0).
        assert.strictEqual(cluster.useDefaultVpcCni, true);
        assert.strictEqual(cluster.vpcCniOptions, undefined);
        const cni = named(resources, ADDON, "gpu-platform-prod-vpc-cni");
        const role = named(resources, "aws:iam/role:Role", "gpu-platform-prod-vpc-cni-role");
        assert.strictEqual((cni.inputs as any).serviceAccountRoleArn, role.outputs.arn);
        const trust = JSON.parse(role.inputs.assumeRolePolicy as string).Statement[0].Condition.StringEquals;
        assert.strictEqual(
            trust["oidc.eks.us-east-1.amazonaws.com/id/PLACEHOLDER:sub"],
            "system:serviceaccount:kube-system:aws-node",
        );
        assert.strictEqual(
            named(resources, ATTACHMENT, "gpu-platform-prod-vpc-cni-managed-0").inputs.policyArn,
            "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        );
        const nodePolicies = ofType(resources, ATTACHMENT)
            .filter((a) => a.name.startsWith("gpu-platform-prod-node-"))
            .map((a) => a.inputs.policyArn);
        assert.deepStrictEqual(nodePolicies, [
            "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
            "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        ]);
    });

    it("makes every node group wait for its role's policies and the VPC CNI, so nodes never boot without them nor outlive them on destroy", () => {
        const waitedFor = [
            ...ofType(resources, ATTACHMENT).filter((a) => a.name.startsWith("gpu-platform-prod-node-")),
            named(resources, ADDON, "gpu-platform-prod-vpc-cni"),
        ].map((r) => r.urn);
        assert.strictEqual(waitedFor.length, 4);
        for (const group of ofType(resources, "aws:eks/nodeGroup:NodeGroup")) {
            for (const urn of waitedFor)
                assert.ok(group.dependencies.includes(urn), `${group.name} waits for ${urn.split("::").pop()}`);
        }
    });

    it("makes CoreDNS an EKS managed add-on, adopting the copy EKS installed, after the CPU pool it runs on", () => {
        const coreDns = named(resources, ADDON, "gpu-platform-prod-addons-coredns").inputs as any;
        assert.deepStrictEqual([coreDns.addonName, coreDns.resolveConflictsOnCreate], ["coredns", "OVERWRITE"]);
        const addons = named(resources, "gpu-platform:cluster:ClusterAddons", "gpu-platform-prod-addons");
        assert.ok(addons.dependencies.includes(named(resources, "aws:eks/nodeGroup:NodeGroup", "system-group").urn));
    });

    it("admits the deploy runner's security group to the API on 443, on the security group of the control plane's interfaces", () => {
        const runnerSg = named(resources, "aws:ec2/securityGroup:SecurityGroup", "gpu-platform-prod-deploy-runner-sg");
        // The fake cloud names a security group sg-<name>-placeholder; pulumi-eks's cluster group is sg-cluster-placeholder.
        const rule = named(resources, RULE, "gpu-platform-prod-api-from-sg-0").inputs as any;
        assert.deepStrictEqual(
            [rule.type, rule.protocol, rule.fromPort, rule.toPort, rule.sourceSecurityGroupId, rule.securityGroupId],
            ["ingress", "tcp", 443, 443, "sg-gpu-platform-prod-deploy-runner-sg-placeholder", "sg-cluster-placeholder"],
        );
        assert.deepStrictEqual(runnerSg.inputs.ingress, undefined, "nothing reaches the runner");
    });

    it("runs the deploy runner in the private subnets as a CodeBuild-hosted GitHub Actions runner whose role only writes logs and places its interfaces", () => {
        const project = named(resources, "aws:codebuild/project:Project", "gpu-platform-prod-deploy-runner-project")
            .inputs as any;
        assert.strictEqual(project.name, "gpu-platform-prod-deploy-runner");
        assert.deepStrictEqual(project.source, {
            type: "GITHUB",
            location: "https://github.com/acme/gpu-platform.git",
        });
        assert.deepStrictEqual(project.vpcConfig.subnets, [
            "subnet-private-gpu-platform-prod-vpc-1-placeholder",
            "subnet-private-gpu-platform-prod-vpc-2-placeholder",
            "subnet-private-gpu-platform-prod-vpc-3-placeholder",
        ]);
        const webhook = named(resources, "aws:codebuild/webhook:Webhook", "gpu-platform-prod-deploy-runner-webhook")
            .inputs as any;
        // Jobs of this repository's deploy and preview workflows only (.github/workflows: name: deploy, name: preview).
        assert.deepStrictEqual(webhook.filterGroups, [
            {
                filters: [
                    { type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" },
                    { type: "WORKFLOW_NAME", pattern: "^(deploy|preview)$" },
                ],
            },
        ]);
        const statements = JSON.parse(
            named(resources, "aws:iam/rolePolicy:RolePolicy", "gpu-platform-prod-deploy-runner-policy").inputs
                .policy as string,
        ).Statement;
        assert.deepStrictEqual(
            statements.map((s: any) => s.Sid),
            ["WriteLogs", "ManageNetworkInterfaces", "AttachInterfacesInItsSubnets"],
        );
        // The account is the caller's (an output), resolved into each ARN, never its "Calling [toString]" text.
        assert.deepStrictEqual(
            statements.find((s: any) => s.Sid === "AttachInterfacesInItsSubnets").Condition.ArnEquals["ec2:Subnet"],
            [1, 2, 3].map(
                (i) =>
                    `arn:aws:ec2:us-east-1:123456789012:subnet/subnet-private-gpu-platform-prod-vpc-${i}-placeholder`,
            ),
        );
        assert.ok(
            statements.flatMap((s: any) => s.Action).every((a: string) => /^(logs|ec2):/.test(a)),
            "no deploy permissions: jobs bring their own through OIDC",
        );
        assert.ok(
            ofType(resources, ATTACHMENT).every((a) => !a.name.includes("deploy-runner")),
            "and no managed policy",
        );
    });

    it("leaves the creator role to EKS: the access entries are the other admins", () => {
        const cluster = named(resources, "eks:index:Cluster", "gpu-platform-prod-eks").inputs as any;
        const principals = Object.values(cluster.accessEntries).map((e: any) => e.principalArn);
        assert.ok(!principals.includes("arn:aws:iam::123456789012:role/platform-deployer"));
        // Two admins and the preview role (Pulumi.prod.yaml).
        assert.strictEqual(principals.length, 3);
    });
});

describe("bootstrap: the first prod deploy, from outside the VPC", () => {
    it("creates what the AWS API makes and nothing that needs the Kubernetes API", async () => {
        const config = { ...validStackConfig("prod"), bootstrap: true };
        const { resources } = await record(() => buildPlatform(config));
        assert.deepStrictEqual(
            resources.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.name),
            [],
        );
        // The way in for the second run, and what it needs to find: cluster, pools, add-ons.
        for (const [type, name] of [
            ["aws:codebuild/project:Project", "gpu-platform-prod-deploy-runner-project"],
            [RULE, "gpu-platform-prod-api-from-sg-0"],
            ["aws:eks/nodeGroup:NodeGroup", "h100-group"],
            [ADDON, "gpu-platform-prod-addons-coredns"],
            [ADDON, "gpu-platform-prod-vpc-cni"],
        ]) {
            named(resources, type, name);
        }
        // Team access entries wait for the full run with their namespaces.
        assert.deepStrictEqual(ofType(resources, "aws:eks/accessEntry:AccessEntry"), []);
    });

    it("is a config key", () => {
        assert.deepStrictEqual(
            configProblems("prod", (raw) => (raw.bootstrap = true)),
            [],
        );
        assert.strictEqual(
            validatePlatformConfig({ ...stackConfig("prod"), bootstrap: true }, PROJECT, "prod").config?.bootstrap,
            true,
        );
    });
});

describe("access config", () => {
    it("refuses the creator role among the admins or as a team's role, naming the key: EKS already gave it an access entry", () => {
        const deployer = "arn:aws:iam::123456789012:role/platform-deployer";
        assert.deepStrictEqual(
            configProblems("prod", (raw) => {
                raw.cluster.adminRoleArns.push(deployer);
                // The same role with a path is the same principal to EKS.
                raw.teams[2].iamRoleArn = "arn:aws:iam::123456789012:role/ci/platform-deployer";
            }),
            [
                "cluster.adminRoleArns[2]: is cluster.creatorRoleArn, which EKS already made cluster admin when it created the cluster (pulumi-eks 4.3.0 always sets " +
                    "bootstrapClusterCreatorAdminPermissions, pulumi/pulumi-eks#2373); a second access entry fails with 409: remove it here",
                "teams[2].iamRoleArn: is cluster.creatorRoleArn, which EKS already made cluster admin (pulumi-eks 4.3.0 always sets bootstrapClusterCreatorAdminPermissions); " +
                    "the team's access entry would be a second one for the role, which fails with 409: give the team its own role",
            ],
        );
    });

    it("requires the creator role wherever an access entry could repeat it", () => {
        assert.deepStrictEqual(
            configProblems("prod", (raw) => delete raw.cluster.creatorRoleArn),
            [
                "cluster.creatorRoleArn: is required with adminRoleArns, previewRoleArns or a team's iamRoleArn: name the IAM role that runs the first pulumi up, " +
                    "which EKS makes cluster admin itself, so that no access entry lists it again (a second entry for a role fails with 409)",
            ],
        );
    });

    it("refuses a private endpoint that nothing can reach, and an API open to the world", () => {
        assert.deepStrictEqual(
            configProblems("prod", (raw) => delete raw.cluster.deployRunner),
            [
                "cluster.deployRunner: is required with a private API endpoint: nothing outside the VPC can reach it, so pulumi up could not create the cluster's " +
                    "Kubernetes objects; set deployRunner.repository (a GitHub Actions runner in the VPC), or apiAccess for a VPN or bastion",
            ],
        );
        assert.deepStrictEqual(
            configProblems("prod", (raw) => {
                delete raw.cluster.deployRunner;
                raw.cluster.apiAccess = { cidrs: ["10.100.0.0/16", "0.0.0.0/0"] };
            }),
            ["cluster.apiAccess.cidrs[1]: is 0.0.0.0/0, the whole internet; list the networks of your runners and VPN"],
        );
        assert.deepStrictEqual(
            configProblems("prod", (raw) => (raw.cluster.deployRunner.repository = "gpu-platform")),
            [
                'cluster.deployRunner.repository: is "gpu-platform"; name the GitHub repository as owner/name, e.g. acme/gpu-platform',
            ],
        );
    });

    it("admits a VPN's CIDRs with one rule", async () => {
        const config = validStackConfig("prod");
        const { resources } = await record(() =>
            buildPlatform({ ...config, cluster: { ...config.cluster, apiAccess: { cidrs: ["10.100.0.0/16"] } } }),
        );
        const rule = named(resources, RULE, "gpu-platform-prod-api-from-cidrs").inputs as any;
        assert.deepStrictEqual(
            [rule.fromPort, rule.cidrBlocks, rule.securityGroupId],
            [443, ["10.100.0.0/16"], "sg-cluster-placeholder"],
        );
    });
});

describe("partitions", () => {
    it("writes every AWS-managed and EKS access-policy ARN in GovCloud's partition for a GovCloud stack", async () => {
        const config = validStackConfig("prod");
        const { resources } = await record(() => buildPlatform({ ...config, region: "us-gov-west-1" }));
        const attachments = ofType(resources, ATTACHMENT).map((a) => a.inputs.policyArn as string);
        // Node role (3), VPC CNI, EBS CSI driver.
        assert.strictEqual(attachments.length, 5);
        for (const arn of attachments) assert.match(arn, /^arn:aws-us-gov:iam::aws:policy\//);
        const cluster = named(resources, "eks:index:Cluster", "gpu-platform-prod-eks").inputs as any;
        for (const entry of Object.values<any>(cluster.accessEntries)) {
            for (const policy of Object.values<any>(entry.accessPolicies))
                assert.match(
                    policy.policyArn,
                    /^arn:aws-us-gov:eks::aws:cluster-access-policy\/AmazonEKS(ClusterAdmin|View)Policy$/,
                );
        }
        for (const association of ofType(resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")) {
            assert.strictEqual(
                association.inputs.policyArn,
                "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
            );
        }
        const autoscaler = JSON.parse(
            named(resources, "aws:iam/rolePolicy:RolePolicy", "gpu-platform-prod-autoscaler-irsa-policy").inputs
                .policy as string,
        );
        for (const arn of autoscaler.Statement[0].Resource)
            assert.match(arn, /^arn:aws-us-gov:autoscaling:us-gov-west-1:/);
    });
});

describe("deploy runner: which jobs it takes", () => {
    const workflowName = (file: string) =>
        /^name:\s*(\S+)\s*$/m.exec(fs.readFileSync(path.join(REPO_ROOT, ".github", "workflows", file), "utf8"))![1];

    it("matches exactly the named workflows of this repository that run on it, and no other", () => {
        const [group] = runnerFilterGroups(DEPLOY_RUNNER_DEFAULTS.workflows);
        const pattern = new RegExp(group.filters.find((f) => f.type === "WORKFLOW_NAME")!.pattern);
        // The workflows whose jobs name the runner's label (deploy.yml, preview.yml's prod matrix entry).
        for (const file of ["deploy.yml", "preview.yml"]) assert.ok(pattern.test(workflowName(file)), file);
        for (const other of [workflowName("cost-tracker-image.yml"), "deploy-evil", "my deploy", "Deploy", ""])
            assert.ok(!pattern.test(other), other);
    });

    it("takes a workflow name literally: regular expression characters in it match only themselves", () => {
        const [group] = runnerFilterGroups(["deploy (prod)", "a.b"]);
        const pattern = new RegExp(group.filters[1].pattern);
        assert.ok(pattern.test("deploy (prod)") && pattern.test("a.b"));
        assert.ok(!pattern.test("deploy prod") && !pattern.test("axb"));
    });

    it("takes jobs only from the named GitHub accounts when given (ACTOR_ACCOUNT_ID: the payload's sender.id), else from any", () => {
        const [any] = runnerFilterGroups(["deploy"]);
        assert.deepStrictEqual(
            any.filters.map((f) => f.type),
            ["EVENT", "WORKFLOW_NAME"],
        );
        const [some] = runnerFilterGroups(["deploy"], ["583231", "41898282"]);
        const actor = new RegExp(some.filters.find((f) => f.type === "ACTOR_ACCOUNT_ID")!.pattern);
        assert.ok(actor.test("583231") && actor.test("41898282"));
        assert.ok(!actor.test("5832310") && !actor.test("1583231") && !actor.test("9"));
    });

    it("refuses an account that is not a numeric GitHub ID, naming the key", () => {
        assert.deepStrictEqual(
            deployRunnerProblems("cluster.deployRunner.", {
                repository: "acme/gpu-platform",
                actorAccountIds: ["583231", "octocat"],
            }).map((p) => `${p.key}: ${p.message}`),
            [
                'cluster.deployRunner.actorAccountIds[1]: is "octocat"; give the account\'s numeric GitHub ID (GET https://api.github.com/users/<login>, field id)',
            ],
        );
    });

    it("refuses an empty list of workflows, naming the key, before creating anything", () => {
        assert.deepStrictEqual(
            deployRunnerProblems("cluster.deployRunner.", { repository: "acme/gpu-platform", workflows: [] }).map(
                (p) => p.key,
            ),
            ["cluster.deployRunner.workflows"],
        );
    });
});
