import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { REPO_ROOT, named, ofType, record, stackConfig, validStackConfig } from "./harness";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { FAKE_CREDENTIALS } from "@gpu-platform/offline/fake-cloud";
import { maskSecrets } from "gpu-dev-platform-policies/lib/wire";
import { AWS_TAGGABLE_TYPES } from "gpu-dev-platform-policies/lib/aws-taggable-types";
import { parsePackConfig, runPolicies } from "gpu-dev-platform-policies/runner";
import { buildPlatform } from "../platform";
import { validatePlatformConfig } from "../stacks";
import {
    ClusterCostData,
    ContainerImage,
    CostTracker,
    CostTrackerArgs,
    PostgresDatabase,
    buildContextHash,
    contextFiles,
    contextTag,
    ecrRepositoryArn,
    prometheusSizing,
} from "../components/costs";
import { costTrackerArgsProblems } from "../components/costs/cost-tracker";

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const RELEASE = "kubernetes:helm.sh/v3:Release";
/** Security group ids as the fake cloud gives them: sg-<name>-placeholder; the EKS-made cluster group, and the control plane's extra one. */
const SG = {
    alb: "sg-cost-tracker-alb-sg-placeholder",
    tasks: "sg-cost-tracker-tasks-sg-placeholder",
    db: "sg-cost-tracker-db-sg-placeholder",
    nodes: "sg-eks-cluster-placeholder",
    clusterApi: "sg-cluster-placeholder",
};

const policyOf = (resources: RecordedResource[], name: string) =>
    JSON.parse(named(resources, ROLE_POLICY, name).inputs.policy as string);
const containerOf = (resources: RecordedResource[], task = "cost-tracker-task") =>
    JSON.parse(
        named(resources, "aws:ecs/taskDefinition:TaskDefinition", task).inputs.containerDefinitions as string,
    )[0];

/**
 * Who may open a TCP connection to `port` of group `to`: each source (a group id or a CIDR) an
 * ingress rule of `to` admits on that port, kept only if the source group's egress allows it
 * too (a group of this stack has the egress rules it declares and no other: the AWS provider
 * removes the default allow-all). Groups outside the stack (the cluster's) keep AWS's default egress.
 */
function admittedTo(resources: RecordedResource[], to: string, port: number): string[] {
    const covers = (r: RecordedResource) =>
        (r.inputs.fromPort as number) <= port && port <= (r.inputs.toPort as number);
    const ownGroups = new Set(
        ofType(resources, "aws:ec2/securityGroup:SecurityGroup").map((g) => `sg-${g.name}-placeholder`),
    );
    const egressAllows = (from: string) =>
        !ownGroups.has(from) ||
        ofType(resources, EGRESS).some(
            (e) =>
                e.inputs.securityGroupId === from &&
                covers(e) &&
                (e.inputs.referencedSecurityGroupId === to || e.inputs.cidrIpv4 === "0.0.0.0/0"),
        );
    // Both rule types: the cluster's API group takes aws.ec2.SecurityGroupRule only, as pulumi-eks's own rules there.
    const rules = [
        ...ofType(resources, INGRESS),
        ...ofType(resources, "aws:ec2/securityGroupRule:SecurityGroupRule").filter((r) => r.inputs.type === "ingress"),
    ];
    return rules
        .filter((r) => r.inputs.securityGroupId === to && covers(r))
        .map(
            (r) =>
                (r.inputs.referencedSecurityGroupId ?? r.inputs.sourceSecurityGroupId ?? r.inputs.cidrIpv4) as string,
        )
        .filter((source) => !source.startsWith("sg-") || egressAllows(source))
        .sort();
}

/** Each stack's platform, built once for this file's specs (one at a time: the recording is shared). */
const platforms: Partial<Record<"dev" | "prod", RecordedResource[]>> = {};
async function platform(stack: "dev" | "prod"): Promise<RecordedResource[]> {
    platforms[stack] ??= (await record(() => buildPlatform(validStackConfig(stack)))).resources;
    return platforms[stack];
}

/** The callers' token secrets of the prod stack: the gate's and the portal's, then each team's where its SecretStore reads. */
const CALLER_SECRET_ARNS = [
    `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:cost-tracker-platform-token-AbCdEf`,
    `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:cost-tracker-portal-token-AbCdEf`,
    ...["ml-research", "inference", "applied-ml"].map(
        (team) =>
            `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:gpu-platform-prod/teams/${team}/cost-tracker-token-AbCdEf`,
    ),
];

describe("cost tracker (prod config)", () => {
    let resources: RecordedResource[];
    before(async () => {
        resources = await platform("prod");
    });

    describe("least privilege, statement by statement", () => {
        it("the execution role pulls from its own repository, writes its own log group and reads its own secrets (the token, the database password), nothing more", () => {
            assert.deepStrictEqual(policyOf(resources, "cost-tracker-execution-policy").Statement, [
                {
                    Sid: "PullImage",
                    Effect: "Allow",
                    Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    Resource: [`arn:aws:ecr:${REGION}:${ACCOUNT}:repository/cost-tracker-image-repo`],
                },
                // ECR's login has no resource-level permission (ECR's IAM reference); the token opens only what the statement above allows.
                {
                    Sid: "EcrLoginHasNoResourceLevelPermissions",
                    Effect: "Allow",
                    Action: ["ecr:GetAuthorizationToken"],
                    Resource: "*",
                },
                {
                    Sid: "WriteLogs",
                    Effect: "Allow",
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                    Resource: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:cost-tracker-logs:log-stream:*`],
                },
                {
                    Sid: "ReadOwnSecrets",
                    Effect: "Allow",
                    Action: ["secretsmanager:GetSecretValue"],
                    Resource: [
                        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:cost-tracker-api-token-AbCdEf`,
                        ...CALLER_SECRET_ARNS,
                        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-cost-tracker-db-instance-placeholder-AbCdEf`,
                        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:cost-tracker-database-user-AbCdEf`,
                    ],
                },
            ]);
        });

        it("the task role reads Cost Explorer and the pipelines' queue metrics (no resource-level permissions: the two wildcards) and publishes to its own topic", () => {
            assert.deepStrictEqual(policyOf(resources, "cost-tracker-task-policy").Statement, [
                // The prod stack runs an inference pipeline: its cost per input reads its queue's deleted messages.
                {
                    Sid: "CloudWatchGetMetricDataHasNoResourceLevelPermissions",
                    Effect: "Allow",
                    Action: ["cloudwatch:GetMetricData"],
                    Resource: "*",
                },
                {
                    Sid: "CostExplorerHasNoResourceLevelPermissions",
                    Effect: "Allow",
                    Action: ["ce:GetCostAndUsage"],
                    Resource: "*",
                },
                {
                    Sid: "PublishAlerts",
                    Effect: "Allow",
                    Action: ["sns:Publish"],
                    Resource: [`arn:aws:sns:${REGION}:${ACCOUNT}:cost-tracker-alerts`],
                },
            ]);
        });

        it("both roles trust only this account's ECS tasks, and carry no other policy", () => {
            for (const role of ["cost-tracker-execution-role", "cost-tracker-task-role"]) {
                const trust = JSON.parse(named(resources, "aws:iam/role:Role", role).inputs.assumeRolePolicy as string);
                assert.deepStrictEqual(trust.Statement, [
                    {
                        Effect: "Allow",
                        Principal: { Service: "ecs-tasks.amazonaws.com" },
                        Action: "sts:AssumeRole",
                        Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
                    },
                ]);
            }
            const tracker = named(resources, "gpu-platform:costs:CostTracker", "cost-tracker").urn;
            const attached = [
                ...ofType(resources, ROLE_POLICY),
                ...ofType(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"),
            ].filter((r) => r.parent === tracker);
            assert.deepStrictEqual(attached.map((r) => r.name).sort(), [
                "cost-tracker-execution-policy",
                "cost-tracker-task-policy",
            ]);
        });

        it("in the cluster, the task role is mapped to a group that may only GET the two services' proxies", () => {
            const entry = named(resources, "aws:eks/accessEntry:AccessEntry", "cost-tracker-cluster-access").inputs;
            assert.deepStrictEqual(entry, {
                clusterName: "gpu-platform-prod",
                principalArn: `arn:aws:iam::${ACCOUNT}:role/cost-tracker-task-role`,
                kubernetesGroups: ["gpu-platform:cost-data-readers"],
                type: "STANDARD",
            });
            assert.strictEqual(
                ofType(resources, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").filter((r) =>
                    r.name.startsWith("cost-tracker"),
                ).length,
                0,
                "no EKS access policy",
            );
            // The budget gate's Lease role is its own (test/budget-gate.spec.ts).
            const roles = ofType(resources, "kubernetes:rbac.authorization.k8s.io/v1:Role")
                .filter((r) => !r.name.startsWith("gpu-platform-prod-budget-gate-"))
                .map((r) => [(r.inputs.metadata as any).namespace, r.inputs.rules]);
            assert.deepStrictEqual(roles.sort(), [
                [
                    "opencost",
                    [
                        {
                            apiGroups: [""],
                            resources: ["services/proxy"],
                            resourceNames: ["http:opencost:9003"],
                            verbs: ["get"],
                        },
                    ],
                ],
                [
                    "prometheus",
                    [
                        {
                            apiGroups: [""],
                            resources: ["services/proxy"],
                            resourceNames: ["http:prometheus-server:80"],
                            verbs: ["get"],
                        },
                    ],
                ],
            ]);
            for (const binding of ofType(resources, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").filter(
                (r) => !r.name.startsWith("gpu-platform-prod-budget-gate-"),
            )) {
                assert.deepStrictEqual(binding.inputs.subjects, [
                    { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "gpu-platform:cost-data-readers" },
                ]);
            }
        });
    });

    describe("who can reach what", () => {
        it("the database admits the tasks and no one else", () => {
            assert.deepStrictEqual(admittedTo(resources, SG.db, 5432), [SG.tasks]);
            assert.deepStrictEqual(
                named(resources, "aws:rds/instance:Instance", "cost-tracker-db-instance").inputs.vpcSecurityGroupIds,
                [SG.db],
            );
            for (const other of [SG.alb, SG.nodes, SG.clusterApi])
                assert.ok(!admittedTo(resources, SG.db, 5432).includes(other), `${other} cannot reach the database`);
        });

        it("the tasks admit only the load balancer, on the container's port", () => {
            assert.deepStrictEqual(admittedTo(resources, SG.tasks, 8080), [SG.alb]);
            for (const port of [22, 443, 5432])
                assert.deepStrictEqual(admittedTo(resources, SG.tasks, port), [], `port ${port}`);
        });

        it("the load balancer admits the cluster's nodes on HTTP (no certificate in prod's config), and nothing from the internet", () => {
            assert.deepStrictEqual(admittedTo(resources, SG.alb, 80), [SG.nodes]);
            assert.deepStrictEqual(admittedTo(resources, SG.alb, 443), []);
            assert.ok(!ofType(resources, INGRESS).some((r) => r.inputs.cidrIpv4 === "0.0.0.0/0"));
        });

        it("the tasks reach the cluster's API on 443, and the database; the load balancer reaches only the tasks", () => {
            assert.deepStrictEqual(admittedTo(resources, SG.clusterApi, 443), [SG.tasks]);
            const egress = (group: string) =>
                ofType(resources, EGRESS)
                    .filter((e) => e.inputs.securityGroupId === group)
                    .map((e) => [e.inputs.referencedSecurityGroupId ?? e.inputs.cidrIpv4, e.inputs.fromPort]);
            assert.deepStrictEqual(egress(SG.alb), [[SG.tasks, 8080]]);
            assert.deepStrictEqual(egress(SG.tasks).sort(), [
                ["0.0.0.0/0", 443],
                [SG.db, 5432],
            ]);
            assert.deepStrictEqual(egress(SG.db), [], "the database starts no connection");
        });

        it("runs the tasks in the private subnets without public IPs, behind an internal load balancer", () => {
            const network = named(resources, "aws:ecs/service:Service", "cost-tracker-service").inputs
                .networkConfiguration as any;
            assert.deepStrictEqual(network.assignPublicIp, false);
            assert.deepStrictEqual(network.subnets, [
                "subnet-private-gpu-platform-prod-vpc-1-placeholder",
                "subnet-private-gpu-platform-prod-vpc-2-placeholder",
                "subnet-private-gpu-platform-prod-vpc-3-placeholder",
            ]);
            assert.strictEqual(
                named(resources, "aws:lb/loadBalancer:LoadBalancer", "cost-tracker-alb").inputs.internal,
                true,
            );
        });
    });

    describe("budget tags", () => {
        it("every taggable AWS resource of the cost tracker carries them through the provider, and is checked for them", async () => {
            const tracker = named(resources, "gpu-platform:costs:CostTracker", "cost-tracker").urn;
            const within = (r: RecordedResource): boolean =>
                r.urn === tracker || (r.parent !== null && within(resources.find((p) => p.urn === r.parent)!));
            const taggable = resources
                .filter((r) => within(r) && AWS_TAGGABLE_TYPES.includes(r.type))
                .map((r) => r.urn);
            assert.ok(taggable.length >= 25, `${taggable.length} taggable resources`);
            const config = parsePackConfig(
                JSON.stringify({
                    all: "disabled",
                    "budget-tags": { enforcementLevel: "mandatory", allowedEnvironments: ["prod"] },
                }),
                "spec",
            );
            assert.deepStrictEqual(await runPolicies(resources, config), []);
            // Without the provider's default tags (and the tagsAll the fake cloud merged from them), each is reported: checked, not passed over.
            const untagged = resources.map((r) =>
                r.type === "pulumi:providers:aws"
                    ? { ...r, inputs: { ...r.inputs, defaultTags: undefined } }
                    : { ...r, outputs: { ...r.outputs, tagsAll: undefined } },
            );
            const reported = new Set((await runPolicies(untagged, config)).map((v) => v.urn));
            assert.deepStrictEqual(
                taggable.filter((urn) => !reported.has(urn)),
                [],
            );
        });
    });

    describe("secrets", () => {
        it("no credential is in any recorded input in plain text: the token and the registry password are secrets", () => {
            const visible = JSON.stringify(resources.map((r) => maskSecrets(r.inputs)));
            for (const credential of Object.values(FAKE_CREDENTIALS))
                assert.ok(!visible.includes(credential), `${credential} visible`);
            const token = named(
                resources,
                "aws:secretsmanager/secretVersion:SecretVersion",
                "cost-tracker-api-token-value",
            ).inputs;
            assert.deepStrictEqual(maskSecrets(token), {
                secretId: "cost-tracker-api-token-placeholder-id",
                secretStringWo: "[secret]",
                secretStringWoVersion: 1,
            });
        });

        it("gives every caller a token of its own: each team's where its SecretStore reads, kept 30 days in prod", () => {
            const secrets = resources.filter((r) => r.type === "aws:secretsmanager/secret:Secret");
            const team = named(resources, "aws:secretsmanager/secret:Secret", "cost-tracker-team-inference-token");
            // Secrets Manager's default recovery window (30 days) where prod keeps its data.
            assert.deepStrictEqual(
                [team.inputs.name, team.inputs.recoveryWindowInDays, team.retainOnDelete],
                ["gpu-platform-prod/teams/inference/cost-tracker-token", undefined, true],
            );
            assert.deepStrictEqual(
                secrets
                    .map((r) => r.name)
                    .filter((n) => /-(platform|portal|team-[a-z-]+)-token$/.test(n))
                    .sort(),
                [
                    "cost-tracker-platform-token",
                    "cost-tracker-portal-token",
                    "cost-tracker-team-applied-ml-token",
                    "cost-tracker-team-inference-token",
                    "cost-tracker-team-ml-research-token",
                ],
            );
            const value = named(
                resources,
                "aws:secretsmanager/secretVersion:SecretVersion",
                "cost-tracker-portal-token-value",
            ).inputs;
            // A secret, write-only: the JSON the service reads ({"current": …}) never in a plain input.
            assert.deepStrictEqual(
                [(maskSecrets(value) as Record<string, unknown>).secretStringWo, value.secretString],
                ["[secret]", undefined],
            );
        });

        it("the container gets its credentials through ECS secrets, and its environment holds none", () => {
            const container = containerOf(resources);
            assert.deepStrictEqual(container.secrets, [
                {
                    name: "COST_TRACKER_API_TOKEN",
                    valueFrom: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:cost-tracker-api-token-AbCdEf`,
                },
                // One per caller: the gate, the portal, each team of Pulumi.prod.yaml (its name upper-cased, "-" as "_").
                ...["PLATFORM", "PORTAL", "TEAM_ML_RESEARCH", "TEAM_INFERENCE", "TEAM_APPLIED_ML"].map((caller, i) => ({
                    name: `COST_TRACKER_TOKEN_${caller}`,
                    valueFrom: CALLER_SECRET_ARNS[i],
                })),
                // The JSON key "password" of its own user's secret, not the master's that RDS rotates.
                {
                    name: "DATABASE_PASSWORD",
                    valueFrom: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:cost-tracker-database-user-AbCdEf:password::`,
                },
            ]);
            const env = Object.fromEntries(
                container.environment.map((e: { name: string; value: string }) => [e.name, e.value]),
            );
            assert.deepStrictEqual(Object.keys(env), ["PORT", "DATABASE_URL", "COST_TRACKER_CONFIG_JSON"]);
            assert.strictEqual(
                env.DATABASE_URL,
                "postgres://cost_tracker@cost-tracker-db-instance.placeholder.us-east-1.rds.amazonaws.com:5432/costtracker?sslmode=verify-full",
            );
            assert.strictEqual(
                named(resources, "aws:rds/instance:Instance", "cost-tracker-db-instance").inputs
                    .manageMasterUserPassword,
                true,
            );
            assert.strictEqual(
                named(resources, "aws:rds/instance:Instance", "cost-tracker-db-instance").inputs.password,
                undefined,
            );
        });

        it("hands the service the config document: the stack's teams and GPU pools, the alert topic, the sources through the API server", () => {
            const env = Object.fromEntries(
                containerOf(resources).environment.map((e: { name: string; value: string }) => [e.name, e.value]),
            );
            const doc = JSON.parse(env.COST_TRACKER_CONFIG_JSON);
            assert.deepStrictEqual(
                doc.teams.map((t: any) => [t.name, t.monthlyBudgetUsd]),
                [
                    ["ml-research", 120000],
                    ["inference", 80000],
                    ["applied-ml", 40000],
                ],
            );
            assert.deepStrictEqual(
                doc.pools.map((p: any) => p.name),
                ["a100-shared", "a100-mig", "h100"],
            );
            assert.deepStrictEqual(doc.criticalPriorityClasses, ["production-inference"]);
            // Pulumi.prod.yaml's pipeline, its worker as InferencePipeline names it and its queue as the stack made it.
            assert.deepStrictEqual(doc.sources.pipelineInputs, {
                region: REGION,
                pipelines: [
                    {
                        name: "batch-embeddings",
                        team: "inference",
                        namespace: "inference",
                        worker: "batch-embeddings-worker",
                        // The queue's own name output (the offline cloud's; a real stack's has Pulumi's random suffix), never one guessed from config.
                        queueName: "batch-embeddings-queue",
                    },
                ],
            });
            assert.strictEqual(doc.alerts.snsTopicArn, `arn:aws:sns:${REGION}:${ACCOUNT}:cost-tracker-alerts`);
            const api = "https://PLACEHOLDER.gr7.us-east-1.eks.amazonaws.com";
            assert.deepStrictEqual(doc.sources.kubernetesApi, {
                server: api,
                certificateAuthorityData: "UExBQ0VIT0xERVI=",
                clusterName: "gpu-platform-prod",
                region: REGION,
            });
            assert.strictEqual(
                doc.sources.opencost.url,
                `${api}/api/v1/namespaces/opencost/services/http:opencost:9003/proxy`,
            );
            assert.strictEqual(
                doc.sources.prometheus.url,
                `${api}/api/v1/namespaces/prometheus/services/http:prometheus-server:80/proxy`,
            );
            assert.deepStrictEqual(doc.sources.costExplorer, { region: "us-east-1", tagKey: "team" });
        });
    });
});

describe("cost tracker: dev and prod differ only by config and profile", () => {
    let dev: { resources: RecordedResource[] };
    let prod: { resources: RecordedResource[] };
    before(async () => {
        dev = { resources: await platform("dev") };
        prod = { resources: await platform("prod") };
    });
    const input = (r: RecordedResource[], type: string, name: string, key: string) => named(r, type, name).inputs[key];

    it("prod runs two tasks (in three zones' subnets) scaling to four; dev one, scaling to two", () => {
        assert.strictEqual(input(dev.resources, "aws:ecs/service:Service", "cost-tracker-service", "desiredCount"), 1);
        assert.strictEqual(input(prod.resources, "aws:ecs/service:Service", "cost-tracker-service", "desiredCount"), 2);
        const scaling = (r: RecordedResource[]) =>
            named(r, "aws:appautoscaling/target:Target", "cost-tracker-scaling").inputs;
        assert.deepStrictEqual([scaling(dev.resources).minCapacity, scaling(dev.resources).maxCapacity], [1, 2]);
        assert.deepStrictEqual([scaling(prod.resources).minCapacity, scaling(prod.resources).maxCapacity], [2, 4]);
    });

    it("prod's database is Multi-AZ, protected, snapshotted on delete and backed up 14 days; dev's is none of these, with 7 days", () => {
        const db = (r: RecordedResource[]) => named(r, "aws:rds/instance:Instance", "cost-tracker-db-instance").inputs;
        const pick = (i: Record<string, unknown>) => [
            i.instanceClass,
            i.multiAz,
            i.deletionProtection,
            i.skipFinalSnapshot,
            i.finalSnapshotIdentifier,
            i.backupRetentionPeriod,
        ];
        assert.deepStrictEqual(pick(db(dev.resources)), ["db.t4g.micro", false, false, true, undefined, 7]);
        assert.deepStrictEqual(pick(db(prod.resources)), [
            "db.t4g.small",
            true,
            true,
            false,
            "cost-tracker-db-final",
            14,
        ]);
        assert.strictEqual(
            named(dev.resources, "aws:rds/instance:Instance", "cost-tracker-db-instance").protect,
            undefined,
        );
        assert.strictEqual(
            named(prod.resources, "aws:rds/instance:Instance", "cost-tracker-db-instance").protect,
            true,
            "pulumi protect in prod",
        );
    });

    it("both: encrypted with its own KMS key, private, TLS forced by the parameter group, PostgreSQL 17 on gp3", () => {
        for (const { resources } of [dev, prod]) {
            const db = named(resources, "aws:rds/instance:Instance", "cost-tracker-db-instance").inputs;
            assert.deepStrictEqual(
                [db.storageEncrypted, db.kmsKeyId, db.publiclyAccessible, db.engine, db.engineVersion, db.storageType],
                [true, `arn:aws:kms:${REGION}:${ACCOUNT}:key/cost-tracker-db-key`, false, "postgres", "17", "gp3"],
            );
            const params = named(resources, "aws:rds/parameterGroup:ParameterGroup", "cost-tracker-db-params").inputs;
            assert.deepStrictEqual(
                [params.family, params.parameters],
                ["postgres17", [{ name: "rds.force_ssl", value: "1" }]],
            );
        }
    });

    it("logs are kept as the stack keeps them (14 days in dev, 90 in prod); the ALB and the repository are protected in prod only", () => {
        assert.strictEqual(
            input(dev.resources, "aws:cloudwatch/logGroup:LogGroup", "cost-tracker-logs", "retentionInDays"),
            14,
        );
        assert.strictEqual(
            input(prod.resources, "aws:cloudwatch/logGroup:LogGroup", "cost-tracker-logs", "retentionInDays"),
            90,
        );
        assert.strictEqual(
            input(dev.resources, "aws:lb/loadBalancer:LoadBalancer", "cost-tracker-alb", "enableDeletionProtection"),
            false,
        );
        assert.strictEqual(
            input(prod.resources, "aws:lb/loadBalancer:LoadBalancer", "cost-tracker-alb", "enableDeletionProtection"),
            true,
        );
        assert.strictEqual(
            input(dev.resources, "aws:ecr/repository:Repository", "cost-tracker-image-repo", "forceDelete"),
            true,
        );
        assert.strictEqual(
            input(prod.resources, "aws:ecr/repository:Repository", "cost-tracker-image-repo", "forceDelete"),
            false,
        );
    });

    it("Prometheus keeps 15 days in dev and 30 in prod, sized for 6 and 22 nodes", () => {
        const server = (r: RecordedResource[], stack: string) =>
            (named(r, RELEASE, `gpu-platform-${stack}-cost-data-prometheus`).inputs.values as any).server;
        assert.deepStrictEqual(
            [server(dev.resources, "dev").retention, server(dev.resources, "dev").resources.requests.memory],
            ["15d", "1024Mi"],
        );
        // 22 nodes × 64 MiB = 1,408 MiB, rounded up to 256 MiB steps.
        assert.deepStrictEqual(
            [server(prod.resources, "prod").retention, server(prod.resources, "prod").resources.requests.memory],
            ["30d", "1536Mi"],
        );
    });

    it("everything else is the same: the same resources, ARM64 Fargate tasks of 0.5 vCPU and 1 GB, a deployment circuit breaker with rollback", () => {
        // Each team has a token of its own, and dev has fewer teams: those differ by config.
        const names = (r: RecordedResource[]) =>
            r
                .filter((x) => x.name.startsWith("cost-tracker") && !x.name.startsWith("cost-tracker-team-"))
                .map((x) => `${x.type} ${x.name}`)
                .sort();
        assert.deepStrictEqual(names(dev.resources), names(prod.resources));
        for (const { resources } of [dev, prod]) {
            const task = named(resources, "aws:ecs/taskDefinition:TaskDefinition", "cost-tracker-task").inputs;
            assert.deepStrictEqual(
                [task.cpu, task.memory, task.networkMode, task.requiresCompatibilities, task.runtimePlatform],
                ["512", "1024", "awsvpc", ["FARGATE"], { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" }],
            );
            const service = named(resources, "aws:ecs/service:Service", "cost-tracker-service").inputs;
            assert.deepStrictEqual(service.deploymentCircuitBreaker, { enable: true, rollback: true });
            assert.deepStrictEqual([service.launchType, service.propagateTags], ["FARGATE", "SERVICE"]);
            const tg = named(resources, "aws:lb/targetGroup:TargetGroup", "cost-tracker-tg").inputs as any;
            assert.deepStrictEqual([tg.targetType, tg.port, tg.healthCheck.path], ["ip", 8080, "/readyz"]);
            const cluster = named(resources, "aws:ecs/cluster:Cluster", "cost-tracker-cluster").inputs;
            assert.deepStrictEqual(cluster.settings, [{ name: "containerInsights", value: "enabled" }]);
            const policy = named(resources, "aws:appautoscaling/policy:Policy", "cost-tracker-cpu-target")
                .inputs as any;
            assert.deepStrictEqual(
                [
                    policy.policyType,
                    policy.targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType,
                ],
                ["TargetTrackingScaling", "ECSServiceAverageCPUUtilization"],
            );
        }
    });
});

describe("CostTracker component", () => {
    const args = (overrides: Partial<CostTrackerArgs> = {}): CostTrackerArgs => ({
        vpcId: "vpc-1",
        privateSubnetIds: ["subnet-a", "subnet-b"],
        budgets: {
            teams: [{ name: "vision", costCenter: "CC-7", monthlyBudgetUsd: 5000 }],
            nodePools: [{ name: "h100", instanceType: "p5.48xlarge", maxSize: 2 }],
        },
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/cost-tracker:1.4.0",
        ...overrides,
    });

    it("with a certificate serves HTTPS with a TLS 1.3 policy and redirects HTTP; the CIDRs it is given reach both ports", async () => {
        const certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/0f8e5a4b-1c2d-4e3f-9a8b-7c6d5e4f3a2b";
        const { resources } = await record(
            () =>
                new CostTracker(
                    "ct",
                    args({ certificateArn, hostName: "cost-tracker.example.com", allowedCidrs: ["10.8.0.0/16"] }),
                ),
        );
        const listeners = Object.fromEntries(
            ofType(resources, "aws:lb/listener:Listener").map((l) => [l.name, l.inputs]),
        );
        assert.deepStrictEqual(Object.keys(listeners).sort(), ["ct-http-redirect", "ct-https"]);
        assert.deepStrictEqual(
            [
                listeners["ct-https"].protocol,
                listeners["ct-https"].port,
                listeners["ct-https"].certificateArn,
                listeners["ct-https"].sslPolicy,
            ],
            ["HTTPS", 443, certificateArn, "ELBSecurityPolicy-TLS13-1-2-2021-06"],
        );
        assert.deepStrictEqual(listeners["ct-http-redirect"].defaultActions, [
            { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
        ]);
        assert.deepStrictEqual(admittedTo(resources, "sg-ct-alb-sg-placeholder", 443), ["10.8.0.0/16"]);
        assert.deepStrictEqual(admittedTo(resources, "sg-ct-alb-sg-placeholder", 80), ["10.8.0.0/16"]);
    });

    it("uses a prebuilt image as given, pulling it from its ECR repository; builds nothing", async () => {
        const { resources } = await record(() => new CostTracker("ct", args()));
        assert.strictEqual(ofType(resources, "docker-build:index:Image").length, 0);
        assert.strictEqual(ofType(resources, "aws:ecr/repository:Repository").length, 0);
        assert.strictEqual(
            containerOf(resources, "ct-task").image,
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/cost-tracker:1.4.0",
        );
        assert.deepStrictEqual(
            JSON.parse(named(resources, ROLE_POLICY, "ct-execution-policy").inputs.policy as string).Statement[0]
                .Resource,
            ["arn:aws:ecr:us-east-1:123456789012:repository/cost-tracker"],
        );
    });

    it("subscribes the alert email to its topic, and keeps the webhook URL (a credential) in a secret the task alone reads", async () => {
        const webhook = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";
        const { resources } = await record(
            () => new CostTracker("ct", args({ alertEmail: "finops@example.com", alertWebhookUrl: webhook })),
        );
        assert.deepStrictEqual(
            named(resources, "aws:sns/topicSubscription:TopicSubscription", "ct-alerts-email").inputs,
            {
                topic: `arn:aws:sns:${REGION}:${ACCOUNT}:ct-alerts`,
                protocol: "email",
                endpoint: "finops@example.com",
            },
        );
        const webhookArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:ct-alert-webhook-AbCdEf`;
        // After the admin's token, the gate's, the portal's, team vision's and the database password.
        assert.deepStrictEqual(containerOf(resources, "ct-task").secrets[5], {
            name: "COST_TRACKER_ALERT_WEBHOOK_URL",
            valueFrom: webhookArn,
        });
        assert.ok(
            JSON.parse(
                named(resources, ROLE_POLICY, "ct-execution-policy").inputs.policy as string,
            ).Statement[3].Resource.includes(webhookArn),
        );
        assert.ok(
            !JSON.stringify(resources.map((r) => maskSecrets(r.inputs))).includes("XXXXSECRET"),
            "the URL is only ever a secret",
        );
    });

    it("grants a later component the database explicitly, and only it", async () => {
        const { result, resources } = await record(() => {
            const tracker = new CostTracker("ct", args());
            tracker.database.allowFrom("mlflow", "sg-mlflow");
            return tracker;
        });
        assert.ok(result.database instanceof PostgresDatabase);
        assert.deepStrictEqual(admittedTo(resources, "sg-ct-db-sg-placeholder", 5432), [
            "sg-ct-tasks-sg-placeholder",
            "sg-mlflow",
        ]);
        assert.strictEqual(named(resources, INGRESS, "ct-db-from-mlflow").inputs.description, "PostgreSQL from mlflow");
    });

    it("refuses bad arguments before creating anything, naming each", () => {
        const problems = costTrackerArgsProblems(
            args({
                cpu: 512,
                memory: 512,
                desiredCount: 3,
                maxCount: 2,
                certificateArn: "arn:aws:acm:us-east-1:1:cert",
                allowedCidrs: ["0.0.0.0/0", "10.0.0.1/16"],
                build: { context: ".", dockerfile: "services/cost-tracker/Dockerfile" },
                database: { allocatedStorageGiB: 10 },
                budgets: { teams: [], nodePools: [] },
            }),
        ).map((p) => `${p.key}: ${p.message}`);
        assert.deepStrictEqual(problems, [
            "memory: 512 MiB does not pair with cpu 512 on Fargate; allowed: 1024 to 4096 in steps of 1024",
            "maxCount: must be a whole number from desiredCount (3) to 20 (found 2)",
            "certificateArn: must be an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id>",
            "allowedCidrs[0]: must not be 0.0.0.0/0: the dashboard is internal; name the VPN's or office's range",
            'allowedCidrs[1]: must be an IPv4 CIDR with no host bits set, e.g. 10.8.0.0/16 (found "10.0.0.1/16")',
            "database.allocatedStorageGiB: must be a whole number of GiB from 20 (gp3's smallest) to 1000 (found 10)",
            // Issue 21 item 5: a certificate cannot match the load balancer's AWS name.
            "hostName: is required with certificateArn: no certificate can match the load balancer's AWS name; name the host the certificate covers",
            "build: set exactly one of build (build from a Dockerfile) and image (a prebuilt image)",
            "budgets.teams: is empty; the tracker needs at least one team",
        ]);
        assert.throws(
            () => new CostTracker("bad", args({ cpu: 300 })),
            (err: Error) => {
                assert.ok(err instanceof pulumi.InputPropertiesError);
                assert.match(err.message, /CostTracker "bad" has invalid arguments/);
                return true;
            },
        );
    });
});

describe("the cost tracker's stack config", () => {
    it("reports every bad costTracker setting, one line each, naming it", () => {
        const raw = stackConfig("dev");
        const { problems } = validatePlatformConfig(
            {
                ...raw,
                costTracker: {
                    cpu: 1024,
                    memory: 1024,
                    desiredCount: 0,
                    image: "cost-tracker",
                    alertEmail: "finance",
                    alertWebhookUrl: "http://hooks.example.com/x",
                    criticalPriorityClasses: ["vip"],
                    metricsRetentionDays: 400,
                    database: { instanceClass: "t4g.micro", backupRetentionDays: 3 },
                },
            },
            "gpu-platform",
            "dev",
        );
        assert.deepStrictEqual(
            problems.map((p) => `${p.key}: ${p.message}`),
            [
                "costTracker.memory: 1024 MiB does not pair with cpu 1024 on Fargate; allowed: 2048 to 8192 in steps of 1024",
                "costTracker.desiredCount: must be a whole number from 1 to 10 (found 0)",
                'costTracker.alertEmail: must be an email address (found "finance")',
                "costTracker.alertWebhookUrl: must be an https URL, e.g. https://hooks.slack.com/services/…",
                'costTracker.database.instanceClass: must be an RDS instance class such as db.t4g.small (found "t4g.micro")',
                "costTracker.database.backupRetentionDays: must be a whole number of days from 7 to 35 (found 3)",
                'costTracker.image: must be an image reference with its registry and a tag or digest, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/cost-tracker:1.4.0 (found "cost-tracker")',
                "costTracker.metricsRetentionDays: must be from 2 to 90 days (found 400)",
                'costTracker.criticalPriorityClasses[0]: "vip" is not one of the stack\'s priority classes (production-inference, critical-agents, training, research, development)',
            ],
        );
    });

    it("is declared in Pulumi.yaml, on by default, and off with enabled: false", () => {
        const project = parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as {
            config: Record<string, { type: string }>;
        };
        assert.strictEqual(project.config["gpu-platform:costTracker"].type, "object");
        assert.ok(validStackConfig("dev").costTracker);
        const off = validatePlatformConfig(
            { ...stackConfig("dev"), costTracker: { enabled: false } },
            "gpu-platform",
            "dev",
        );
        assert.strictEqual(off.config?.costTracker, undefined);
    });
});

describe("ClusterCostData", () => {
    /** Every key path a values object sets, and whether the chart's trimmed default values (test/fixtures/charts) declare it. */
    function undeclaredKeys(values: Record<string, unknown>, fixture: string): string[] {
        const text = fs.readFileSync(path.join(REPO_ROOT, "test/fixtures/charts", fixture), "utf8");
        const defaults = parse(text.slice(text.indexOf("\n---\n") + 5)) as Record<string, unknown>;
        const marked = (kind: string) => [...text.matchAll(new RegExp(`^# ${kind}: (\\S+)$`, "gm"))].map((m) => m[1]);
        const open = [...marked("open"), ...marked("subchart")];
        const templateOnly = marked("template-only");
        const missing: string[] = [];
        const walk = (node: Record<string, unknown>, declared: unknown, prefix: string) => {
            for (const [key, value] of Object.entries(node)) {
                const dotted = prefix ? `${prefix}.${key}` : key;
                if (open.includes(dotted) || templateOnly.includes(dotted)) continue;
                const here = (declared as Record<string, unknown> | undefined)?.[key];
                if (here === undefined && !(declared && Object.hasOwn(declared, key))) missing.push(dotted);
                else if (
                    value &&
                    typeof value === "object" &&
                    !Array.isArray(value) &&
                    here &&
                    typeof here === "object"
                )
                    walk(value as Record<string, unknown>, here, dotted);
            }
        };
        walk(values, defaults, "");
        return missing;
    }

    it("sets only values keys the pinned charts declare", async () => {
        const { resources } = await record(
            () => new ClusterCostData("cd", { clusterName: "c", retentionDays: 30, maxNodes: 22 }),
        );
        const values = (chart: string) =>
            ofType(resources, RELEASE).find((r) => r.inputs.chart === chart)!.inputs.values as Record<string, unknown>;
        assert.deepStrictEqual(undeclaredKeys(values("opencost"), "opencost-2.5.17.values.yaml"), []);
        assert.deepStrictEqual(undeclaredKeys(values("prometheus"), "prometheus-29.27.0.values.yaml"), []);
        assert.deepStrictEqual(
            ofType(resources, RELEASE).map((r) => [
                r.inputs.chart,
                r.inputs.version,
                (r.inputs.repositoryOpts as any).repo,
                r.inputs.namespace,
            ]),
            [
                ["prometheus", "29.27.0", "https://prometheus-community.github.io/helm-charts", "prometheus"],
                ["opencost", "2.5.17", "https://opencost.github.io/opencost-helm-chart", "opencost"],
            ],
        );
    });

    it("runs on the CPU pool, exposes neither UI nor MCP, reads the Prometheus beside it, and keeps the team and pool labels", async () => {
        const { resources } = await record(() => new ClusterCostData("cd", { clusterName: "gpu-platform-prod" }));
        const values = (chart: string) =>
            ofType(resources, RELEASE).find((r) => r.inputs.chart === chart)!.inputs.values as any;
        const cpu = { "gpu-platform/node-type": "cpu" };
        assert.deepStrictEqual(values("opencost").opencost.nodeSelector, cpu);
        assert.deepStrictEqual(
            [values("opencost").opencost.ui.enabled, values("opencost").opencost.mcp.enabled],
            [false, false],
        );
        assert.strictEqual(values("opencost").opencost.exporter.defaultClusterId, "gpu-platform-prod");
        assert.deepStrictEqual(values("opencost").opencost.prometheus.internal, {
            enabled: true,
            serviceName: "prometheus-server",
            namespaceName: "prometheus",
            port: 80,
        });
        const prom = values("prometheus");
        assert.deepStrictEqual([prom.server.nodeSelector, prom["kube-state-metrics"].nodeSelector], [cpu, cpu]);
        assert.deepStrictEqual([prom.alertmanager.enabled, prom["prometheus-pushgateway"].enabled], [false, false]);
        assert.deepStrictEqual(prom["kube-state-metrics"].metricLabelsAllowlist, [
            "namespaces=[gpu-platform/team]",
            "nodes=[gpu-platform/pool]",
        ]);
        assert.strictEqual(prom.server.persistentVolume.storageClass, "cd-gp3");
        // The DCGM exporter's Service is annotated prometheus.io/scrape: the chart's default job scrapes it; it must stay on.
        assert.strictEqual(prom.scrapeConfigs["kubernetes-service-endpoints"], undefined);
        assert.deepStrictEqual(prom.scrapeConfigs.opencost.dns_sd_configs, [
            { names: ["opencost.opencost"], type: "A", port: 9003 },
        ]);
    });

    it("sizes Prometheus from the cluster's nodes and retention", () => {
        // 1,024 MiB up to 16 nodes; 100 nodes × 64 MiB = 6,400 MiB; disk 100 × 3 MB × 90 days × 2 = 54,000 MB ≈ 52.7 GiB → 60 GiB.
        assert.deepStrictEqual(prometheusSizing(6, 15), {
            cpu: "250m",
            memory: "1024Mi",
            memoryLimit: "2048Mi",
            storageGiB: 20,
        });
        assert.deepStrictEqual(prometheusSizing(100, 90), {
            cpu: "1",
            memory: "6400Mi",
            memoryLimit: "12800Mi",
            storageGiB: 60,
        });
        assert.throws(() => new ClusterCostData("x", { clusterName: "c", retentionDays: 365 }), /invalid arguments/);
    });
});

describe("ContainerImage", () => {
    const workdir = () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-"));
        fs.mkdirSync(path.join(dir, "app/node_modules/x"), { recursive: true });
        fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch\nCOPY app app\n");
        fs.writeFileSync(path.join(dir, "Dockerfile.dockerignore"), "*\n!app\n!package.json\n**/node_modules\n");
        fs.writeFileSync(path.join(dir, "app/main.js"), "console.log(1)\n");
        fs.writeFileSync(path.join(dir, "app/node_modules/x/index.js"), "ignored\n");
        fs.writeFileSync(path.join(dir, "package.json"), "{}\n");
        fs.writeFileSync(path.join(dir, "README.md"), "not in the context\n");
        return dir;
    };

    it("tags a build with a hash of exactly the files its allowlist ignore file sends, so an unrelated change keeps the tag", () => {
        const dir = workdir();
        assert.deepStrictEqual(contextFiles(dir, "Dockerfile"), ["app/main.js", "package.json"]);
        const build = { context: dir, dockerfile: "Dockerfile" };
        const tag = contextTag(build);
        assert.match(tag, /^[0-9a-f]{16}$/);
        fs.writeFileSync(path.join(dir, "README.md"), "changed\n");
        fs.writeFileSync(path.join(dir, "app/node_modules/x/index.js"), "changed\n");
        assert.strictEqual(contextTag(build), tag);
        fs.writeFileSync(path.join(dir, "app/main.js"), "console.log(2)\n");
        assert.notStrictEqual(contextTag(build), tag, "a sent file changed");
        const again = contextTag(build);
        assert.notStrictEqual(
            contextTag({ ...build, platform: "linux/amd64" }),
            again,
            "another platform is another image",
        );
    });

    it("hashes the context exactly as @pulumi/docker-build 0.0.14 does: Dockerfile, then each sent file's bytes, path and full mode, in Go's walk order", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-hash-"));
        fs.mkdirSync(path.join(dir, "a"));
        fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch\nCOPY . /\n");
        fs.writeFileSync(path.join(dir, ".dockerignore"), "*\n!a\n!a-c\n");
        fs.writeFileSync(path.join(dir, "a/b"), "bee\n");
        fs.writeFileSync(path.join(dir, "a-c"), "sea\n");
        fs.writeFileSync(path.join(dir, "z.txt"), "x\n");
        fs.chmodSync(path.join(dir, "a/b"), 0o644);
        fs.chmodSync(path.join(dir, "a-c"), 0o755);
        // filepath.WalkDir visits a/ (and a/b) before a-c: "a" sorts before "a-c" in its directory,
        // though the full path "a-c" sorts before "a/b". Hand-computed with coreutils:
        // { cat Dockerfile; cat a/b; printf a/b; printf -- -rw-r--r--; cat a-c; printf a-c; printf -- -rwxr-xr-x; } | sha256sum
        assert.deepStrictEqual(contextFiles(dir, "Dockerfile"), ["a/b", "a-c"]);
        assert.strictEqual(
            buildContextHash(dir, "Dockerfile"),
            "b42767dc2a9f8dfb945b736b21b42394a6df07eef86f5e32dc730e3759ca98c1",
        );
        // Another umask (664, group-writable): the provider hashes "-rw-rw-r--", so it rebuilds; the tag must change with it.
        const tag = contextTag({ context: dir, dockerfile: "Dockerfile" });
        fs.chmodSync(path.join(dir, "a/b"), 0o664);
        assert.strictEqual(
            buildContextHash(dir, "Dockerfile"),
            "6a1040296ddc6d6fc729c5f028b423f283d237663ac9dc23346395d318619a7b",
        );
        assert.notStrictEqual(contextTag({ context: dir, dockerfile: "Dockerfile" }), tag);
    });

    it("reports an ignore file the tag cannot read as a problem of the arguments, before anything is created", () => {
        const dir = workdir();
        fs.writeFileSync(path.join(dir, "Dockerfile.dockerignore"), "node_modules\n");
        assert.throws(
            () => new ContainerImage("svc", { build: { context: dir, dockerfile: "Dockerfile" } }),
            (e: pulumi.InputPropertiesError) =>
                e.errors.length === 1 &&
                e.errors[0].propertyPath === "build.tag" &&
                /^is unset and .*must start with "\*"/.test(e.errors[0].reason),
        );
    });

    it("hashes the cost tracker's real context: the files its Dockerfile copies, no tests' output or dependencies", () => {
        const files = contextFiles(REPO_ROOT, "services/cost-tracker/Dockerfile");
        for (const file of [
            "package.json",
            "package-lock.json",
            "catalog/instances.ts",
            "catalog/contracts/tracker-config.ts",
            "services/cost-tracker/src/main.ts",
        ])
            assert.ok(files.includes(file), file);
        assert.ok(
            !files.some(
                (f) => f.includes("node_modules") || f.startsWith("components/") || f.startsWith("policies/lib"),
            ),
            "only what the Dockerfile copies",
        );
    });

    it("refuses an ignore file it cannot read the same way Docker does", () => {
        const dir = workdir();
        fs.writeFileSync(path.join(dir, "Dockerfile.dockerignore"), "*\n!app\n*.md\n");
        assert.throws(() => contextFiles(dir, "Dockerfile"), /"\*\.md" is not a pattern the image tag understands/);
    });

    it("creates a repository that scans on push, keeps tags immutable and expires old images, and pushes the build to it", async () => {
        const dir = workdir();
        const { resources, result } = await record(
            () => new ContainerImage("svc", { build: { context: dir, dockerfile: "Dockerfile" }, keepImages: 5 }),
        );
        const repo = named(resources, "aws:ecr/repository:Repository", "svc-repo").inputs;
        assert.deepStrictEqual(
            [repo.imageTagMutability, repo.imageScanningConfiguration],
            ["IMMUTABLE", { scanOnPush: true }],
        );
        const rules = JSON.parse(
            named(resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "svc-lifecycle").inputs.policy as string,
        ).rules;
        assert.deepStrictEqual(
            rules.map((r: any) => [r.selection.tagStatus, r.selection.countType, r.selection.countNumber]),
            [
                ["untagged", "sinceImagePushed", 1],
                ["any", "imageCountMoreThan", 5],
            ],
        );
        const image = named(resources, "docker-build:index:Image", "svc-image").inputs as any;
        assert.deepStrictEqual(
            [image.push, image.buildOnPreview, image.platforms, image.tags],
            [true, false, ["linux/arm64"], [`${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/svc-repo:${result.tag}`]],
        );
    });

    it("names the ECR repository of a prebuilt image, and none for another registry", () => {
        assert.strictEqual(
            ecrRepositoryArn("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/tracker:2.0@sha256:" + "a".repeat(64)),
            "arn:aws:ecr:eu-west-1:123456789012:repository/team/tracker",
        );
        assert.strictEqual(ecrRepositoryArn("ghcr.io/acme/tracker:2.0"), undefined);
    });
});
