import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { FargateArchitecture } from "@gpu-platform/catalog";
import { isHostName } from "@gpu-platform/catalog/dns-names";
import { rdsCaBundleUrl } from "@gpu-platform/catalog/rds-ca";
import { RDS_CA, rdsCaEcsContainer } from "../shared/rds-ca";
import { PolicyStatement } from "../shared/irsa";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";
import { ContainerImage, ImageBuild, containerImageArgsProblems } from "./container-image";
import { DATABASE_USER, databaseUserContainer, databaseUserSecret } from "./database-user";
import { POSTGRES_PORT, PostgresDatabase } from "./postgres-database";
import { COST_TRACKER_DEFAULTS, CostTrackerSizing, costTrackerSizingProblems, defaultMaxCount } from "./settings";
import {
    CostTrackerConfig,
    CostTrackerConfigInput,
    TrackerPipeline,
    buildCostTrackerConfig,
    costTrackerConfigProblems,
} from "@gpu-platform/catalog/contracts";

/** A pipeline as the tracker's config names it, its queue's name still an output of the stack. */
export type CostTrackerPipeline = Omit<TrackerPipeline, "queueName"> & { queueName: pulumi.Input<string> };

export const COST_TRACKER_TYPE = `${PACKAGE}:costs:CostTracker`;

/** The container's name in the task definition. */
export const CONTAINER_NAME = "cost-tracker";
/** Cost Explorer's API endpoint is in us-east-1 whatever the stack's region (aws partition). */
const COST_EXPLORER_REGION = "us-east-1";
const HTTPS_PORT = 443;
const HTTP_PORT = 80;
/** TLS 1.3 and 1.2 with forward secrecy only (Elastic Load Balancing's recommended policy). */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** The EKS cluster the tracker reads cost data from and serves. */
export interface CostTrackerCluster {
    /** The EKS cluster's name. */
    name: pulumi.Input<string>;
    /** The API server's URL, `https://…eks.amazonaws.com`. */
    endpoint: pulumi.Input<string>;
    /** The cluster's certificate authority, base64 PEM (`certificateAuthority.data`). */
    certificateAuthorityData: pulumi.Input<string>;
    /** A security group on the control plane's network interfaces: the tasks are admitted to it on 443. */
    apiSecurityGroupId: pulumi.Input<string>;
    /** The security group the cluster's nodes carry: its members may reach the load balancer (Backstage, say). */
    nodeSecurityGroupId: pulumi.Input<string>;
}

/** Where in the cluster the cost data is, as `ClusterCostData` gives it. */
export interface CostTrackerClusterData {
    /** The Kubernetes group allowed to proxy to OpenCost and Prometheus; the task role is mapped to it. */
    readerGroup: string;
    /** API server paths of the two services' proxies. */
    proxyPaths: { opencost: string; prometheus: string };
}

export interface CostTrackerArgs extends Omit<CostTrackerSizing, "certificateArn"> {
    /**
     * An ACM certificate ARN (an output, such as `HostCertificate.arn`, is fine): HTTPS on the load
     * balancer, HTTP redirected to it. Its names must include `hostName`. Default none: plain HTTP
     * inside the VPC.
     */
    certificateArn?: pulumi.Input<string>;
    /**
     * The host name clients use, which the certificate covers; point it at `loadBalancer` (an
     * `AliasRecords` entry, or a record of your own). Required with `certificateArn`: no
     * certificate can match the load balancer's AWS name. Default none: `url` is the load
     * balancer's own name.
     */
    hostName?: string;
    /** The VPC. Required. */
    vpcId: pulumi.Input<string>;
    /** Private subnets in two or more zones, for the tasks, the load balancer and the database. Required. */
    privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Teams and budgets, GPU pools, priority classes and the critical ones: the service's config document. Required. */
    budgets: Pick<CostTrackerConfigInput, "teams" | "nodePools" | "priorityClasses" | "criticalPriorityClasses">;
    /** The EKS cluster: its nodes may reach the dashboard, the tasks its API. Default none (no in-cluster sources). */
    cluster?: CostTrackerCluster;
    /** OpenCost and Prometheus in that cluster (`ClusterCostData`), read through the API server's proxy. Default none. */
    clusterData?: CostTrackerClusterData;
    /** Build the image from source (`ContainerImage`). Exactly one of `build` and `image`. */
    build?: ImageBuild;
    /** A prebuilt image instead of `build`, pinned by tag or digest. */
    image?: string;
    /**
     * The tasks' CPU architecture. Default `"ARM64"`: Fargate on Graviton is 20% cheaper per
     * vCPU-hour and per GB-hour, and the service is JavaScript and WebAssembly with no native
     * addon, so its image builds for ARM64 on any machine without emulation.
     */
    architecture?: FargateArchitecture;
    /**
     * Inference pipelines whose cost per processed input the service reports: each one's input
     * queue is read for `AWS/SQS NumberOfMessagesDeleted` (`cloudwatch:GetMetricData`). Default none.
     */
    pipelines?: CostTrackerPipeline[];
    /** Read AWS spend outside the cluster from Cost Explorer (`ce:GetCostAndUsage`). Default true. */
    costExplorer?: boolean;
    /** Days the tasks' logs are kept. Default 30. */
    logRetentionDays?: number;
    /** Protect data: the database's deletion protection, final snapshot and Pulumi `protect`, the load balancer's deletion protection, the repository kept. Default false. */
    protect?: boolean;
    /** A standby database in a second zone. Default false. */
    databaseMultiAz?: boolean;
    /** Bump to generate a new API token into its secret (tasks read it when they start). Default 1. */
    apiTokenVersion?: number;
    /** Bump to give the service's database user a new password; the next task start applies it. Default 1. */
    databaseUserVersion?: number;
    /**
     * Where the teams' own tokens are named: `<prefix>/teams/<team>/cost-tracker-token`, the path
     * each team's SecretStore reads. Default: generated names (the teams then need another way to their token).
     */
    teamSecretsPrefix?: string;
}

/** Every caller's token secret but the admin's: the budget gate's, the portal's, and one per team. */
export interface CallerTokenSecrets {
    readonly platform: aws.secretsmanager.Secret;
    readonly portal: aws.secretsmanager.Secret;
    readonly teams: Readonly<Record<string, aws.secretsmanager.Secret>>;
}

/**
 * The GPU cost tracker (`services/cost-tracker/`) on ECS Fargate beside the cluster, not in
 * it: an image in ECR, a Fargate service in private subnets behind an internal Application Load
 * Balancer, PostgreSQL on RDS, an SNS topic for alerts, and the identities that tie them
 * together with least privilege.
 *
 * ```ts
 * const data = new ClusterCostData("cost-data", { clusterName, maxNodes: 22 }, { providers: { kubernetes: cluster.provider } });
 * const tracker = new CostTracker("cost-tracker", {
 *     vpcId, privateSubnetIds, budgets: { teams, nodePools },
 *     cluster: { name, endpoint, certificateAuthorityData, apiSecurityGroupId, nodeSecurityGroupId },
 *     clusterData: data, build: { context: ".", dockerfile: "services/cost-tracker/Dockerfile" },
 *     desiredCount: 2, certificateArn, hostName: "cost-tracker.example.com", databaseMultiAz: true, protect: true,
 * }, { providers: { aws: awsProvider } });
 * ```
 *
 * - **Reaching it.** The load balancer is internal: the cluster's nodes (Backstage, pipelines)
 *   and `allowedCidrs` (a VPN) may connect. With `certificateArn` it serves HTTPS (TLS 1.2+) as
 *   `hostName` and redirects HTTP; without, it serves plain HTTP inside the VPC.
 * - **Reachability.** The tasks admit only the load balancer; the database admits only the
 *   tasks (and whoever `database.allowFrom` grants later); the tasks reach the database, the
 *   cluster's API on 443, and AWS APIs over HTTPS.
 * - **Secrets.** The database password and the API token (generated by Secrets Manager into a
 *   write-only field) reach the container through ECS `secrets`: no credential is in the task
 *   definition or outputs. What sits where, state included: docs/credentials.md.
 * - **Cluster data.** The task role is mapped by an EKS access entry to a Kubernetes group that
 *   may only GET OpenCost's and Prometheus' service proxies; the service presents an EKS token
 *   (a presigned STS GetCallerIdentity) and checks the API server against the cluster's CA.
 *
 * Cost: Fargate vCPU- and GB-hours per task, the database (instance, storage, its secret), the
 * load balancer's hours (LCUs by traffic), the secrets, the KMS key; logs, ECR storage, SNS and
 * Cost Explorer calls ($0.01 each) by use.
 */
export class CostTracker extends pulumi.ComponentResource {
    public readonly image: ContainerImage;
    public readonly database: PostgresDatabase;
    public readonly ecsCluster: aws.ecs.Cluster;
    public readonly taskDefinition: aws.ecs.TaskDefinition;
    public readonly service: aws.ecs.Service;
    public readonly loadBalancer: aws.lb.LoadBalancer;
    public readonly targetGroup: aws.lb.TargetGroup;
    public readonly listeners: aws.lb.Listener[];
    public readonly securityGroups: { loadBalancer: aws.ec2.SecurityGroup; tasks: aws.ec2.SecurityGroup };
    public readonly executionRole: aws.iam.Role;
    public readonly taskRole: aws.iam.Role;
    public readonly logGroup: aws.cloudwatch.LogGroup;
    public readonly alertTopic: aws.sns.Topic;
    /** The admin's token: the platform team's, for budgets' exceptions and the audit log. Give it to nobody else. */
    public readonly apiTokenSecret: aws.secretsmanager.Secret;
    /**
     * The other callers' tokens, each `{"current": …}` (and `"previous"` while it rotates, docs/cost-tracker-api.md):
     * the budget gate's, the portal's (its backend acts for signed-in users), each team's for its own pushes.
     */
    public readonly callerTokenSecrets: CallerTokenSecrets;
    /** The service's own database user (`{"username", "password"}`); the master user only makes it. */
    public readonly databaseUserSecret: aws.secretsmanager.Secret;
    /** The alert webhook's secret, when one is configured. */
    public readonly webhookSecret?: aws.secretsmanager.Secret;
    /** The values of the token's and the webhook's secrets: the task definition and the service wait for them. */
    public readonly secretValues: aws.secretsmanager.SecretVersion[];
    public readonly clusterAccess?: aws.eks.AccessEntry;
    /** The dashboard and API: `https://<internal ALB>` with a certificate, `http://` without. */
    public readonly url: pulumi.Output<string>;
    /** The config document the service receives. */
    public readonly config: pulumi.Output<CostTrackerConfig>;

    constructor(name: string, args: CostTrackerArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("CostTracker", name, costTrackerArgsProblems(args));
        super(COST_TRACKER_TYPE, name, {}, opts);
        const s = resolveArgs(args);
        const child = { parent: this };

        // Built for the tasks' architecture unless the build names a platform.
        this.image = new ContainerImage(
            `${name}-image`,
            {
                build: args.build && { platform: ARCHITECTURE_PLATFORMS[s.architecture], ...args.build },
                image: args.image,
                protect: s.protect,
            },
            child,
        );
        this.securityGroups = this.createSecurityGroups(name, args);
        this.database = this.createDatabase(name, args, s);
        this.database.allowFrom("tasks", this.securityGroups.tasks.id);

        this.alertTopic = new aws.sns.Topic(`${name}-alerts`, { kmsMasterKeyId: "alias/aws/sns" }, child);
        if (args.alertEmail) {
            new aws.sns.TopicSubscription(
                `${name}-alerts-email`,
                { topic: this.alertTopic.arn, protocol: "email", endpoint: args.alertEmail },
                child,
            );
        }
        ({
            apiTokenSecret: this.apiTokenSecret,
            callerTokenSecrets: this.callerTokenSecrets,
            webhookSecret: this.webhookSecret,
            databaseUserSecret: this.databaseUserSecret,
            secretValues: this.secretValues,
        } = this.createSecrets(name, args, s));
        this.logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: s.logRetentionDays }, child);

        ({ executionRole: this.executionRole, taskRole: this.taskRole } = this.createRoles(
            name,
            s,
            (args.pipelines ?? []).length > 0,
        ));
        if (args.cluster && args.clusterData) {
            // Kubernetes RBAC, not IAM, decides what the role may do in the cluster: the reader group proxies to two services.
            this.clusterAccess = new aws.eks.AccessEntry(
                `${name}-cluster-access`,
                {
                    clusterName: args.cluster.name,
                    principalArn: this.taskRole.arn,
                    kubernetesGroups: [args.clusterData.readerGroup],
                    type: "STANDARD",
                },
                child,
            );
        }

        this.config = this.documentFor(args, s);
        this.ecsCluster = new aws.ecs.Cluster(
            `${name}-cluster`,
            { settings: [{ name: "containerInsights", value: "enabled" }] },
            child,
        );
        this.taskDefinition = this.createTaskDefinition(name, s);
        ({
            loadBalancer: this.loadBalancer,
            targetGroup: this.targetGroup,
            listeners: this.listeners,
        } = this.createLoadBalancer(name, args, s));
        this.service = this.createService(name, args, s);
        this.createAutoscaling(name, s);

        const scheme = args.certificateArn ? "https" : "http";
        this.url = args.hostName
            ? pulumi.output(`${scheme}://${args.hostName}`)
            : pulumi.interpolate`${scheme}://${this.loadBalancer.dnsName}`;
        this.registerOutputs({
            url: this.url,
            apiTokenSecretArn: this.apiTokenSecret.arn,
            databaseSecretArn: this.database.secretArn,
            alertTopicArn: this.alertTopic.arn,
        });
    }

    /** PostgreSQL on RDS for the service: its own database and master user, KMS-encrypted, TLS only. */
    private createDatabase(name: string, args: CostTrackerArgs, s: ResolvedTracker): PostgresDatabase {
        return new PostgresDatabase(
            `${name}-db`,
            {
                vpcId: args.vpcId,
                subnetIds: args.privateSubnetIds,
                instanceClass: s.database.instanceClass,
                allocatedStorageGiB: s.database.allocatedStorageGiB,
                backupRetentionDays: s.database.backupRetentionDays,
                multiAz: s.databaseMultiAz,
                protect: s.protect,
                databaseName: "costtracker",
                masterUsername: "costtracker",
            },
            { parent: this },
        );
    }

    /** Every secret the tasks read, and their values' versions (a task may start only once every value exists). */
    private createSecrets(
        name: string,
        args: CostTrackerArgs,
        s: ResolvedTracker,
    ): Pick<
        CostTracker,
        "apiTokenSecret" | "callerTokenSecrets" | "webhookSecret" | "databaseUserSecret" | "secretValues"
    > {
        const apiToken = this.createApiToken(name, s.apiTokenVersion);
        const callers = this.createCallerTokens(name, args);
        const webhook = args.alertWebhookUrl ? this.createWebhookSecret(name, args.alertWebhookUrl) : undefined;
        const databaseUser = databaseUserSecret(name, s.databaseUserVersion, { parent: this, retain: s.protect });
        return {
            apiTokenSecret: apiToken.secret,
            callerTokenSecrets: callers.secrets,
            webhookSecret: webhook?.secret,
            databaseUserSecret: databaseUser.secret,
            // ECS reads a secret's current version when a task starts: none may start before every value exists.
            secretValues: [
                apiToken.version,
                ...callers.versions,
                databaseUser.version,
                ...(webhook ? [webhook.version] : []),
            ],
        };
    }

    /** The execution role (image, logs, exactly these secrets) and the task role (Cost Explorer, the alert topic, the pipelines' queue metrics). */
    private createRoles(
        name: string,
        s: ResolvedTracker,
        pipelineMetrics: boolean,
    ): Pick<CostTracker, "executionRole" | "taskRole"> {
        const executionRole = this.createRole(
            `${name}-execution`,
            "ECS pulls the cost tracker's image, writes its logs and reads its secrets",
            executionRoleStatements({
                repositoryArn: this.image.repositoryArn,
                logGroupArn: this.logGroup.arn,
                secretArns: [
                    this.apiTokenSecret.arn,
                    ...callerSecrets(this.callerTokenSecrets).map((c) => c.secret.arn),
                    this.database.secretArn,
                    this.databaseUserSecret.arn,
                    ...(this.webhookSecret ? [this.webhookSecret.arn] : []),
                ],
            }),
        );
        const taskRole = this.createRole(
            `${name}-task`,
            "The cost tracker reads Cost Explorer and publishes alerts",
            taskRoleStatements({
                alertTopicArn: this.alertTopic.arn,
                costExplorer: s.costExplorer,
                pipelineMetrics,
            }),
        );
        return { executionRole, taskRole };
    }

    private createSecurityGroups(name: string, args: CostTrackerArgs) {
        const loadBalancer = new aws.ec2.SecurityGroup(
            `${name}-alb-sg`,
            { vpcId: args.vpcId, description: `${name} load balancer: the cluster's nodes and allowed CIDRs` },
            { parent: this },
        );
        const tasks = new aws.ec2.SecurityGroup(
            `${name}-tasks-sg`,
            { vpcId: args.vpcId, description: `${name} tasks: only the load balancer` },
            { parent: this },
        );
        this.allowCallersToLoadBalancer(name, args, loadBalancer.id);
        this.allowLoadBalancerToTasks(name, loadBalancer.id, tasks.id);
        this.allowTasksOut(name, args, tasks.id);
        return { loadBalancer, tasks };
    }

    /** The cluster's nodes and the allowed CIDRs reach the load balancer's listener ports. */
    private allowCallersToLoadBalancer(name: string, args: CostTrackerArgs, loadBalancerId: pulumi.Input<string>) {
        const ports = args.certificateArn ? [HTTP_PORT, HTTPS_PORT] : [HTTP_PORT];
        for (const port of ports) {
            if (args.cluster) {
                this.ingressRule(`${name}-alb-from-nodes-${port}`, loadBalancerId, {
                    referencedSecurityGroupId: args.cluster.nodeSecurityGroupId,
                    fromPort: port,
                    toPort: port,
                    description: "the cluster's nodes",
                });
            }
            (args.allowedCidrs ?? []).forEach((cidr, i) =>
                this.ingressRule(`${name}-alb-from-cidr-${i}-${port}`, loadBalancerId, {
                    cidrIpv4: cidr,
                    fromPort: port,
                    toPort: port,
                    description: `allowed range ${cidr}`,
                }),
            );
        }
    }

    /** The load balancer reaches the tasks on the container port, in both groups' rules. */
    private allowLoadBalancerToTasks(
        name: string,
        loadBalancerId: pulumi.Input<string>,
        tasksId: pulumi.Input<string>,
    ): void {
        const container = COST_TRACKER_DEFAULTS.containerPort;
        this.egressRule(`${name}-alb-to-tasks`, loadBalancerId, {
            referencedSecurityGroupId: tasksId,
            fromPort: container,
            toPort: container,
            description: "the tasks",
        });
        this.ingressRule(`${name}-tasks-from-alb`, tasksId, {
            referencedSecurityGroupId: loadBalancerId,
            fromPort: container,
            toPort: container,
            description: "the load balancer",
        });
    }

    private allowTasksOut(name: string, args: CostTrackerArgs, tasksId: pulumi.Input<string>): void {
        // The tasks call AWS APIs (Cost Explorer, SNS, STS, ECR, logs), the cluster's API and the alert webhook, all over HTTPS.
        this.egressRule(`${name}-tasks-to-https`, tasksId, {
            cidrIpv4: "0.0.0.0/0",
            fromPort: HTTPS_PORT,
            toPort: HTTPS_PORT,
            description: "AWS APIs, the cluster API, the webhook",
        });
        if (args.cluster) {
            // The same rule type pulumi-eks puts on this group (v4.3.0 nodejs/eks/cluster/cluster.ts,
            // eksClusterInternetEgressRule: aws.ec2.SecurityGroupRule), as the Cluster's apiAccess
            // rules do: @pulumi/aws warns that the two rule types on one group conflict and never converge.
            new aws.ec2.SecurityGroupRule(
                `${name}-cluster-api-from-tasks`,
                {
                    type: "ingress",
                    securityGroupId: args.cluster.apiSecurityGroupId,
                    sourceSecurityGroupId: tasksId,
                    protocol: "tcp",
                    fromPort: HTTPS_PORT,
                    toPort: HTTPS_PORT,
                    description: `${name} tasks`,
                },
                { parent: this },
            );
        }
    }

    private ingressRule(
        resourceName: string,
        groupId: pulumi.Input<string>,
        rule: Omit<aws.vpc.SecurityGroupIngressRuleArgs, "securityGroupId" | "ipProtocol">,
    ): aws.vpc.SecurityGroupIngressRule {
        return new aws.vpc.SecurityGroupIngressRule(
            resourceName,
            { securityGroupId: groupId, ipProtocol: "tcp", ...rule },
            { parent: this },
        );
    }

    private egressRule(
        resourceName: string,
        groupId: pulumi.Input<string>,
        rule: Omit<aws.vpc.SecurityGroupEgressRuleArgs, "securityGroupId" | "ipProtocol">,
    ): aws.vpc.SecurityGroupEgressRule {
        return new aws.vpc.SecurityGroupEgressRule(
            resourceName,
            { securityGroupId: groupId, ipProtocol: "tcp", ...rule },
            { parent: this },
        );
    }

    /** Egress from the tasks to the database, once it exists. */
    private allowTasksToDatabase(name: string): void {
        this.egressRule(`${name}-tasks-to-db`, this.securityGroups.tasks.id, {
            referencedSecurityGroupId: this.database.securityGroup.id,
            fromPort: POSTGRES_PORT,
            toPort: POSTGRES_PORT,
            description: "the database",
        });
    }

    /**
     * A 48-character token Secrets Manager generates (GetRandomPassword) into a write-only field:
     * the provider sends it to AWS and returns it in no output. The engine still keeps the initial
     * input in state, encrypted as a secret (pulumi/docs#16806, pulumi-terraform-bridge#3201).
     */
    private createApiToken(
        name: string,
        version: number,
    ): { secret: aws.secretsmanager.Secret; version: aws.secretsmanager.SecretVersion } {
        const secret = new aws.secretsmanager.Secret(
            `${name}-api-token`,
            { description: `Bearer token for ${name}'s write endpoints` },
            { parent: this },
        );
        const token = aws.secretsmanager.getRandomPasswordOutput(
            { passwordLength: 48, excludePunctuation: true },
            { parent: this },
        );
        const value = new aws.secretsmanager.SecretVersion(
            `${name}-api-token-value`,
            {
                secretId: secret.id,
                secretStringWo: pulumi.secret(token.randomPassword),
                secretStringWoVersion: version,
            },
            { parent: this },
        );
        return { secret, version: value };
    }

    /**
     * One token per caller, `{"current": <48 characters Secrets Manager generates>}`, written
     * write-only like the admin's. A rotation writes `{"current": new, "previous": old}` outside
     * Pulumi (docs/cost-tracker-api.md); the version number here never changes, so `up` keeps it.
     */
    private createCallerTokens(
        name: string,
        args: CostTrackerArgs,
    ): { secrets: CallerTokenSecrets; versions: aws.secretsmanager.SecretVersion[] } {
        const versions: aws.secretsmanager.SecretVersion[] = [];
        const token = (id: string, description: string, secretName?: string) => {
            // A fixed name is kept with its recovery window where data is protected, else freed at once for a re-create.
            const fixed = secretName !== undefined;
            const secret = new aws.secretsmanager.Secret(
                `${name}-${id}-token`,
                {
                    description,
                    ...(fixed ? { name: secretName } : {}),
                    ...(fixed && !args.protect ? { recoveryWindowInDays: 0 } : {}),
                },
                { parent: this, ...(fixed && args.protect ? { retainOnDelete: true } : {}) },
            );
            const random = aws.secretsmanager.getRandomPasswordOutput(
                { passwordLength: 48, excludePunctuation: true },
                { parent: this },
            );
            const version = new aws.secretsmanager.SecretVersion(
                `${name}-${id}-token-value`,
                {
                    secretId: secret.id,
                    secretStringWo: pulumi.secret(
                        random.randomPassword.apply((current) => JSON.stringify({ current })),
                    ),
                    secretStringWoVersion: 1,
                },
                { parent: this },
            );
            versions.push(version);
            return secret;
        };
        const teams: Record<string, aws.secretsmanager.Secret> = {};
        for (const team of args.budgets.teams)
            teams[team.name] = token(
                `team-${team.name}`,
                `${name}: team ${team.name}'s token for its own usage pushes and GPU requests`,
                args.teamSecretsPrefix === undefined
                    ? undefined
                    : `${args.teamSecretsPrefix}/teams/${team.name}/cost-tracker-token`,
            );
        const secrets = {
            platform: token(
                "platform",
                `${name}: the budget gate's token (any team, workload-bound requests and releases)`,
            ),
            portal: token("portal", `${name}: the portal's token (acts for a signed-in user's own teams)`),
            teams,
        };
        return { secrets, versions };
    }

    /**
     * The webhook URL, from stack config (set it with `pulumi config set --secret`), into a secret
     * the tasks read. Write-only, as the token: the provider keeps no value in the resource's
     * outputs, though the engine keeps the input, encrypted, in state (pulumi/docs#16806). A
     * changed URL is a new version number (a digest of it), so the new value reaches AWS.
     */
    private createWebhookSecret(
        name: string,
        url: string,
    ): { secret: aws.secretsmanager.Secret; version: aws.secretsmanager.SecretVersion } {
        const secret = new aws.secretsmanager.Secret(
            `${name}-alert-webhook`,
            { description: `Webhook ${name} posts alerts to` },
            { parent: this },
        );
        const version = new aws.secretsmanager.SecretVersion(
            `${name}-alert-webhook-value`,
            { secretId: secret.id, secretStringWo: pulumi.secret(url), secretStringWoVersion: versionNumberOf(url) },
            { parent: this },
        );
        return { secret, version };
    }

    /** A role ECS tasks assume (only for this account's ECS), with one inline policy. */
    private createRole(name: string, description: string, statements: PolicyStatement[]): aws.iam.Role {
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const role = new aws.iam.Role(
            `${name}-role`,
            {
                description,
                assumeRolePolicy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Service: "ecs-tasks.amazonaws.com" },
                            Action: "sts:AssumeRole",
                            // The confused-deputy guard ECS documents: only this account's tasks.
                            Condition: { StringEquals: { "aws:SourceAccount": account } },
                        },
                    ],
                }),
            },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            `${name}-policy`,
            { role: role.id, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }) },
            { parent: this },
        );
        return role;
    }

    /** The config document: budgets from the stack, alerts to the topic, sources through the cluster's API server. */
    private documentFor(args: CostTrackerArgs, s: ResolvedTracker): pulumi.Output<CostTrackerConfig> {
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const cluster = args.cluster;
        const pipelines = pulumi.all(
            (args.pipelines ?? []).map((p) => pulumi.all([p.queueName]).apply(([queueName]) => ({ ...p, queueName }))),
        );
        return pulumi
            .all([
                this.alertTopic.arn,
                region,
                cluster?.endpoint,
                cluster?.certificateAuthorityData,
                cluster?.name,
                pipelines,
            ])
            .apply(([snsTopicArn, clusterRegion, endpoint, caData, clusterName, queues]) =>
                buildCostTrackerConfig({
                    ...args.budgets,
                    alerts: { snsTopicArn },
                    sources: {
                        ...(s.costExplorer ? { costExplorer: { region: COST_EXPLORER_REGION, tagKey: "team" } } : {}),
                        ...(queues.length > 0 ? { pipelineInputs: { region: clusterRegion, pipelines: queues } } : {}),
                        ...(endpoint && caData && clusterName && args.clusterData
                            ? {
                                  kubernetesApi: {
                                      server: endpoint,
                                      certificateAuthorityData: caData,
                                      clusterName,
                                      region: clusterRegion,
                                  },
                                  opencost: { url: `${endpoint}${args.clusterData.proxyPaths.opencost}` },
                                  // ClusterCostData's Prometheus keeps DCGM's own namespace label (honor_labels).
                                  prometheus: {
                                      url: `${endpoint}${args.clusterData.proxyPaths.prometheus}`,
                                      namespaceLabel: "namespace",
                                  },
                              }
                            : {}),
                    },
                }),
            );
    }

    private createTaskDefinition(name: string, s: ResolvedTracker): aws.ecs.TaskDefinition {
        const db = this.database;
        // Its own user, never the master user (components/costs/database-user.ts).
        const databaseUrl = pulumi.interpolate`postgres://${DATABASE_USER.name}@${db.address}:${db.port}/${db.databaseName}?sslmode=verify-full`;
        const secrets = [
            { name: "COST_TRACKER_API_TOKEN", valueFrom: this.apiTokenSecret.arn },
            ...callerSecrets(this.callerTokenSecrets).map((c) => ({ name: c.variable, valueFrom: c.secret.arn })),
            // A key of a JSON secret (`<arn>:<json-key>:<version-stage>:<version-id>`; empty: the current version).
            { name: "DATABASE_PASSWORD", valueFrom: pulumi.interpolate`${this.databaseUserSecret.arn}:password::` },
            ...(this.webhookSecret
                ? [{ name: "COST_TRACKER_ALERT_WEBHOOK_URL", valueFrom: this.webhookSecret.arn }]
                : []),
        ];
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const logs = (prefix: string) => ({
            "awslogs-group": this.logGroup.name,
            "awslogs-region": region,
            "awslogs-stream-prefix": prefix,
        });
        const containers = pulumi.jsonStringify([
            {
                name: CONTAINER_NAME,
                image: this.image.imageUri,
                essential: true,
                dependsOn: [{ containerName: DATABASE_USER.container, condition: "SUCCESS" }],
                portMappings: [{ containerPort: COST_TRACKER_DEFAULTS.containerPort, protocol: "tcp" }],
                environment: [
                    { name: "PORT", value: String(COST_TRACKER_DEFAULTS.containerPort) },
                    { name: "DATABASE_URL", value: databaseUrl },
                    { name: "COST_TRACKER_CONFIG_JSON", value: this.config.apply((doc) => JSON.stringify(doc)) },
                ],
                secrets,
                readonlyRootFilesystem: true,
                logConfiguration: { logDriver: "awslogs", options: logs(CONTAINER_NAME) },
            },
            rdsCaEcsContainer(region.apply(rdsCaBundleUrl), logs(RDS_CA.container)),
            databaseUserContainer({
                host: db.address,
                port: db.port,
                database: db.databaseName,
                masterSecretArn: db.secretArn,
                userSecretArn: this.databaseUserSecret.arn,
                logs: logs(DATABASE_USER.container),
            }),
        ]);
        return new aws.ecs.TaskDefinition(
            `${name}-task`,
            {
                family: name,
                requiresCompatibilities: ["FARGATE"],
                networkMode: "awsvpc",
                cpu: String(s.cpu),
                memory: String(s.memory),
                runtimePlatform: { cpuArchitecture: s.architecture, operatingSystemFamily: "LINUX" },
                executionRoleArn: this.executionRole.arn,
                taskRoleArn: this.taskRole.arn,
                containerDefinitions: containers,
                // Fargate's task storage, shared by the containers: RDS's CA bundle, fetched at start.
                volumes: [{ name: RDS_CA.volume }],
            },
            { parent: this, dependsOn: this.secretValues },
        );
    }

    private createLoadBalancer(name: string, args: CostTrackerArgs, s: ResolvedTracker) {
        const child = { parent: this };
        const loadBalancer = new aws.lb.LoadBalancer(
            `${name}-alb`,
            {
                internal: true,
                loadBalancerType: "application",
                subnets: args.privateSubnetIds,
                securityGroups: [this.securityGroups.loadBalancer.id],
                dropInvalidHeaderFields: true,
                enableDeletionProtection: s.protect,
            },
            child,
        );
        const targetGroup = new aws.lb.TargetGroup(
            `${name}-tg`,
            {
                vpcId: args.vpcId,
                targetType: "ip",
                protocol: "HTTP",
                port: COST_TRACKER_DEFAULTS.containerPort,
                // Time for a stopping task's requests in flight (the service stops gracefully on SIGTERM).
                deregistrationDelay: 30,
                healthCheck: {
                    path: "/readyz",
                    matcher: "200",
                    interval: 15,
                    timeout: 5,
                    healthyThreshold: 2,
                    unhealthyThreshold: 3,
                },
            },
            child,
        );
        const forward = [{ type: "forward", targetGroupArn: targetGroup.arn }];
        const listeners = args.certificateArn
            ? [
                  new aws.lb.Listener(
                      `${name}-https`,
                      {
                          loadBalancerArn: loadBalancer.arn,
                          port: HTTPS_PORT,
                          protocol: "HTTPS",
                          sslPolicy: TLS_POLICY,
                          certificateArn: args.certificateArn,
                          defaultActions: forward,
                      },
                      child,
                  ),
                  new aws.lb.Listener(
                      `${name}-http-redirect`,
                      {
                          loadBalancerArn: loadBalancer.arn,
                          port: HTTP_PORT,
                          protocol: "HTTP",
                          defaultActions: [
                              {
                                  type: "redirect",
                                  redirect: { protocol: "HTTPS", port: String(HTTPS_PORT), statusCode: "HTTP_301" },
                              },
                          ],
                      },
                      child,
                  ),
              ]
            : [
                  new aws.lb.Listener(
                      `${name}-http`,
                      { loadBalancerArn: loadBalancer.arn, port: HTTP_PORT, protocol: "HTTP", defaultActions: forward },
                      child,
                  ),
              ];
        return { loadBalancer, targetGroup, listeners };
    }

    private createService(name: string, args: CostTrackerArgs, s: ResolvedTracker): aws.ecs.Service {
        this.allowTasksToDatabase(name);
        return new aws.ecs.Service(
            `${name}-service`,
            {
                cluster: this.ecsCluster.arn,
                taskDefinition: this.taskDefinition.arn,
                launchType: "FARGATE",
                platformVersion: "LATEST",
                desiredCount: s.desiredCount,
                // Fargate spreads a service's tasks over the subnets' zones; rebalancing keeps them spread after a zone recovers.
                availabilityZoneRebalancing: "ENABLED",
                networkConfiguration: {
                    subnets: args.privateSubnetIds,
                    securityGroups: [this.securityGroups.tasks.id],
                    assignPublicIp: false,
                },
                loadBalancers: [
                    {
                        targetGroupArn: this.targetGroup.arn,
                        containerName: CONTAINER_NAME,
                        containerPort: COST_TRACKER_DEFAULTS.containerPort,
                    },
                ],
                deploymentCircuitBreaker: { enable: true, rollback: true },
                deploymentMinimumHealthyPercent: 100,
                deploymentMaximumPercent: 200,
                // Migrations and the first connection to a new database take a while.
                healthCheckGracePeriodSeconds: 120,
                // Tasks carry the service's tags (the budget tags): Fargate spend lands on the right budget.
                propagateTags: "SERVICE",
                enableEcsManagedTags: true,
            },
            // Target tracking owns the count once the service runs.
            { parent: this, dependsOn: [...this.listeners, ...this.secretValues], ignoreChanges: ["desiredCount"] },
        );
    }

    private createAutoscaling(name: string, s: ResolvedTracker): void {
        const target = new aws.appautoscaling.Target(
            `${name}-scaling`,
            {
                serviceNamespace: "ecs",
                scalableDimension: "ecs:service:DesiredCount",
                resourceId: pulumi.interpolate`service/${this.ecsCluster.name}/${this.service.name}`,
                minCapacity: s.desiredCount,
                maxCapacity: s.maxCount,
            },
            { parent: this },
        );
        new aws.appautoscaling.Policy(
            `${name}-cpu-target`,
            {
                policyType: "TargetTrackingScaling",
                serviceNamespace: target.serviceNamespace,
                scalableDimension: target.scalableDimension,
                resourceId: target.resourceId,
                targetTrackingScalingPolicyConfiguration: {
                    predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
                    targetValue: COST_TRACKER_DEFAULTS.cpuTargetPercent,
                    scaleInCooldown: 300,
                    scaleOutCooldown: 60,
                },
            },
            { parent: this },
        );
    }
}

type ResolvedTracker = {
    cpu: number;
    memory: number;
    desiredCount: number;
    maxCount: number;
    architecture: FargateArchitecture;
    costExplorer: boolean;
    logRetentionDays: number;
    protect: boolean;
    databaseMultiAz: boolean;
    apiTokenVersion: number;
    databaseUserVersion: number;
    database: { instanceClass: string; allocatedStorageGiB: number; backupRetentionDays: number };
};

function resolveArgs(args: CostTrackerArgs): ResolvedTracker {
    const desiredCount = args.desiredCount ?? COST_TRACKER_DEFAULTS.desiredCount;
    return {
        cpu: args.cpu ?? COST_TRACKER_DEFAULTS.cpu,
        memory: args.memory ?? COST_TRACKER_DEFAULTS.memory,
        desiredCount,
        maxCount: args.maxCount ?? defaultMaxCount(desiredCount),
        architecture: args.architecture ?? "ARM64",
        costExplorer: args.costExplorer ?? true,
        logRetentionDays: args.logRetentionDays ?? COST_TRACKER_DEFAULTS.logRetentionDays,
        protect: args.protect ?? false,
        databaseMultiAz: args.databaseMultiAz ?? false,
        apiTokenVersion: args.apiTokenVersion ?? 1,
        databaseUserVersion: args.databaseUserVersion ?? 1,
        database: { ...COST_TRACKER_DEFAULTS.database, ...withoutUndefined(args.database ?? {}) },
    };
}

/** Each caller secret with the variable the service reads it from (services/cost-tracker/src/settings.ts). */
function callerSecrets(tokens: CallerTokenSecrets): Array<{ variable: string; secret: aws.secretsmanager.Secret }> {
    return [
        { variable: "COST_TRACKER_TOKEN_PLATFORM", secret: tokens.platform },
        { variable: "COST_TRACKER_TOKEN_PORTAL", secret: tokens.portal },
        ...Object.entries(tokens.teams).map(([team, secret]) => ({
            variable: `COST_TRACKER_TOKEN_TEAM_${team.toUpperCase().replace(/-/g, "_")}`,
            secret,
        })),
    ];
}

/** A write-only value's version number that changes with the value: 31 bits of its SHA-256 (not reversible to the URL). */
function versionNumberOf(value: string): number {
    return crypto.createHash("sha256").update(value).digest().readUInt32BE(0) >>> 1;
}

const ARCHITECTURE_PLATFORMS: Record<FargateArchitecture, "linux/arm64" | "linux/amd64"> = {
    ARM64: "linux/arm64",
    X86_64: "linux/amd64",
};

function withoutUndefined<T extends object>(value: T): Partial<T> {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A host name that is one, and one with every certificate. */
function trackerHostProblems(args: Pick<CostTrackerArgs, "hostName" | "certificateArn">): SettingProblem[] {
    if (args.hostName !== undefined && !isHostName(args.hostName))
        return [
            {
                key: "hostName",
                message: `must be a host name such as cost-tracker.example.com (found "${args.hostName}")`,
            },
        ];
    if (args.certificateArn !== undefined && args.hostName === undefined)
        return [
            {
                key: "hostName",
                message:
                    "is required with certificateArn: no certificate can match the load balancer's AWS name; name the host the certificate covers",
            },
        ];
    return [];
}

/** Every problem with the arguments, keyed by argument name, before anything is created. */
export function costTrackerArgsProblems(args: CostTrackerArgs): SettingProblem[] {
    const problems = [
        ...costTrackerSizingProblems("", {
            ...args,
            // An output is an ARN the cloud made; only a literal one can be checked here.
            certificateArn: typeof args.certificateArn === "string" ? args.certificateArn : undefined,
        }),
        ...trackerHostProblems(args),
        ...containerImageArgsProblems({ build: args.build, image: args.image }),
        // The document as the service will check it, with placeholders for what the cloud assigns.
        ...costTrackerConfigProblems(
            buildCostTrackerConfig({
                ...args.budgets,
                alerts: { snsTopicArn: "arn:aws:sns:us-east-1:123456789012:placeholder" },
            }),
        ).map((p) => ({ key: `budgets.${p.key}`, message: p.message })),
    ];
    if (args.clusterData && !args.cluster)
        problems.push({
            key: "cluster",
            message: "is required with clusterData: the tracker reads the cost data through that cluster's API server",
        });
    if (args.architecture !== undefined && !["ARM64", "X86_64"].includes(args.architecture)) {
        problems.push({ key: "architecture", message: `must be "ARM64" or "X86_64" (found "${args.architecture}")` });
    }
    if (args.logRetentionDays !== undefined && !CLOUDWATCH_RETENTION_DAYS.includes(args.logRetentionDays)) {
        problems.push({
            key: "logRetentionDays",
            message: `must be a retention CloudWatch Logs offers: ${CLOUDWATCH_RETENTION_DAYS.join(", ")}`,
        });
    }
    return problems;
}

/** Retention periods CloudWatch Logs accepts (PutRetentionPolicy). */
const CLOUDWATCH_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * What ECS may do for the tasks before they start: pull the image from its repository, write
 * to the service's log group, read the service's own secrets. Nothing else.
 */
export function executionRoleStatements(refs: {
    repositoryArn?: pulumi.Input<string>;
    logGroupArn: pulumi.Input<string>;
    secretArns: pulumi.Input<string>[];
}): PolicyStatement[] {
    const statements: PolicyStatement[] = [];
    if (refs.repositoryArn) {
        statements.push(
            {
                Sid: "PullImage",
                Effect: "Allow",
                Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                Resource: [refs.repositoryArn],
            },
            // GetAuthorizationToken has no resource-level permissions: the token only lets the role reach repositories it may pull from (above).
            {
                Sid: "EcrLoginHasNoResourceLevelPermissions",
                Effect: "Allow",
                Action: ["ecr:GetAuthorizationToken"],
                Resource: "*",
            },
        );
    }
    statements.push(
        {
            Sid: "WriteLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: [pulumi.interpolate`${refs.logGroupArn}:log-stream:*`],
        },
        {
            Sid: "ReadOwnSecrets",
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue"],
            Resource: refs.secretArns,
        },
    );
    return statements;
}

/**
 * What the service itself may do: read spend from Cost Explorer and publish to its own alert
 * topic. Cost Explorer has no resource-level permissions (its actions take no ARN), so
 * `ce:GetCostAndUsage` on `*` is the one wildcard; it reads the account's bill, nothing more.
 * What it may read in the cluster is Kubernetes RBAC's to decide (the access entry's group).
 */
export function taskRoleStatements(refs: {
    alertTopicArn: pulumi.Input<string>;
    costExplorer: boolean;
    /** Read the pipelines' queue metrics: `cloudwatch:GetMetricData` takes no resource (Service Authorization Reference, Amazon CloudWatch), so `*`. */
    pipelineMetrics?: boolean;
}): PolicyStatement[] {
    return [
        ...(refs.pipelineMetrics
            ? [
                  {
                      Sid: "CloudWatchGetMetricDataHasNoResourceLevelPermissions",
                      Effect: "Allow" as const,
                      Action: ["cloudwatch:GetMetricData"],
                      Resource: "*",
                  },
              ]
            : []),
        ...(refs.costExplorer
            ? [
                  {
                      Sid: "CostExplorerHasNoResourceLevelPermissions",
                      Effect: "Allow" as const,
                      Action: ["ce:GetCostAndUsage"],
                      Resource: "*",
                  },
              ]
            : []),
        { Sid: "PublishAlerts", Effect: "Allow", Action: ["sns:Publish"], Resource: [refs.alertTopicArn] },
    ];
}
