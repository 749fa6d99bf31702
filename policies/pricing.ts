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
import { EBS_PRICES, EKS_DEFAULT_ROOT_VOLUME, HOURS_PER_MONTH, SERVICE_PRICES, gpusPerInstance, inExtendedSupport, instanceType, isKnownInstanceType } from "../catalog";
import { Capacity, LAUNCHERS, NODE_GROUP, capacityOf, isGpuType, maxInstances } from "./lib/ec2-capacity";
import { asList, asNumber, asRecord, asString } from "./lib/values";

/** The little of a resource that pricing reads. */
export interface PricedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** Urn of the parent, or null at the stack's root. */
    readonly parent: string | null;
    /** Its inputs (offline plan) or properties (real engine). */
    readonly props: Record<string, unknown>;
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
const flat = (description: string, monthly: number): Price => ({ description, monthlyIdle: monthly, monthlyMax: monthly, gpu: false });

const PRICERS: Record<string, Pricer> = {
    ...Object.fromEntries(Object.keys(LAUNCHERS).map((type): [string, Pricer] => [type, (r, _today, all) => launchedCapacity(r, all)])),
    "eks:index:Cluster": (r, today) => controlPlane(r, today),
    "aws:eks/cluster:Cluster": (r, today) => controlPlane(r, today),
    "awsx:ec2:Vpc": (r) => {
        const strategy = asString(asRecord(r.props.natGateways)?.strategy) ?? "OnePerAz";
        const zones = asNumber(r.props.numberOfAvailabilityZones) ?? 3;
        const gateways = strategy === "None" ? 0 : strategy === "Single" ? 1 : zones;
        return flat(`VPC ${r.name}: ${gateways} NAT gateway(s) (data processing not included)`, perMonth(SERVICE_PRICES.natGatewayUsdPerHour * gateways));
    },
    "aws:ec2/natGateway:NatGateway": (r) => flat(`NAT gateway ${r.name} (data processing not included)`, perMonth(SERVICE_PRICES.natGatewayUsdPerHour)),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (r) => {
        if (r.props.vpcEndpointType !== "Interface") return undefined; // gateway endpoints are free
        const zones = asList(r.props.subnetIds).length || 1;
        return flat(`interface endpoint ${r.name} (${asString(r.props.serviceName)}) in ${zones} zone(s)`, perMonth(SERVICE_PRICES.interfaceEndpointUsdPerAzHour * zones));
    },
    "aws:kms/key:Key": (r) => flat(`KMS key ${r.name}`, SERVICE_PRICES.kmsKeyUsdPerMonth),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (r) => flat(`CloudWatch alarm ${r.name}`, SERVICE_PRICES.metricAlarmUsdPerMonth),
};

/**
 * Instances at their minimum and maximum capacity, on the type that costs most per unit (spot at
 * the on-demand rate: a ceiling, since spot prices move), and a node group's root volumes. GPU
 * capacity on a type the catalog does not know cannot be priced: it is marked, never counted as $0.
 */
function launchedCapacity(r: PricedResource, all: readonly PricedResource[]): Price[] {
    const capacity = capacityOf(r, all)!;
    const known = capacity.types.filter((t) => isKnownInstanceType(t.type));
    const unknownGpu = [...capacity.types.filter((t) => !isKnownInstanceType(t.type) && (isGpuType(t.type) || capacity.gpuAmi)).map((t) => t.type), ...capacity.attributeSelections.map((a) => `types chosen by ${a.setting}`)];
    const prices: Price[] = [];
    const min = capacity.minUnits ?? 0;
    const max = capacity.maxUnits ?? min;
    if (unknownGpu.length > 0) {
        const reason = `${capacity.label}: ${unknownGpu.join(", ")} not in the catalog, GPU capacity not priced`;
        prices.push({ ...flat(reason, 0), gpu: true, unpricedGpu: reason });
    } else if (known.length === 0) {
        prices.push(flat(`${capacity.label}: ${capacity.types.map((t) => t.type).join(", ") || "no instance type"} not in the catalog, not priced`, 0));
    }
    if (known.length > 0) {
        const cost = (units: number) => Math.max(...known.map((t) => (maxInstances(capacity, t, units) ?? 0) * instanceType(t.type).onDemandUsdPerHour));
        const priciest = known.reduce((a, b) => (instanceType(b.type).onDemandUsdPerHour / b.weight > instanceType(a.type).onDemandUsdPerHour / a.weight ? b : a));
        const market = capacity.spot ? "spot, priced at on-demand" : "on-demand";
        const types = known.length === 1 ? priciest.type : `${known.map((t) => t.type).join(" | ")}, priced as ${priciest.type}`;
        prices.push({
            description: `${capacity.label.replace(/"/g, "")}: ${types} × ${min}–${max} (${market}, $${instanceType(priciest.type).onDemandUsdPerHour}/h)`,
            monthlyIdle: perMonth(cost(min)),
            monthlyMax: perMonth(cost(max)),
            gpu: known.some((t) => gpusPerInstance(t.type) > 0),
        });
    }
    if (r.type === NODE_GROUP) prices.push(rootVolume(r, capacity, min, max));
    return prices;
}

/**
 * Each node's root volume, from its launch template's first block device mapping, or EKS's
 * default disk without one; priced per GB-month (and provisioned IOPS) for min and max nodes.
 */
function rootVolume(group: PricedResource, { template }: Capacity<PricedResource>, min: number, max: number): Price {
    const ebs = template ? asRecord(asRecord(asList(template.props.blockDeviceMappings)[0])?.ebs) : undefined;
    const sizeGiB = asNumber(ebs?.volumeSize) ?? (template ? undefined : asNumber(group.props.diskSize) ?? EKS_DEFAULT_ROOT_VOLUME.sizeGiB);
    const type = asString(ebs?.volumeType) ?? EKS_DEFAULT_ROOT_VOLUME.type;
    const rate = Object.hasOwn(EBS_PRICES, type) ? EBS_PRICES[type] : undefined;
    if (sizeGiB === undefined || !rate) return flat(`node group ${group.name}: root volume ${sizeGiB ?? "of unknown size"} ${type}, not priced`, 0);
    const iops = Math.max(0, (asNumber(ebs?.iops) ?? 0) - (rate.includedIops ?? 0));
    const perNode = sizeGiB * rate.usdPerGbMonth + iops * (rate.usdPerIopsMonth ?? 0);
    return {
        description: `node group ${group.name}: ${sizeGiB} GiB ${type} root volume per node${iops > 0 ? `, ${iops} IOPS` : ""}`,
        monthlyIdle: perNode * min,
        monthlyMax: perNode * max,
        gpu: false,
    };
}

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
    const support = extended ? `extended support: ${v} left standard support` : lapsed ? `standard support: EKS upgrades ${v}, which left it` : "standard support";
    return flat(
        `EKS control plane ${cluster.name}, Kubernetes ${v ?? "default"} (${support})`,
        perMonth(extended ? SERVICE_PRICES.eksExtendedSupportUsdPerHour : SERVICE_PRICES.eksClusterUsdPerHour),
    );
}

/** Every priced resource, each amount rounded to the cent. `today` (YYYY-MM-DD) decides EKS support rates. */
export function priceResources(resources: readonly PricedResource[], today: string = new Date().toISOString().slice(0, 10)): PriceItem[] {
    const childrenOf = new Map<string, PricedResource[]>();
    for (const r of resources) if (r.parent) childrenOf.set(r.parent, [...(childrenOf.get(r.parent) ?? []), r]);
    const hasDescendantOfType = (urn: string, type: string): boolean =>
        (childrenOf.get(urn) ?? []).some((child) => child.type === type || hasDescendantOfType(child.urn, type));

    const items: PriceItem[] = [];
    for (const resource of resources) {
        const childType = PRICED_BY_CHILDREN[resource.type];
        if (childType && hasDescendantOfType(resource.urn, childType)) continue;
        const prices = PRICERS[resource.type]?.(resource, today, resources);
        for (const price of prices === undefined ? [] : Array.isArray(prices) ? prices : [prices]) {
            items.push({ urn: resource.urn, ...price, monthlyIdle: cents(price.monthlyIdle), monthlyMax: cents(price.monthlyMax) });
        }
    }
    return items;
}

export function priceTotals(items: readonly PriceItem[]): PriceTotals {
    const sum = (pick: (i: PriceItem) => number, only: (i: PriceItem) => boolean = () => true) => cents(items.filter(only).reduce((t, i) => t + pick(i), 0));
    return {
        monthlyIdle: sum((i) => i.monthlyIdle),
        monthlyMax: sum((i) => i.monthlyMax),
        gpuMonthlyIdle: sum((i) => i.monthlyIdle, (i) => i.gpu),
        gpuMonthlyMax: sum((i) => i.monthlyMax, (i) => i.gpu),
    };
}

export function cents(amount: number): number {
    return Math.round(amount * 100) / 100;
}
