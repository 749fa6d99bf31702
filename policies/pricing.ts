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
import { HOURS_PER_MONTH, SERVICE_PRICES, gpusPerInstance, inExtendedSupport, instanceType, isKnownInstanceType } from "../catalog";
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
}

export interface PriceItem {
    readonly urn: string;
    readonly description: string;
    readonly monthlyIdle: number;
    readonly monthlyMax: number;
    /** True when the spend is on GPU instances. */
    readonly gpu: boolean;
}

export interface PriceTotals {
    readonly monthlyIdle: number;
    readonly monthlyMax: number;
    readonly gpuMonthlyIdle: number;
    readonly gpuMonthlyMax: number;
}

type Price = Omit<PriceItem, "urn">;
type Pricer = (resource: PricedResource, today: string) => Price | undefined;

const perMonth = (hourly: number) => hourly * HOURS_PER_MONTH;
const flat = (description: string, monthly: number): Price => ({ description, monthlyIdle: monthly, monthlyMax: monthly, gpu: false });

const PRICERS: Record<string, Pricer> = {
    "aws:eks/nodeGroup:NodeGroup": (r) => {
        const type = asString(asList(r.props.instanceTypes)[0]);
        const scaling = asRecord(r.props.scalingConfig) ?? {};
        const min = asNumber(scaling.minSize) ?? 0;
        const max = asNumber(scaling.maxSize) ?? min;
        if (!type || !isKnownInstanceType(type)) {
            return flat(`node group ${r.name}: ${type ?? "no instance type"} is not in the catalog, not priced`, 0);
        }
        const hourly = instanceType(type).onDemandUsdPerHour;
        // Spot is priced at the on-demand rate: a ceiling, since spot prices move.
        const market = r.props.capacityType === "SPOT" ? "spot, priced at on-demand" : "on-demand";
        return {
            description: `node group ${r.name}: ${type} × ${min}–${max} (${market}, $${hourly}/h)`,
            monthlyIdle: perMonth(hourly * min),
            monthlyMax: perMonth(hourly * max),
            gpu: gpusPerInstance(type) > 0,
        };
    },
    "eks:index:Cluster": (r, today) => controlPlane(r.props.version, r.props.upgradePolicy, today),
    "aws:eks/cluster:Cluster": (r, today) => controlPlane(r.props.version, r.props.upgradePolicy, today),
    "awsx:ec2:Vpc": (r) => {
        const strategy = asString(asRecord(r.props.natGateways)?.strategy) ?? "OnePerAz";
        const zones = asNumber(r.props.numberOfAvailabilityZones) ?? 3;
        const gateways = strategy === "None" ? 0 : strategy === "Single" ? 1 : zones;
        return flat(`${gateways} NAT gateway(s) (data processing not included)`, perMonth(SERVICE_PRICES.natGatewayUsdPerHour * gateways));
    },
    "aws:ec2/natGateway:NatGateway": () => flat("NAT gateway (data processing not included)", perMonth(SERVICE_PRICES.natGatewayUsdPerHour)),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (r) => {
        if (r.props.vpcEndpointType !== "Interface") return undefined; // gateway endpoints are free
        const zones = asList(r.props.subnetIds).length || 1;
        return flat(`interface endpoint ${asString(r.props.serviceName)} in ${zones} zone(s)`, perMonth(SERVICE_PRICES.interfaceEndpointUsdPerAzHour * zones));
    },
    "aws:kms/key:Key": () => flat("KMS key", SERVICE_PRICES.kmsKeyUsdPerMonth),
    "aws:cloudwatch/metricAlarm:MetricAlarm": () => flat("CloudWatch alarm", SERVICE_PRICES.metricAlarmUsdPerMonth),
};

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
function controlPlane(version: unknown, upgradePolicy: unknown, today: string): Price {
    const v = asString(version);
    const supportType = asString((upgradePolicy as { supportType?: unknown } | undefined)?.supportType) ?? "EXTENDED";
    const lapsed = v !== undefined && inExtendedSupport(v, today);
    const extended = lapsed && supportType === "EXTENDED";
    const support = extended ? `extended support: ${v} left standard support` : lapsed ? `standard support: EKS upgrades ${v}, which left it` : "standard support";
    return flat(
        `EKS control plane, Kubernetes ${v ?? "default"} (${support})`,
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
        const price = PRICERS[resource.type]?.(resource, today);
        if (price) items.push({ urn: resource.urn, ...price, monthlyIdle: cents(price.monthlyIdle), monthlyMax: cents(price.monthlyMax) });
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
