/**
 * Prices a stack's resources from the catalog, per 730-hour month: idle (every node group at
 * its minimum) and at maximum scale (every node group at its maximum). The one pricing core:
 * the stack-budget policy and the offline plan's cost table (tools/plan/cost.ts) both call it,
 * so they agree to the cent.
 *
 * It reads only what a real preview shows too. There, remote components (`eks:index:Cluster`,
 * `awsx:ec2:Vpc`) arrive without their inputs but with their children (`aws:eks/cluster:Cluster`,
 * `aws:ec2/natGateway:NatGateway`); under the offline plan's mocks they arrive with their inputs
 * and without children. A component is priced only when none of its descendants is priced for
 * the same thing, so the control plane and the NAT gateways are counted once either way.
 */
import {
    EBS_PRICES,
    EKS_DEFAULT_ROOT_VOLUME,
    FARGATE_PRICES,
    HOURS_PER_MONTH,
    RDS_POSTGRES_PRICES,
    SERVICE_PRICES,
    gpusPerInstance,
    inExtendedSupport,
    instanceType,
    isKnownInstanceType,
    sageMakerRate,
} from "@gpu-platform/catalog";
import { allCapacities, buysCapacity, capacitiesOf } from "./lib/capacity";
import { unitPrice } from "./lib/gpu-unit-prices";
import { UNRESOLVED_NAMESPACE, objectNamespace } from "./lib/object-namespace";
import { gpusAtMost, scaledWorkloads } from "./lib/workload-scale";
import {
    Capacity,
    LaunchedType,
    NODE_GROUP,
    capacityOf,
    catalogOptions,
    maxInstances,
    mostGpus,
    unknownGpuSettings,
} from "./lib/ec2-capacity";
import { mayLaunchGpus } from "./lib/instance-choice";
import { cpuCores, memoryGiB } from "./lib/quantities";
import { asList, asNumber, asRecord, asString, isTrue } from "./lib/values";

/** The little of a resource that pricing reads. */
export interface PricedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** Urn of the parent, or null at the stack's root. */
    readonly parent: string | null;
    /** Its inputs (offline plan) or properties (real engine). */
    readonly props: Record<string, unknown>;
    /** Its provider's properties, when known: where a Kubernetes object without a namespace lands. */
    readonly providerProps?: Record<string, unknown>;
    /** Per input property, the urns its value came from: how a node group finds its launch template. */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    /** Urns it depends on: how it finds its launch template when nothing else tells. */
    readonly dependencies?: readonly string[];
}

export interface PriceItem {
    readonly urn: string;
    readonly description: string;
    readonly monthlyIdle: number;
    readonly monthlyMax: number;
    /** True when the spend is on GPU instances. */
    readonly gpu: boolean;
    /** Why GPU capacity could not be priced (a type the catalog does not know, types chosen by attributes); the total leaves it out. */
    readonly unpricedGpu?: string;
}

export interface PriceTotals {
    readonly monthlyIdle: number;
    readonly monthlyMax: number;
    readonly gpuMonthlyIdle: number;
    readonly gpuMonthlyMax: number;
}

type Price = Omit<PriceItem, "urn">;
type Pricer = (resource: PricedResource, today: string, all: readonly PricedResource[]) => Price | Price[] | undefined;

const perMonth = (hourly: number) => hourly * HOURS_PER_MONTH;
const flat = (description: string, monthly: number): Price => ({
    description,
    monthlyIdle: monthly,
    monthlyMax: monthly,
    gpu: false,
});

const PRICERS: Record<string, Pricer> = {
    "eks:index:Cluster": (r, today) => controlPlane(r, today),
    "aws:eks/cluster:Cluster": (r, today) => controlPlane(r, today),
    "awsx:ec2:Vpc": (r) => {
        const strategy = asString(asRecord(r.props.natGateways)?.strategy) ?? "OnePerAz";
        const zones = asNumber(r.props.numberOfAvailabilityZones) ?? 3;
        const gateways = strategy === "None" ? 0 : strategy === "Single" ? 1 : zones;
        return flat(
            `VPC ${r.name}: ${gateways} NAT gateway(s) (data processing not included)`,
            perMonth(SERVICE_PRICES.natGatewayUsdPerHour * gateways),
        );
    },
    "aws:ec2/natGateway:NatGateway": (r) =>
        flat(`NAT gateway ${r.name} (data processing not included)`, perMonth(SERVICE_PRICES.natGatewayUsdPerHour)),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (r) => {
        if (r.props.vpcEndpointType !== "Interface") return undefined; // gateway endpoints are free
        const zones = asList(r.props.subnetIds).length || 1;
        return flat(
            `interface endpoint ${r.name} (${asString(r.props.serviceName)}) in ${zones} zone(s)`,
            perMonth(SERVICE_PRICES.interfaceEndpointUsdPerAzHour * zones),
        );
    },
    "aws:kms/key:Key": (r) => flat(`KMS key ${r.name}`, SERVICE_PRICES.kmsKeyUsdPerMonth),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (r) =>
        flat(`CloudWatch alarm ${r.name}`, SERVICE_PRICES.metricAlarmUsdPerMonth),
    "aws:ecs/service:Service": (r, _today, all) => {
        const f = fargateService(r, all);
        if (!f) return undefined;
        if ("problem" in f) return flat(`ECS service ${r.name}: ${f.problem}, not priced`, 0);
        const onPool = f.node
            ? `; the same requests on the CPU pool: ${percent(f.node.share)} of one ${f.node.type}, $${round(f.node.share * f.node.usdPerHour, 5)}/h`
            : "";
        return {
            description: `ECS service ${r.name}: Fargate ${f.architecture} ${f.vcpu} vCPU / ${f.memoryGb} GB × ${f.tasksIdle}–${f.tasksMax} tasks ($${round(f.usdPerTaskHour, 5)}/h each${onPool})`,
            monthlyIdle: perMonth(f.usdPerTaskHour * f.tasksIdle),
            monthlyMax: perMonth(f.usdPerTaskHour * f.tasksMax),
            gpu: false,
        };
    },
    "aws:rds/instance:Instance": (r) => rdsInstance(r),
    "aws:lb/loadBalancer:LoadBalancer": (r) => loadBalancer(r),
    "aws:alb/loadBalancer:LoadBalancer": (r) => loadBalancer(r),
    "aws:secretsmanager/secret:Secret": (r) => flat(`secret ${r.name}`, SERVICE_PRICES.secretUsdPerMonth),
    "aws:ecr/repository:Repository": (r) =>
        flat(
            `ECR repository ${r.name}: storage by use ($${SERVICE_PRICES.ecrStorageUsdPerGbMonth.toFixed(2)} per GB-month), not estimated`,
            0,
        ),
    "kubernetes:helm.sh/v3:Release": (r, _today, all) => helmRelease(r, all),
    "kubernetes:networking.k8s.io/v1:Ingress": (r, _today, all) => albOfIngressGroup(r, all),
    "aws:s3/bucket:Bucket": (r) => bucket(r),
    "aws:s3/bucketV2:BucketV2": (r) => bucket(r),
};

const bucket = (r: PricedResource) =>
    flat(
        `S3 bucket ${r.name}: storage and requests by use ($${SERVICE_PRICES.s3StandardUsdPerGbMonth} per GB-month in S3 Standard), not estimated`,
        0,
    );

const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const ALB_ANNOTATION = "alb.ingress.kubernetes.io/";

/** An Ingress the AWS Load Balancer Controller serves, and the ALB it shares: its ingress group, or its own. */
function albIngress(r: PricedResource): { group: string; scheme: string } | undefined {
    const metadata = asRecord(r.props.metadata) ?? {};
    const annotations = asRecord(metadata.annotations) ?? {};
    const className =
        asString(asRecord(r.props.spec)?.ingressClassName) ?? asString(annotations["kubernetes.io/ingress.class"]);
    if (className !== "alb") return undefined;
    const group = asString(annotations[`${ALB_ANNOTATION}group.name`]);
    const where = objectNamespace(r.type, "Ingress", r.props, r.providerProps);
    const namespace = where.state === "known" ? where.name : UNRESOLVED_NAMESPACE;
    return {
        group: group ? `group ${group}` : `Ingress ${namespace}/${asString(metadata.name) ?? r.name}`,
        scheme: asString(annotations[`${ALB_ANNOTATION}scheme`]) ?? "internal",
    };
}

/**
 * The ALB the AWS Load Balancer Controller makes at run time for Ingresses of class `alb`: one
 * per ingress group (`alb.ingress.kubernetes.io/group.name`), or per Ingress without a group;
 * priced once, on the group's first Ingress. LCUs are priced by traffic and not included.
 */
function albOfIngressGroup(r: PricedResource, all: readonly PricedResource[]): Price | undefined {
    const alb = albIngress(r);
    if (!alb) return undefined;
    const members = all.filter((other) => other.type === INGRESS && albIngress(other)?.group === alb.group);
    if (members[0] !== r) return undefined;
    return flat(
        `ALB of ${alb.group} (${alb.scheme}; ${members.length} Ingress${members.length === 1 ? "" : "es"}, made by the AWS Load Balancer Controller; LCUs by traffic, not included)`,
        perMonth(SERVICE_PRICES.albUsdPerHour),
    );
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
const percent = (share: number) => `${round(share * 100, 2)}%`;

/** A node of the CPU pool: the first node group whose instance type has no GPU. What pods on it are priced as a share of. */
export interface CpuPoolNode {
    readonly type: string;
    readonly vcpu: number;
    readonly memoryGiB: number;
    readonly usdPerHour: number;
}

function cpuPoolNode(all: readonly PricedResource[]): CpuPoolNode | undefined {
    for (const group of all) {
        if (group.type !== NODE_GROUP) continue;
        const type = capacityOf(group, all)?.types[0]?.type;
        if (type && isKnownInstanceType(type) && gpusPerInstance(type) === 0) {
            const { vcpu, memoryGiB: mem, onDemandUsdPerHour } = instanceType(type);
            return { type, vcpu, memoryGiB: mem, usdPerHour: onDemandUsdPerHour };
        }
    }
    return undefined;
}

/**
 * The share of `node` that requests of `cpu` cores and `memGiB` take: the larger of the CPU and
 * memory fractions, since a pod that takes a node's memory leaves its spare CPU unusable too.
 */
export function nodeShare(cpu: number, memGiB: number, node: Pick<CpuPoolNode, "vcpu" | "memoryGiB">): number {
    return Math.max(cpu / node.vcpu, memGiB / node.memoryGiB);
}

/** Nodes of every group at its minimum and at its maximum: where a DaemonSet runs a pod each. */
function nodeCounts(all: readonly PricedResource[]): { min: number; max: number } {
    let min = 0;
    let max = 0;
    for (const group of all) {
        if (group.type !== NODE_GROUP) continue;
        const scaling = asRecord(group.props.scalingConfig) ?? {};
        const groupMin = asNumber(scaling.minSize) ?? 0;
        min += groupMin;
        max += asNumber(scaling.maxSize) ?? groupMin;
    }
    return { min, max };
}

/** A Fargate service's size, its task count from desired to the scaling target's maximum, and what its requests would take of a CPU-pool node. */
export interface FargateService {
    readonly architecture: keyof typeof FARGATE_PRICES;
    readonly vcpu: number;
    readonly memoryGb: number;
    readonly usdPerTaskHour: number;
    readonly tasksIdle: number;
    readonly tasksMax: number;
    readonly node?: CpuPoolNode & { readonly share: number };
}

function fargateService(
    service: PricedResource,
    all: readonly PricedResource[],
): FargateService | { problem: string } | undefined {
    if (service.props.launchType !== "FARGATE") return undefined;
    const task = referencedBy(service, "taskDefinition", TASK_DEFINITION, all, ["arn", "family"]);
    const cpu = asNumber(task?.props.cpu);
    const memory = asNumber(task?.props.memory);
    if (!task || cpu === undefined || memory === undefined)
        return { problem: "its task definition's cpu and memory are not known" };
    const architecture =
        asString(asRecord(task.props.runtimePlatform)?.cpuArchitecture) === "ARM64" ? "ARM64" : "X86_64";
    const rates = FARGATE_PRICES[architecture];
    const vcpu = cpu / 1024;
    const memoryGb = memory / 1024;
    const tasksIdle = asNumber(service.props.desiredCount) ?? 1;
    const scaling = all.find(
        (t) =>
            t.type === SCALING_TARGET &&
            t.props.serviceNamespace === "ecs" &&
            ((t.propertyDependencies?.resourceId ?? []).includes(service.urn) ||
                (asString(t.props.resourceId)?.endsWith(`/${asString(service.props.name)}`) ?? false)),
    );
    const pool = cpuPoolNode(all);
    return {
        architecture,
        vcpu,
        memoryGb,
        usdPerTaskHour: vcpu * rates.vcpuUsdPerHour + memoryGb * rates.gbUsdPerHour,
        tasksIdle,
        tasksMax: Math.max(tasksIdle, asNumber(scaling?.props.maxCapacity) ?? tasksIdle),
        node: pool && { ...pool, share: nodeShare(vcpu, memoryGb, pool) },
    };
}

/** A Fargate service of the stack: what it costs, and what its tasks' requests would cost as a share of a CPU-pool node. */
export interface FargateComparison extends FargateService {
    readonly urn: string;
    readonly name: string;
}

/** Every Fargate service's comparison with the CPU pool (the plan's cost table shows them). */
export function fargateComparisons(resources: readonly PricedResource[]): FargateComparison[] {
    return resources.flatMap((r) => {
        const f = r.type === "aws:ecs/service:Service" ? fargateService(r, resources) : undefined;
        return f && !("problem" in f) ? [{ urn: r.urn, name: r.name, ...f }] : [];
    });
}

/** The resource of `type` that `from.props[property]` names: by the engine's property dependencies, else by an equal identifier. */
function referencedBy(
    from: PricedResource,
    property: string,
    type: string,
    all: readonly PricedResource[],
    keys: string[],
): PricedResource | undefined {
    for (const urn of from.propertyDependencies?.[property] ?? []) {
        const found = all.find((r) => r.urn === urn);
        if (found?.type === type) return found;
    }
    const value = asString(from.props[property]);
    return all.find((r) => r.type === type && value !== undefined && keys.some((k) => asString(r.props[k]) === value));
}

/** RDS for PostgreSQL: instance-hours and gp3 storage (both doubled by Multi-AZ), and the secret RDS keeps its password in. */
function rdsInstance(r: PricedResource): Price[] {
    const instanceClass = asString(r.props.instanceClass) ?? "no instance class";
    const multiAz = isTrue(r.props.multiAz);
    const az = multiAz ? "Multi-AZ" : "Single-AZ";
    const items: Price[] = [];
    const rate = r.props.engine === "postgres" ? RDS_POSTGRES_PRICES.instances[instanceClass] : undefined;
    if (!rate)
        items.push(
            flat(
                `RDS instance ${r.name}: ${asString(r.props.engine) ?? "engine"} ${instanceClass} is not in the catalog, not priced`,
                0,
            ),
        );
    else {
        const hourly = multiAz ? rate.multiAzUsdPerHour : rate.singleAzUsdPerHour;
        items.push(flat(`RDS instance ${r.name}: PostgreSQL ${instanceClass} ${az} ($${hourly}/h)`, perMonth(hourly)));
    }
    const storage = asNumber(r.props.allocatedStorage);
    if (storage !== undefined) {
        const gp3 = RDS_POSTGRES_PRICES.gp3;
        const perGb = multiAz ? gp3.multiAzUsdPerGbMonth : gp3.singleAzUsdPerGbMonth;
        items.push(
            r.props.storageType === "gp3"
                ? flat(
                      `RDS instance ${r.name}: ${storage} GB gp3 storage ${az} ($${perGb}/GB-month; autoscaled growth by use)`,
                      storage * perGb,
                  )
                : flat(
                      `RDS instance ${r.name}: ${storage} GB of ${asString(r.props.storageType) ?? "default"} storage, not priced`,
                      0,
                  ),
        );
    }
    if (isTrue(r.props.manageMasterUserPassword))
        items.push(flat(`RDS instance ${r.name}: its master password's secret`, SERVICE_PRICES.secretUsdPerMonth));
    return items;
}

function loadBalancer(r: PricedResource): Price {
    const kind = asString(r.props.loadBalancerType) ?? "application";
    if (kind !== "application") return flat(`load balancer ${r.name} (${kind}) is not in the catalog, not priced`, 0);
    return flat(
        `load balancer ${r.name} (application; LCUs by traffic, not included)`,
        perMonth(SERVICE_PRICES.albUsdPerHour),
    );
}

/**
 * Pods of charts whose values the pricer knows, at the requests their values set, on the CPU
 * pool: each priced as its share of a CPU-pool node (nodeShare), a DaemonSet's pod once per
 * node of every group; and the volumes they claim, as gp3. This is capacity the pool's own
 * node group line prices too: at maximum scale the pool cannot grow past it, so the total
 * counts these pods twice, erring high by their amount.
 */
const CHART_PODS: Record<
    string,
    {
        readonly label: string;
        readonly requests: string;
        readonly perNode?: boolean;
        readonly enabled?: string;
        /** Skipped when this value is true (a part another one replaces). */
        readonly unless?: string;
        /** Where the values set its replicas; unset, one. */
        readonly replicas?: string;
    }[]
> = {
    opencost: [
        { label: "OpenCost", requests: "opencost.exporter.resources.requests" },
        { label: "OpenCost UI", requests: "opencost.ui.resources.requests", enabled: "opencost.ui.enabled" },
    ],
    prometheus: [
        { label: "Prometheus", requests: "server.resources.requests" },
        {
            label: "kube-state-metrics",
            requests: "kube-state-metrics.resources.requests",
            enabled: "kube-state-metrics.enabled",
        },
        {
            label: "node-exporter",
            requests: "prometheus-node-exporter.resources.requests",
            perNode: true,
            enabled: "prometheus-node-exporter.enabled",
        },
    ],
    // The portal layer (components/portal).
    "aws-load-balancer-controller": [{ label: "controller", requests: "resources.requests", replicas: "replicaCount" }],
    "external-secrets": [
        { label: "controller", requests: "resources.requests", replicas: "replicaCount" },
        { label: "webhook", requests: "webhook.resources.requests", replicas: "webhook.replicaCount" },
        {
            label: "cert controller",
            requests: "certController.resources.requests",
            replicas: "certController.replicaCount",
        },
    ],
    "argo-cd": [
        { label: "application controller", requests: "controller.resources.requests", replicas: "controller.replicas" },
        { label: "server", requests: "server.resources.requests", replicas: "server.replicas" },
        { label: "repo server", requests: "repoServer.resources.requests", replicas: "repoServer.replicas" },
        {
            label: "ApplicationSet controller",
            requests: "applicationSet.resources.requests",
            replicas: "applicationSet.replicas",
        },
        { label: "Dex", requests: "dex.resources.requests", enabled: "dex.enabled" },
        { label: "Redis", requests: "redis.resources.requests", unless: "redis-ha.enabled" },
        {
            label: "Redis HA (redis)",
            requests: "redis-ha.redis.resources.requests",
            enabled: "redis-ha.enabled",
            replicas: "redis-ha.replicas",
        },
        {
            label: "Redis HA (sentinel)",
            requests: "redis-ha.sentinel.resources.requests",
            enabled: "redis-ha.enabled",
            replicas: "redis-ha.replicas",
        },
        {
            label: "Redis HA (HAProxy)",
            requests: "redis-ha.haproxy.resources.requests",
            enabled: "redis-ha.enabled",
            replicas: "redis-ha.haproxy.replicas",
        },
    ],
    mlflow: [{ label: "MLflow", requests: "resources.requests", replicas: "replicaCount" }],
    backstage: [{ label: "Backstage", requests: "backstage.resources.requests", replicas: "backstage.replicas" }],
};
const CHART_VOLUMES: Record<string, { readonly label: string; readonly volume: string }[]> = {
    prometheus: [{ label: "Prometheus", volume: "server.persistentVolume" }],
};

function helmRelease(r: PricedResource, all: readonly PricedResource[]): Price[] | undefined {
    const chart = asString(r.props.chart) ?? "";
    const pods = CHART_PODS[chart];
    if (!pods) return undefined;
    const values = asRecord(r.props.values) ?? {};
    const at = (dotted: string) => dotted.split(".").reduce<unknown>((node, key) => asRecord(node)?.[key], values);
    const node = cpuPoolNode(all);
    const nodes = nodeCounts(all);
    const items: Price[] = [];
    for (const pod of pods) {
        if ((pod.enabled && at(pod.enabled) === false) || (pod.unless && at(pod.unless) === true)) continue;
        const requests = asRecord(at(pod.requests));
        const cpu = cpuCores(requests?.cpu);
        const mem = memoryGiB(requests?.memory);
        if (!node || cpu === undefined || mem === undefined) {
            items.push(
                flat(
                    `Helm release ${r.name}: ${pod.label}'s requests${node ? " are not set in its values" : ": no CPU pool to price them on"}, not priced`,
                    0,
                ),
            );
            continue;
        }
        const hourly = nodeShare(cpu, mem, node) * node.usdPerHour;
        const replicas = (pod.replicas && asNumber(at(pod.replicas))) || 1;
        const [idlePods, maxPods] = pod.perNode ? [nodes.min, nodes.max] : [replicas, replicas];
        const count = pod.perNode ? ` × ${idlePods}–${maxPods} nodes` : replicas > 1 ? ` × ${replicas}` : "";
        items.push({
            description:
                `Helm release ${r.name}: ${pod.label} (${String(requests?.cpu)} CPU, ${String(requests?.memory)})${count}, ` +
                `${percent(nodeShare(cpu, mem, node))} of one ${node.type} of the CPU pool ($${round(hourly, 5)}/h), within the pool's line`,
            monthlyIdle: perMonth(hourly * idlePods),
            monthlyMax: perMonth(hourly * maxPods),
            gpu: false,
        });
    }
    for (const { label, volume } of CHART_VOLUMES[chart] ?? []) {
        const claim = asRecord(at(volume));
        const size = memoryGiB(claim?.size);
        if (claim?.enabled === false || size === undefined) continue;
        items.push(
            flat(`Helm release ${r.name}: ${label}'s ${size} GiB gp3 volume`, size * EBS_PRICES.gp3.usdPerGbMonth),
        );
    }
    return items;
}

/**
 * GPU workloads at their most (lib/workload-scale.ts), beyond the GPUs the stack's own capacity
 * holds: a team's stack on the platform's cluster launches no nodes, but its pods hold GPUs the
 * budget must see. In a stack that launches GPU capacity, its pods run on it and are within its
 * lines, up to the GPUs it holds; what they ask for beyond that is priced at the most a unit
 * costs (lib/gpu-unit-prices.ts), all month. Counted once per stack, on each workload's resource.
 */
function workloadPricer(all: readonly PricedResource[]): (r: PricedResource) => Price[] {
    let byUrn: Map<string, Price[]> | undefined;
    return (r) => {
        byUrn ??= priceWorkloads(all);
        const prices = byUrn.get(r.urn) ?? [];
        byUrn.delete(r.urn); // a resource with several recorded entries is priced once
        return prices;
    };
}

function ownGpus(all: readonly PricedResource[]): number {
    return allCapacities(all).reduce((sum, c) => (c.unbounded ? Infinity : sum + (mostGpus(c)?.gpus ?? 0)), 0);
}

function priceWorkloads(all: readonly PricedResource[]): Map<string, Price[]> {
    const byUrn = new Map<string, Price[]>();
    let spare = ownGpus(all);
    const own = spare;
    // Capacity goes to workloads in urn order: the order resources arrive in is the order their
    // registrations complete, which changes between runs of the same program.
    const workloads = [...scaledWorkloads(all)].sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    for (const w of workloads) {
        const held = gpusAtMost(w);
        const add = (price: Price) => byUrn.set(w.urn, [...(byUrn.get(w.urn) ?? []), price]);
        if (!held) {
            const why = w.pods.find((p) => p.unbounded)?.unbounded ?? "";
            const reason = `${w.label}: GPU pods without a bound (${why}), not priced`;
            add(
                own === Infinity || own > 0
                    ? {
                          ...flat(`${w.label}: GPU pods without a bound (${why}), within this stack's GPU capacity`, 0),
                          gpu: true,
                      }
                    : { ...flat(reason, 0), gpu: true, unpricedGpu: reason },
            );
            continue;
        }
        const units = [...held].map(([resource, n]) => ({ resource, n, price: unitPrice(resource) }));
        const gpus = units.reduce((t, u) => t + u.n * u.price.fractionOfGpu, 0);
        const hourly = units.reduce((t, u) => t + u.n * u.price.usdPerHour, 0);
        const within = Math.min(spare, gpus);
        spare -= within;
        const share = gpus === 0 ? 0 : (gpus - within) / gpus;
        const asked = units
            .map((u) => `${u.n} ${u.resource} ($${round(u.price.usdPerHour, 4)}/h each: ${u.price.basis})`)
            .join(", ");
        const covered = within > 0 ? `; ${round(within, 2)} GPU(s) of it within this stack's own GPU capacity` : "";
        add({
            description: `${w.label}: GPU pods at their most, ${asked}${covered}`,
            monthlyIdle: 0,
            monthlyMax: perMonth(hourly * share),
            gpu: true,
        });
    }
    return byUrn;
}

/**
 * Instances at their minimum and maximum capacity, on the type that costs most per unit (spot at
 * the on-demand rate: a ceiling, since spot prices move), for the hours a month they may run,
 * and a node group's root volumes. A setting that may launch GPU types the catalog does not know,
 * or GPU capacity without a bound, cannot be priced: it is marked, never counted as $0.
 */
function launchedCapacity(r: PricedResource, all: readonly PricedResource[]): Price[] {
    return capacitiesOf(r, all).flatMap((capacity) => {
        const min = capacity.minUnits ?? 0;
        const max = capacity.maxUnits ?? min;
        const prices = [...unpricedCapacity(capacity), ...pricedCapacity(capacity, min, max)];
        if (r.type === NODE_GROUP && capacity.resource === r) prices.push(rootVolume(r, capacity, min, max));
        return prices;
    });
}

/** What of a capacity cannot be priced: GPU types the catalog does not know, GPUs without a bound, or no known type at all. */
function unpricedCapacity(capacity: Capacity<PricedResource>): Price[] {
    const unknownGpu = unknownGpuSettings(capacity).map((t) => t.type);
    const gpus = capacity.types.some((t) => mayLaunchGpus(t.choice)) || capacity.gpuAmi;
    if (capacity.unbounded && gpus) {
        const reason = `${capacity.label}: GPU capacity without a bound (${capacity.unbounded}), not priced`;
        return [{ ...flat(reason, 0), gpu: true, unpricedGpu: reason }];
    }
    if (unknownGpu.length > 0) {
        const reason = `${capacity.label}: ${unknownGpu.join(", ")} not in the catalog, GPU capacity not priced`;
        return [{ ...flat(reason, 0), gpu: true, unpricedGpu: reason }];
    }
    if (catalogOptions(capacity).length === 0 || capacity.unbounded)
        return [
            flat(
                `${capacity.label}: ${capacity.types.map((t) => t.type).join(", ") || "no instance type"} ${capacity.unbounded ? `without a bound (${capacity.unbounded})` : "not in the catalog"}, not priced`,
                0,
            ),
        ];
    return [];
}

/** The hourly rate of a catalog type as launched: SageMaker's for an `ml.` type when the catalog has it, else EC2's. */
function hourlyRate(launched: LaunchedType, type: string): { usd: number; floor: boolean } {
    if (!launched.choice.sageMaker) return { usd: instanceType(type).onDemandUsdPerHour, floor: false };
    const rate = sageMakerRate(`ml.${type}`);
    return rate ? { usd: rate.usdPerHour, floor: false } : { usd: instanceType(type).onDemandUsdPerHour, floor: true };
}

/** The known part of a capacity, priced as its costliest option at min and max units. */
function pricedCapacity(capacity: Capacity<PricedResource>, min: number, max: number): Price[] {
    const options = catalogOptions(capacity);
    if (options.length === 0 || (capacity.unbounded && capacity.maxUnits === undefined)) return [];
    const hours = capacity.hoursPerMonth;
    const cost = (units: number) =>
        Math.max(
            ...options.map(
                (o) => (maxInstances(capacity, o.launched, o.type, units) ?? 0) * hourlyRate(o.launched, o.type).usd,
            ),
        );
    type Option = (typeof options)[number];
    const atMax = (o: Option) =>
        (maxInstances(capacity, o.launched, o.type, max) ?? 0) * hourlyRate(o.launched, o.type).usd;
    const perUnit = (o: Option) =>
        hourlyRate(o.launched, o.type).usd / (o.launched.weightOf?.(o.type) ?? o.launched.weight);
    const priciest = options.reduce((a, b) =>
        atMax(b) > atMax(a) || (atMax(b) === atMax(a) && perUnit(b) > perUnit(a)) ? b : a,
    );
    const rate = hourlyRate(priciest.launched, priciest.type);
    const market = capacity.spot ? "spot, priced at on-demand" : "on-demand";
    const names = [...new Set(options.map((o) => o.type))];
    const written = priciest.launched.choice.sageMaker ? `ml.${priciest.type}` : priciest.type;
    const types =
        names.length === 1 && options.length === 1 && !priciest.launched.choice.open
            ? written
            : `${capacity.types.map((t) => t.type).join(" | ")}, priced as ${written}`;
    const notes = [
        ...(rate.floor
            ? [`SageMaker's rate for ${written} is not in the catalog (catalog/sagemaker.ts): EC2's, a floor`]
            : []),
        ...(capacity.priceFloor ? [capacity.priceFloor] : []),
        ...(hours < HOURS_PER_MONTH ? [`at most ${round(hours, 2)} h a month`] : []),
    ];
    const unit = priciest.launched.instancesOf ? "" : ` × ${min}–${max}`;
    return [
        {
            description: `${capacity.label.replace(/"/g, "")}: ${types}${unit} (${market}, $${rate.usd}/h${notes.length > 0 ? `; ${notes.join("; ")}` : ""})`,
            monthlyIdle: cost(min) * hours,
            monthlyMax: cost(max) * hours,
            gpu: options.some((o) => gpusPerInstance(o.type) > 0),
        },
    ];
}

/**
 * Each node's root volume, from its launch template's first block device mapping, or EKS's
 * default disk without one; priced per GB-month (and provisioned IOPS) for min and max nodes.
 */
function rootVolume(group: PricedResource, { template }: Capacity<PricedResource>, min: number, max: number): Price {
    const ebs = template ? asRecord(asRecord(asList(template.props.blockDeviceMappings)[0])?.ebs) : undefined;
    const sizeGiB =
        asNumber(ebs?.volumeSize) ??
        (template ? undefined : (asNumber(group.props.diskSize) ?? EKS_DEFAULT_ROOT_VOLUME.sizeGiB));
    const type = asString(ebs?.volumeType) ?? EKS_DEFAULT_ROOT_VOLUME.type;
    const rate = Object.hasOwn(EBS_PRICES, type) ? EBS_PRICES[type] : undefined;
    if (sizeGiB === undefined || !rate)
        return flat(`node group ${group.name}: root volume ${sizeGiB ?? "of unknown size"} ${type}, not priced`, 0);
    const iops = Math.max(0, (asNumber(ebs?.iops) ?? 0) - (rate.includedIops ?? 0));
    const perNode = sizeGiB * rate.usdPerGbMonth + iops * (rate.usdPerIopsMonth ?? 0);
    return {
        description: `node group ${group.name}: ${sizeGiB} GiB ${type} root volume per node${iops > 0 ? `, ${iops} IOPS` : ""}`,
        monthlyIdle: perNode * min,
        monthlyMax: perNode * max,
        gpu: false,
    };
}

const TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition";
const SCALING_TARGET = "aws:appautoscaling/target:Target";

/** A remote component, and the child types that price the same thing in a real preview. */
const PRICED_BY_CHILDREN: Record<string, string> = {
    "eks:index:Cluster": "aws:eks/cluster:Cluster",
    "awsx:ec2:Vpc": "aws:ec2/natGateway:NatGateway",
};

/**
 * The control plane, at the extended-support rate once its version has left standard support,
 * unless its upgrade policy is STANDARD: then EKS upgrades it instead (EKS's own default is
 * EXTENDED).
 */
function controlPlane(cluster: PricedResource, today: string): Price {
    const v = asString(cluster.props.version);
    const supportType = asString(asRecord(cluster.props.upgradePolicy)?.supportType) ?? "EXTENDED";
    const lapsed = v !== undefined && inExtendedSupport(v, today);
    const extended = lapsed && supportType === "EXTENDED";
    const support = extended
        ? `extended support: ${v} left standard support`
        : lapsed
          ? `standard support: EKS upgrades ${v}, which left it`
          : "standard support";
    return flat(
        `EKS control plane ${cluster.name}, Kubernetes ${v ?? "default"} (${support})`,
        perMonth(extended ? SERVICE_PRICES.eksExtendedSupportUsdPerHour : SERVICE_PRICES.eksClusterUsdPerHour),
    );
}

/** Every priced resource, each amount rounded to the cent. `today` (YYYY-MM-DD) decides EKS support rates. */
export function priceResources(
    resources: readonly PricedResource[],
    today: string = new Date().toISOString().slice(0, 10),
): PriceItem[] {
    const childrenOf = new Map<string, PricedResource[]>();
    for (const r of resources) if (r.parent) childrenOf.set(r.parent, [...(childrenOf.get(r.parent) ?? []), r]);
    const hasDescendantOfType = (urn: string, type: string): boolean =>
        (childrenOf.get(urn) ?? []).some((child) => child.type === type || hasDescendantOfType(child.urn, type));

    const workloadPrices = workloadPricer(resources);
    const items: PriceItem[] = [];
    for (const resource of resources) {
        const childType = PRICED_BY_CHILDREN[resource.type];
        if (childType && hasDescendantOfType(resource.urn, childType)) continue;
        const pricer = Object.hasOwn(PRICERS, resource.type)
            ? PRICERS[resource.type]
            : buysCapacity(resource.type)
              ? (r: PricedResource) => [...launchedCapacity(r, resources), ...workloadPrices(r)]
              : undefined;
        const prices = pricer?.(resource, today, resources);
        for (const price of prices === undefined ? [] : Array.isArray(prices) ? prices : [prices]) {
            items.push({
                urn: resource.urn,
                ...price,
                monthlyIdle: cents(price.monthlyIdle),
                monthlyMax: cents(price.monthlyMax),
            });
        }
    }
    return items;
}

export function priceTotals(items: readonly PriceItem[]): PriceTotals {
    const sum = (pick: (i: PriceItem) => number, only: (i: PriceItem) => boolean = () => true) =>
        cents(items.filter(only).reduce((t, i) => t + pick(i), 0));
    return {
        monthlyIdle: sum((i) => i.monthlyIdle),
        monthlyMax: sum((i) => i.monthlyMax),
        gpuMonthlyIdle: sum(
            (i) => i.monthlyIdle,
            (i) => i.gpu,
        ),
        gpuMonthlyMax: sum(
            (i) => i.monthlyMax,
            (i) => i.gpu,
        ),
    };
}

export function cents(amount: number): number {
    return Math.round(amount * 100) / 100;
}
