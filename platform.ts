import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Cluster, ClusterAddons, ClusterAutoscaler, DeployRunner, NodePool } from "./components/cluster";
import {
    ClusterCostData,
    ContainerImage,
    CostTracker,
    PostgresDatabase,
    buildCostTrackerConfig,
} from "./components/costs";
import { GpuConfigGate, GpuOperator } from "./components/gpu";
import { InferencePipeline, Keda } from "./components/inference";
import { AliasRecords, HostCertificate, Network } from "./components/network";
import type { AliasTarget } from "./components/network";
import {
    ArgoCd,
    Backstage,
    ExternalSecrets,
    GitOps,
    INGRESS_DEFAULTS,
    LoadBalancerController,
    Mlflow,
    ServiceDatabases,
    TeamSecretStore,
} from "./components/portal";
import type { PortalClassScope, PortalIngressSettings } from "./components/portal";
import {
    BUDGET_GATE_NAMES,
    BudgetGate,
    KUEUE_OBJECT_DEFAULTS,
    Kueue,
    KueueQueues,
    buildBudgetGateConfig,
} from "./components/scheduling";
import { TeamNamespace, TenancyAdmission, WorkloadClasses } from "./components/tenancy";
import type { PlatformConfig } from "./stacks";
import { certificateHostNames, portalHostNames } from "./stacks/dns";

/** Everything the platform stack builds, for index.ts to export and tests to inspect. */
export interface Platform {
    readonly awsProvider: aws.Provider;
    readonly network: Network;
    readonly cluster: Cluster;
    /** The GitHub Actions runner inside the VPC, with `cluster.deployRunner`. */
    readonly deployRunner?: DeployRunner;
    readonly nodePools: Record<string, NodePool>;
    readonly addons: ClusterAddons;
    /** Cluster Autoscaler; absent in the bootstrap phase, which creates nothing in the cluster. */
    readonly autoscaler?: ClusterAutoscaler;
    /** NVIDIA's GPU Operator, with every GPU pool's sharing config; absent when the stack has no GPU pool. */
    readonly gpuOperator?: GpuOperator;
    /** Holds time-sliced and MIG nodes back from the autoscaler until they offer their GPU layout; absent without such pools. */
    readonly gpuConfigGate?: GpuConfigGate;
    /** Priority classes and the per-pod GPU limit the cluster enforces; absent in the bootstrap phase. */
    readonly workloadClasses?: WorkloadClasses;
    /** The cluster's tenancy rules (docs/tenancy.md); absent in the bootstrap phase. */
    readonly tenancyAdmission?: TenancyAdmission;
    readonly teams: Record<string, TeamNamespace>;
    /** KEDA, installed only when the stack has inference pipelines. */
    readonly keda?: Keda;
    readonly inferencePipelines: Record<string, InferencePipeline>;
    /** OpenCost and Prometheus in the cluster, the data the cost tracker reads; absent when it is disabled. */
    readonly costData?: ClusterCostData;
    /** The GPU cost tracker on ECS Fargate; absent when `costTracker.enabled` is false. */
    readonly costTracker?: CostTracker;
    /** Kueue, the teams' queues and the budget gate; absent when `scheduling` (or the cost tracker) is off. */
    readonly kueue?: Kueue;
    readonly kueueQueues?: KueueQueues;
    readonly budgetGate?: BudgetGate;
    /** The portal layer: the parts the stack turns on (`portal`, `gitops`, `mlflow`); absent when none is. */
    readonly portal?: PortalLayer;
    /** The DNS-validated certificate of the hosts without one of their own, with `dns` (stacks/dns.ts). */
    readonly certificate?: HostCertificate;
    /** Each host name the stack serves and the load balancer it must point at. */
    readonly hostTargets: Readonly<Record<string, AliasTarget>>;
    /** The hosts' alias records in the `dns` zone; absent without it. */
    readonly dnsRecords?: AliasRecords;
}

export interface PortalLayer {
    readonly loadBalancerController: LoadBalancerController;
    readonly externalSecrets: ExternalSecrets;
    /** Per team, its SecretStore on its own prefix in Secrets Manager, as its own IAM role. */
    readonly teamSecretStores: Record<string, TeamSecretStore>;
    /** The portal's own PostgreSQL instance, and a database and user on it per service; with Backstage or MLflow. */
    readonly database?: PostgresDatabase;
    readonly serviceDatabases?: ServiceDatabases;
    readonly argoCd?: ArgoCd;
    readonly gitops?: GitOps;
    readonly mlflow?: Mlflow;
    readonly backstage?: Backstage;
}

/** The cost tracker's image is built from this repository: its Dockerfile's context is the root (it imports the catalog). */
/**
 * The platform's own Backstage app (backstage/Dockerfile). Linux/amd64: the catalog's CPU
 * instance types, where Backstage runs, are all Intel (catalog/instances.ts).
 */
const BACKSTAGE_BUILD = {
    context: path.join(path.relative(process.cwd(), __dirname) || ".", "backstage"),
    dockerfile: "Dockerfile",
    platform: "linux/amd64",
} as const;

const COST_TRACKER_BUILD = {
    dockerfile: "services/cost-tracker/Dockerfile",
    context: path.relative(process.cwd(), __dirname) || ".",
};

/** The budget gate's image, built beside the cost tracker's from the same context. */
const BUDGET_GATE_BUILD = { ...COST_TRACKER_BUILD, dockerfile: "services/budget-gate/Dockerfile" };

/**
 * Builds the platform from a validated stack config. With `bootstrap`, only what the AWS API
 * makes: everything that talks to the Kubernetes API (Helm releases, namespaces, priority
 * classes, and the teams and pipelines that live in namespaces) waits for the full run.
 */
export function buildPlatform(config: PlatformConfig): Platform {
    const name = `${config.project}-${config.stack}`;
    // Tags are set once, here, as the provider's default tags; every AWS resource inherits them.
    const awsProvider = new aws.Provider(`${name}-aws`, {
        region: config.region as aws.Region,
        defaultTags: { tags: config.tags },
    });
    const withAws: pulumi.ComponentResourceOptions = { providers: { aws: awsProvider } };

    const network = buildNetwork(name, config, withAws);
    const deployRunner = buildDeployRunner(name, config, network, withAws);
    const cluster = buildCluster(name, config, network, deployRunner, withAws);
    const nodePools = buildNodePools(config, network, cluster, withAws);
    // Add-ons and the autoscaler need a node to run on: the CPU pools come first.
    const cpuPools = Object.values(nodePools).filter((pool) => pool.gpusPerNode === 0);
    const clusterScoped: pulumi.ComponentResourceOptions = {
        ...withAws,
        parent: cluster,
        providers: { aws: awsProvider, kubernetes: cluster.provider },
        dependsOn: cpuPools,
    };
    const addons = new ClusterAddons(
        `${name}-addons`,
        { clusterName: cluster.clusterName, oidc: cluster.oidcProvider, region: config.region },
        clusterScoped,
    );
    if (config.bootstrap)
        return {
            awsProvider,
            network,
            cluster,
            deployRunner,
            nodePools,
            addons,
            teams: {},
            inferencePipelines: {},
            hostTargets: {},
        };

    const autoscaler = buildAutoscaler(name, config, cluster, nodePools, clusterScoped);
    const gpu = buildGpuSharing(name, nodePools, cpuPools, clusterScoped);
    const tenancy = buildTenancy(name, config, cluster, nodePools, clusterScoped);
    const pipelines = buildInferencePipelines(name, config, cluster, nodePools, tenancy.teams, clusterScoped);
    const certificate = buildHostCertificate(name, config, withAws);
    const { costData, costTracker } = buildCostTracker(
        config,
        network,
        cluster,
        pipelines.inferencePipelines,
        { clusterScoped, withAws },
        certificate,
    );
    const portal = buildPortalLayer(config, network, cluster, tenancy.teams, costTracker, {
        clusterScoped,
        withAws,
        cpuPools,
        certificateArn: certificate?.arn,
    });
    const scheduling = buildScheduling(config, cluster, nodePools, tenancy.teams, costTracker, {
        clusterScoped,
        withAws,
        cpuPools,
    });
    return {
        awsProvider,
        network,
        cluster,
        deployRunner,
        nodePools,
        addons,
        autoscaler,
        ...gpu,
        ...tenancy,
        ...pipelines,
        costData,
        costTracker,
        ...scheduling,
        portal,
        certificate,
        ...buildDnsRecords(name, config, network, costTracker, portal, withAws),
    };
}

/** With `dns.certificate`, one ACM certificate for every host that has none of its own. */
function buildHostCertificate(
    name: string,
    config: PlatformConfig,
    withAws: pulumi.ComponentResourceOptions,
): HostCertificate | undefined {
    const hostNames = certificateHostNames(config);
    if (!config.dns || hostNames.length === 0) return undefined;
    return new HostCertificate(`${name}-hosts`, { hostNames, zoneId: config.dns.zoneId }, withAws);
}

/**
 * Where each host must point: the tracker's host at its load balancer, the portal's at the ALB
 * the controller made for their ingress group, whose name Pulumi reads from the Ingress's status
 * (it waits for `.status.loadBalancer.ingress`, so it is known on the first `up`). With `dns`,
 * alias records in the zone.
 */
function buildDnsRecords(
    name: string,
    config: PlatformConfig,
    network: Network,
    costTracker: CostTracker | undefined,
    portal: PortalLayer | undefined,
    withAws: pulumi.ComponentResourceOptions,
): Pick<Platform, "hostTargets" | "dnsRecords"> {
    const hostTargets: Record<string, AliasTarget> = {};
    if (costTracker && config.costTracker?.hostName)
        hostTargets[config.costTracker.hostName] = {
            dnsName: costTracker.loadBalancer.dnsName,
            zoneId: costTracker.loadBalancer.zoneId,
        };
    if (portal && config.portalLayer) {
        const hosts = portalHostNames(config.portalLayer);
        for (const [host, part] of [
            [hosts.backstage, portal.backstage],
            [hosts.argocd, portal.argoCd],
            [hosts.mlflow, portal.mlflow],
        ] as const) {
            if (host && part)
                hostTargets[host] = { dnsName: part.ingress.status.loadBalancer.ingress.apply((lb) => lb[0].hostname) };
        }
    }
    const dns = config.dns;
    if (!dns || Object.keys(hostTargets).length === 0) return { hostTargets };
    const dnsRecords = new AliasRecords(
        `${name}-hosts`,
        {
            zoneId: dns.zoneId,
            records: hostTargets,
            privateZoneVpcId: dns.private ? network.vpcId : undefined,
        },
        withAws,
    );
    return { hostTargets, dnsRecords };
}

function buildNetwork(name: string, config: PlatformConfig, withAws: pulumi.ComponentResourceOptions): Network {
    return new Network(
        name,
        {
            region: config.region,
            cidr: config.network.cidr,
            availabilityZones: config.network.availabilityZones,
            natGateways: config.network.natGateways,
            flowLogs: config.network.flowLogs,
            flowLogRetentionDays: config.logRetentionDays,
        },
        withAws,
    );
}

/** The GitHub Actions runner inside the VPC, with `cluster.deployRunner`. */
function buildDeployRunner(
    name: string,
    config: PlatformConfig,
    network: Network,
    withAws: pulumi.ComponentResourceOptions,
): DeployRunner | undefined {
    const runner = config.cluster.deployRunner;
    if (!runner) return undefined;
    return new DeployRunner(
        `${name}-deploy-runner`,
        {
            vpcId: network.vpcId,
            subnetIds: network.privateSubnetIds,
            region: config.region,
            repository: runner.repository,
            connectionArn: runner.connectionArn,
            logRetentionDays: config.logRetentionDays,
            workflows: runner.workflows,
            actorAccountIds: runner.actorAccountIds,
        },
        withAws,
    );
}

function buildCluster(
    name: string,
    config: PlatformConfig,
    network: Network,
    deployRunner: DeployRunner | undefined,
    withAws: pulumi.ComponentResourceOptions,
): Cluster {
    return new Cluster(
        name,
        {
            clusterName: name,
            kubernetesVersion: config.cluster.kubernetesVersion,
            region: config.region,
            vpcId: network.vpcId,
            privateSubnetIds: network.privateSubnetIds,
            publicSubnetIds: network.publicSubnetIds,
            endpointAccess: config.cluster.endpointAccess,
            publicAccessCidrs: config.cluster.publicAccessCidrs,
            adminRoleArns: config.cluster.adminRoleArns,
            viewerRoleArns: config.cluster.previewRoleArns,
            creatorRoleArn: config.cluster.creatorRoleArn,
            apiAccess: {
                securityGroupIds: [
                    ...(deployRunner ? [deployRunner.securityGroup.id] : []),
                    ...(config.cluster.apiAccess?.securityGroupIds ?? []),
                ],
                cidrs: config.cluster.apiAccess?.cidrs,
            },
            logRetentionDays: config.logRetentionDays,
            protect: config.protectData,
            supportType: config.cluster.supportType,
        },
        withAws,
    );
}

function buildNodePools(
    config: PlatformConfig,
    network: Network,
    cluster: Cluster,
    withAws: pulumi.ComponentResourceOptions,
): Record<string, NodePool> {
    const nodePools: Record<string, NodePool> = {};
    for (const pool of config.nodePools) {
        nodePools[pool.name] = new NodePool(
            pool.name,
            {
                clusterName: cluster.clusterName,
                nodeRoleArn: cluster.nodeRole.arn,
                subnetIds: pool.availabilityZone
                    ? network.privateSubnetIdsIn(pool.availabilityZone)
                    : network.privateSubnetIds,
                instanceType: pool.instanceType,
                minSize: pool.minSize,
                maxSize: pool.maxSize,
                capacityType: pool.capacityType,
                diskSizeGiB: pool.diskSizeGiB,
                diskType: pool.diskType,
                diskIops: pool.diskIops,
                gpuSharing: pool.gpuSharing,
                capacityReservationId: pool.capacityReservationId,
                instanceTags: config.tags,
            },
            { ...withAws, parent: cluster, dependsOn: cluster.nodePrerequisites },
        );
    }
    return nodePools;
}

function buildAutoscaler(
    name: string,
    config: PlatformConfig,
    cluster: Cluster,
    nodePools: Record<string, NodePool>,
    clusterScoped: pulumi.ComponentResourceOptions,
): ClusterAutoscaler {
    return new ClusterAutoscaler(
        `${name}-autoscaler`,
        {
            clusterName: cluster.clusterName,
            kubernetesVersion: config.cluster.kubernetesVersion,
            region: config.region,
            oidc: cluster.oidcProvider,
            autoscalingGroupNames: Object.values(nodePools).map((pool) => pool.autoscalingGroupName),
        },
        clusterScoped,
    );
}

/** The GPU Operator for the pools that share GPUs, and the gate that holds their new nodes back until configured. */
function buildGpuSharing(
    name: string,
    nodePools: Record<string, NodePool>,
    cpuPools: NodePool[],
    clusterScoped: pulumi.ComponentResourceOptions,
): Pick<Platform, "gpuOperator" | "gpuConfigGate"> {
    const sharedGpuPools = Object.entries(nodePools).flatMap(([poolName, pool]) =>
        pool.gpuSharing ? [{ name: poolName, sharing: pool.gpuSharing }] : [],
    );
    if (sharedGpuPools.length === 0) return {};
    const gpuOperator = new GpuOperator(`${name}-gpu-operator`, { pools: sharedGpuPools }, clusterScoped);
    // Pools whose nodes register with the startup taint (poolNodes): the gate removes it.
    const gatedPools = Object.entries(nodePools).flatMap(([poolName, pool]) =>
        pool.startupTaints.length > 0 ? [{ name: poolName, nodeResources: pool.nodeResources }] : [],
    );
    const gpuConfigGate =
        gatedPools.length > 0
            ? new GpuConfigGate(
                  `${name}-gpu-config-gate`,
                  { pools: gatedPools },
                  { ...clusterScoped, dependsOn: [...cpuPools, gpuOperator.namespace] },
              )
            : undefined;
    return { gpuOperator, gpuConfigGate };
}

/** Priority classes, the cluster's tenancy rules, and a namespace per team under its quota. */
function buildTenancy(
    name: string,
    config: PlatformConfig,
    cluster: Cluster,
    nodePools: Record<string, NodePool>,
    clusterScoped: pulumi.ComponentResourceOptions,
): Required<Pick<Platform, "workloadClasses" | "tenancyAdmission">> & Pick<Platform, "teams"> {
    const workloadClasses = new WorkloadClasses(
        `${name}-workload-classes`,
        { classes: config.priorityClasses },
        clusterScoped,
    );
    // The admins besides the deploying identity are the platform: they may change what it owns in team namespaces.
    const tenancyAdmission = new TenancyAdmission(
        `${name}-tenancy`,
        { platformPrincipalArns: config.cluster.adminRoleArns, kubernetesVersion: config.cluster.kubernetesVersion },
        clusterScoped,
    );
    // Every GPU pool of the cluster is open to every team: one node's worth of each is a team's default quota.
    const gpuPools = Object.values(nodePools).filter((pool) => pool.gpusPerNode > 0);
    const teams: Record<string, TeamNamespace> = {};
    for (const team of config.teams) {
        teams[team.name] = new TeamNamespace(
            team.name,
            {
                team: team.name,
                costCenter: team.costCenter,
                monthlyBudgetUsd: team.monthlyBudgetUsd,
                quota: team.quota,
                gpuPools,
                podSecurity: team.podSecurity,
                admissionExemptions: team.admissionExemptions,
                clusterName: cluster.clusterName,
                iamRoleArn: team.iamRoleArn,
                region: config.region,
            },
            clusterScoped,
        );
    }
    return { workloadClasses, tenancyAdmission, teams };
}

/** KEDA once per cluster, and only if a pipeline needs it; each pipeline in its team's namespace. */
function buildInferencePipelines(
    name: string,
    config: PlatformConfig,
    cluster: Cluster,
    nodePools: Record<string, NodePool>,
    teams: Record<string, TeamNamespace>,
    clusterScoped: pulumi.ComponentResourceOptions,
): Pick<Platform, "keda" | "inferencePipelines"> {
    const keda =
        config.inferencePipelines.length > 0
            ? new Keda(`${name}-keda`, { oidc: cluster.oidcProvider }, clusterScoped)
            : undefined;
    const inferencePipelines: Record<string, InferencePipeline> = {};
    for (const { name: pipelineName, pool, priorityClass, team, ...settings } of config.inferencePipelines) {
        const owner = config.teams.find((t) => t.name === team)!; // validated
        inferencePipelines[pipelineName] = new InferencePipeline(
            pipelineName,
            {
                ...settings,
                oidc: cluster.oidcProvider,
                region: config.region,
                pool: {
                    name: pool,
                    labels: nodePools[pool].labels,
                    nodeResources: nodePools[pool].nodeResources,
                    podRoom: nodePools[pool].podRoom,
                },
                priorityClassName: priorityClass,
                // In the team's namespace, under its quota, LimitRange and network policies.
                team,
                namespace: teams[team].namespaceName,
                createNamespace: false,
                // Its spend is the team's: these win over the provider's default tags, which name the platform team.
                tags: { team, "cost-center": owner.costCenter },
                protect: config.protectData,
                keda,
            },
            { providers: clusterScoped.providers, dependsOn: [teams[team].namespace] },
        );
    }
    return { keda, inferencePipelines };
}

/** What the portal's ingress class admits: its namespaces, the portal's scheme and group, the VPC or the named ranges. */
function portalClassScope(ingress: PortalIngressSettings, vpcCidr: string): PortalClassScope {
    const scheme = ingress.scheme ?? INGRESS_DEFAULTS.scheme;
    const internal = scheme === "internal";
    return {
        scheme,
        groupName: ingress.groupName ?? (internal ? INGRESS_DEFAULTS.internalGroup : INGRESS_DEFAULTS.publicGroup),
        inboundCidrs: ingress.allowedCidrs ?? [vpcCidr],
    };
}

/** What every part of the portal layer shares: its options, host names and the controllers it installs first. */
interface PortalContext {
    readonly name: string;
    readonly config: PlatformConfig;
    readonly layer: NonNullable<PlatformConfig["portalLayer"]>;
    readonly cluster: Cluster;
    readonly opts: { clusterScoped: pulumi.ComponentResourceOptions; withAws: pulumi.ComponentResourceOptions };
    /** Cluster-scoped, after the CPU pools (as every add-on) and after `more`. */
    readonly after: (...more: pulumi.Resource[]) => pulumi.ComponentResourceOptions;
    readonly host: (service: string) => string;
}

/**
 * The portal layer (stacks/portal.ts): the load balancer controller and the secrets operator
 * under whatever part is on; Argo CD with the team projects; MLflow; Backstage, whose templates
 * ask the cost tracker. Backstage and MLflow keep their databases on the portal's own PostgreSQL
 * instance, which admits the cluster's nodes (docs/portal.md, "Databases").
 */
function buildPortalLayer(
    config: PlatformConfig,
    network: Network,
    cluster: Cluster,
    teams: Record<string, TeamNamespace>,
    costTracker: CostTracker | undefined,
    opts: {
        clusterScoped: pulumi.ComponentResourceOptions;
        withAws: pulumi.ComponentResourceOptions;
        cpuPools: NodePool[];
        /** The stack's certificate, which covers the portal's hosts when the portal names none of its own. */
        certificateArn?: pulumi.Output<string>;
    },
): PortalLayer | undefined {
    const configured = config.portalLayer;
    if (!configured) return undefined;
    const layer = {
        ...configured,
        ingress: { ...configured.ingress, certificateArn: configured.ingress.certificateArn ?? opts.certificateArn },
    };
    const ctx: PortalContext = {
        name: `${config.project}-${config.stack}`,
        config,
        layer,
        cluster,
        opts,
        after: (...more) => ({ ...opts.clusterScoped, dependsOn: [...opts.cpuPools, ...more] }),
        host: (service) => `${service}.${layer.domain}`,
    };
    const serviceNamespaces = [...(layer.backstage ? ["backstage"] : []), ...(layer.mlflow ? ["mlflow"] : [])];
    // MLflow's users and permissions get a database and user of their own (`mlflow_auth`).
    const services = [...serviceNamespaces, ...(layer.mlflow ? ["mlflow_auth"] : [])];
    const { loadBalancerController, externalSecrets } = buildPortalControllers(ctx, network, serviceNamespaces);
    const teamSecretStores = buildTeamSecretStores(
        ctx.name,
        config.region,
        cluster,
        teams,
        externalSecrets,
        ctx.after(),
    );
    const shared = { loadBalancerController: loadBalancerController.release, externalSecrets, ingress: layer.ingress };
    const { database, serviceDatabases } = buildPortalDatabases(ctx, network, externalSecrets, services);
    const { argoCd, gitops } = buildGitOps(ctx, shared, teams);
    const mlflow = layer.mlflow && serviceDatabases ? buildMlflow(ctx, shared, teams, serviceDatabases) : undefined;
    // Validated: Backstage runs only with Argo CD, MLflow and the cost tracker.
    const backstage =
        layer.backstage && argoCd && gitops && mlflow && costTracker
            ? buildBackstage(ctx, shared, {
                  argoCd,
                  gitops,
                  mlflow,
                  costTracker,
                  teams,
                  serviceDatabases: serviceDatabases!,
              })
            : undefined;
    return {
        loadBalancerController,
        externalSecrets,
        teamSecretStores,
        database,
        serviceDatabases,
        argoCd,
        gitops,
        mlflow,
        backstage,
    };
}

/**
 * MLflow, after its databases: its users and permissions in a database of their own, one MLflow
 * user per team whose credentials sit under the team's secret prefix (docs/mlflow-access.md).
 */
function buildMlflow(
    ctx: PortalContext,
    shared: PortalShared,
    teams: Record<string, TeamNamespace>,
    serviceDatabases: ServiceDatabases,
): Mlflow {
    const { config, layer } = ctx;
    return new Mlflow(
        `${ctx.name}-mlflow`,
        {
            ...shared,
            oidc: ctx.cluster.oidcProvider,
            region: config.region,
            host: ctx.host("mlflow"),
            database: serviceDatabases.databases.mlflow,
            auth: {
                database: serviceDatabases.databases.mlflow_auth,
                secretNamePrefix: `${ctx.name}/portal`,
                teams: Object.values(teams).map((team) => team.namespaceName),
                teamSecretsPrefix: ctx.name,
            },
            replicas: layer.mlflow!.replicas,
            protect: config.protectData,
        },
        ctx.after(serviceDatabases),
    );
}

type PortalShared = {
    loadBalancerController: pulumi.Resource;
    externalSecrets: ExternalSecrets;
    ingress: PortalIngressSettings;
};

/** The load balancer controller (the portal's class and one per team) and the External Secrets Operator. */
function buildPortalControllers(
    ctx: PortalContext,
    network: Network,
    serviceNamespaces: string[],
): Pick<PortalLayer, "loadBalancerController" | "externalSecrets"> {
    const { name, config, layer, cluster } = ctx;
    const loadBalancerController = new LoadBalancerController(
        `${name}-alb-controller`,
        {
            clusterName: cluster.clusterName,
            region: config.region,
            vpcId: network.vpcId,
            // The configured range, known at preview (the VPC's own output is not), so the values can be judged and priced.
            vpcCidr: network.cidr,
            oidc: cluster.oidcProvider,
            defaultTags: config.tags,
            portalClass: portalClassScope(layer.ingress, network.cidr),
            teamNamespaces: config.teams.map((team) => team.name),
        },
        ctx.opts.clusterScoped,
    );
    const externalSecrets = new ExternalSecrets(
        `${name}-external-secrets`,
        {
            oidc: cluster.oidcProvider,
            region: config.region,
            namespaces: [
                ...serviceNamespaces,
                ...(layer.gitops ? ["argocd"] : []),
                ...(serviceNamespaces.length > 0 ? ["portal-databases"] : []),
            ],
            kmsKeyArns: layer.secretsKmsKeyArn ? [layer.secretsKmsKeyArn] : [],
        },
        ctx.opts.clusterScoped,
    );
    return { loadBalancerController, externalSecrets };
}

/** The portal's PostgreSQL instance and a database and user per service on it, when any service needs one. */
function buildPortalDatabases(
    ctx: PortalContext,
    network: Network,
    externalSecrets: ExternalSecrets,
    services: string[],
): Pick<PortalLayer, "database" | "serviceDatabases"> {
    if (services.length === 0) return {};
    const { name, config, layer, cluster } = ctx;
    const database = new PostgresDatabase(
        `${name}-portal-db`,
        {
            vpcId: network.vpcId,
            subnetIds: network.privateSubnetIds,
            instanceClass: layer.database.instanceClass,
            allocatedStorageGiB: layer.database.allocatedStorageGiB,
            backupRetentionDays: layer.database.backupRetentionDays,
            multiAz: layer.highAvailability,
            protect: config.protectData,
            databaseName: "portal",
        },
        ctx.opts.withAws,
    );
    // Pods use their node's security group: the cluster's nodes may connect (team namespaces' egress stops at HTTPS).
    database.allowFrom("cluster-nodes", cluster.nodeSecurityGroupId);
    const serviceDatabases = new ServiceDatabases(
        `${name}-portal-databases`,
        {
            oidc: cluster.oidcProvider,
            region: config.region,
            host: database.address,
            port: database.port,
            masterSecretArn: database.secretArn,
            externalSecrets,
            services,
            secretNamePrefix: `${name}/portal`,
            protect: config.protectData,
        },
        ctx.after(database),
    );
    return { database, serviceDatabases };
}

/** Argo CD, and the GitOps wiring: an ApplicationSet and an AppProject per team. */
function buildGitOps(
    ctx: PortalContext,
    shared: PortalShared,
    teams: Record<string, TeamNamespace>,
): Pick<PortalLayer, "argoCd" | "gitops"> {
    const { name, layer } = ctx;
    const gitopsConfig = layer.gitops;
    if (!gitopsConfig) return {};
    const argoCd = new ArgoCd(
        `${name}-argocd`,
        {
            ...shared,
            host: ctx.host("argocd"),
            highAvailability: layer.highAvailability,
            sso: gitopsConfig.sso,
            adminEnabled: gitopsConfig.adminEnabled,
            teams: gitopsConfig.teams,
            adminGroups: gitopsConfig.adminGroups,
            readOnlyAccounts: layer.backstage ? ["backstage"] : [],
        },
        ctx.opts.clusterScoped,
    );
    // Team namespaces first: their quota, defaults and network policies are in place before anything syncs into them.
    const gitops = new GitOps(
        `${name}-gitops`,
        {
            argoCd,
            externalSecrets: shared.externalSecrets,
            repoUrl: gitopsConfig.repoUrl,
            path: gitopsConfig.path,
            targetRevision: gitopsConfig.targetRevision,
            credentialsSecretArn: gitopsConfig.credentialsSecretArn,
            teams: Object.values(teams).map((team) => ({ name: team.namespaceName, namespace: team.namespaceName })),
        },
        ctx.after(...Object.values(teams)),
    );
    return { argoCd, gitops };
}

/** Backstage, on the platform's own image unless the stack names one, with the portal's own cost tracker credential. */
function buildBackstage(
    ctx: PortalContext,
    shared: PortalShared,
    parts: {
        argoCd: ArgoCd;
        gitops: GitOps;
        mlflow: Mlflow;
        costTracker: CostTracker;
        teams: Record<string, TeamNamespace>;
        serviceDatabases: ServiceDatabases;
    },
): Backstage {
    const { name, config, layer } = ctx;
    const backstage = layer.backstage!;
    const gitopsConfig = layer.gitops!; // validated: Backstage needs Argo CD
    const { argoCd, gitops, mlflow, costTracker } = parts;
    return new Backstage(
        `${name}-backstage`,
        {
            ...shared,
            host: ctx.host("backstage"),
            // The stack's image, or the platform's own app built from backstage/ and pushed to ECR.
            image:
                backstage.image ??
                new ContainerImage(
                    `${name}-backstage-image`,
                    { build: BACKSTAGE_BUILD, protect: config.protectData },
                    ctx.opts.withAws,
                ).imageUri,
            replicas: backstage.replicas,
            database: parts.serviceDatabases.databases.backstage,
            templatesUrl: backstage.templatesUrl,
            githubTokenSecretArn: backstage.githubTokenSecretArn,
            // The portal's own credential: it acts only for a signed-in user's teams, never as the admin.
            costTracker: {
                url: costTracker.url,
                tokenSecretArn: costTracker.callerTokenSecrets.portal.arn,
                tokenProperty: "current",
            },
            argoCd: { url: argoCd.internalUrl, publicUrl: argoCd.url, tokenSecretArn: backstage.argocdTokenSecretArn },
            mlflow: { publicUrl: mlflow.url, teamSecretsPrefix: name },
            gitops: { repoUrl: gitopsConfig.repoUrl, branch: gitopsConfig.targetRevision },
            templateRun: { costTracker, gitops, argoCd, teamNamespaces: Object.values(parts.teams) },
        },
        // Its templates open pull requests on the repository the teams' ApplicationSets watch.
        ctx.after(...(parts.serviceDatabases ? [parts.serviceDatabases] : []), gitops),
    );
}

/** Each team's SecretStore: its secrets under `<stack>/teams/<team>/`, read as the team's own role. */
function buildTeamSecretStores(
    name: string,
    region: string,
    cluster: Cluster,
    teams: Record<string, TeamNamespace>,
    externalSecrets: ExternalSecrets,
    opts: pulumi.ComponentResourceOptions,
): Record<string, TeamSecretStore> {
    const stores: Record<string, TeamSecretStore> = {};
    for (const [team, namespace] of Object.entries(teams))
        stores[team] = new TeamSecretStore(
            `${name}-${team}-secrets`,
            {
                team: namespace.namespaceName,
                stackPrefix: name,
                region,
                oidc: cluster.oidcProvider,
                operator: externalSecrets.release,
            },
            { ...opts, dependsOn: [...((opts.dependsOn as pulumi.Resource[]) ?? []), namespace.namespace] },
        );
    return stores;
}

/** The cost tracker on Fargate, and the cost data it reads from the cluster (on the CPU pool). */
function buildCostTracker(
    config: PlatformConfig,
    network: Network,
    cluster: Cluster,
    inferencePipelines: Record<string, InferencePipeline>,
    opts: { clusterScoped: pulumi.ComponentResourceOptions; withAws: pulumi.ComponentResourceOptions },
    certificate: HostCertificate | undefined,
): Pick<Platform, "costData" | "costTracker"> {
    const tracker = config.costTracker;
    if (!tracker) return {};
    const name = `${config.project}-${config.stack}`;
    const costData = new ClusterCostData(
        `${name}-cost-data`,
        {
            clusterName: cluster.clusterName,
            retentionDays: tracker.metricsRetentionDays,
            maxNodes: config.nodePools.reduce((n, pool) => n + pool.maxSize, 0),
        },
        opts.clusterScoped,
    );
    const costTracker = new CostTracker(
        // Short: the load balancer and target group names it leads must fit in 32 characters.
        "cost-tracker",
        {
            vpcId: network.vpcId,
            privateSubnetIds: network.privateSubnetIds,
            budgets: {
                teams: config.teams,
                nodePools: config.nodePools,
                priorityClasses: config.priorityClasses,
                criticalPriorityClasses: tracker.criticalPriorityClasses,
            },
            cluster: {
                name: cluster.clusterName,
                endpoint: cluster.endpoint,
                certificateAuthorityData: cluster.certificateAuthorityData,
                apiSecurityGroupId: cluster.apiSecurityGroupId,
                nodeSecurityGroupId: cluster.nodeSecurityGroupId,
            },
            clusterData: costData,
            // Each pipeline's cost per processed input: its workers' spend over its queue's deleted messages.
            pipelines: config.inferencePipelines.map((p) => ({
                name: p.name,
                team: p.team,
                namespace: inferencePipelines[p.name].namespace,
                worker: inferencePipelines[p.name].workerName,
                queueName: inferencePipelines[p.name].queue.name,
            })),
            ...(tracker.image ? { image: tracker.image } : { build: COST_TRACKER_BUILD }),
            cpu: tracker.cpu,
            memory: tracker.memory,
            desiredCount: tracker.desiredCount,
            maxCount: tracker.maxCount,
            certificateArn:
                tracker.certificateArn ??
                (tracker.hostName && certificate?.hostNames.includes(tracker.hostName) ? certificate.arn : undefined),
            hostName: tracker.hostName,
            allowedCidrs: tracker.allowedCidrs,
            alertEmail: tracker.alertEmail,
            alertWebhookUrl: tracker.alertWebhookUrl,
            database: {
                instanceClass: tracker.database.instanceClass,
                allocatedStorageGiB: tracker.database.allocatedStorageGiB,
                backupRetentionDays: tracker.database.backupRetentionDays,
            },
            databaseMultiAz: tracker.database.multiAz,
            logRetentionDays: config.logRetentionDays,
            protect: config.protectData,
            // Each team's token where its SecretStore reads: `<project>-<stack>/teams/<team>/`.
            teamSecretsPrefix: name,
        },
        opts.withAws,
    );
    return { costData, costTracker };
}

/**
 * Kueue, the teams' queues with the `budget` AdmissionCheck, and the budget gate that answers it
 * (stacks/scheduling.ts, docs/budget-gate.md). The gate prices as the cost tracker does, from the
 * same config document, and reads the tracker's token through IRSA.
 */
function buildScheduling(
    config: PlatformConfig,
    cluster: Cluster,
    nodePools: Record<string, NodePool>,
    teams: Record<string, TeamNamespace>,
    costTracker: CostTracker | undefined,
    opts: {
        clusterScoped: pulumi.ComponentResourceOptions;
        withAws: pulumi.ComponentResourceOptions;
        cpuPools: NodePool[];
    },
): Pick<Platform, "kueue" | "kueueQueues" | "budgetGate"> {
    const scheduling = config.scheduling;
    if (!scheduling || !costTracker) return {};
    const name = `${config.project}-${config.stack}`;
    const kueue = new Kueue(`${name}-kueue`, { highAvailability: config.environment === "prod" }, opts.clusterScoped);
    const teamNamespaces = Object.values(teams).map((team) => team.namespace);
    const kueueQueues = new KueueQueues(
        `${name}-queues`,
        {
            kueue: kueue.release,
            pools: Object.entries(nodePools)
                .filter(([, pool]) => pool.gpusPerNode > 0)
                .map(([poolName, pool]) => ({ name: poolName, nodeResources: pool.nodeResources })),
            teams: config.teams.map((team) => ({
                name: team.name,
                quota: team.quota,
                queue: scheduling.teamQueues[team.name],
            })),
            classes: config.priorityClasses,
        },
        { ...opts.clusterScoped, dependsOn: [...opts.cpuPools, ...teamNamespaces] },
    );
    const tracker = buildCostTrackerConfig({
        teams: config.teams,
        nodePools: config.nodePools,
        priorityClasses: config.priorityClasses,
        criticalPriorityClasses: config.costTracker?.criticalPriorityClasses,
    });
    const image = new ContainerImage(
        "budget-gate-image",
        scheduling.image ? { image: scheduling.image } : { build: BUDGET_GATE_BUILD },
        opts.withAws,
    );
    const budgetGate = new BudgetGate(
        `${name}-budget-gate`,
        {
            image: image.imageUri,
            config: buildBudgetGateConfig({
                tracker,
                classes: config.priorityClasses,
                admissionCheck: KUEUE_OBJECT_DEFAULTS.admissionCheck,
                namespace: BUDGET_GATE_NAMES.namespace,
                breakerMode: scheduling.breakerMode,
                retryAfterSeconds: scheduling.retryAfterSeconds,
                breakerIntervalSeconds: scheduling.breakerIntervalSeconds,
                defaultRunHours: scheduling.defaultRunHours,
            }),
            trackerUrl: costTracker.url,
            // The platform's own credential (any team, workload-bound), never the admin's.
            tokenSecretArn: costTracker.callerTokenSecrets.platform.arn,
            oidc: cluster.oidcProvider,
            region: config.region,
            teamNamespaces: config.teams.map((team) => team.name),
        },
        { ...opts.clusterScoped, dependsOn: [...opts.cpuPools, kueue.release, ...teamNamespaces] },
    );
    return { kueue, kueueQueues, budgetGate };
}
