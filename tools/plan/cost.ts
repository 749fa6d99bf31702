/**
 * Prices a recorded stack from the catalog, per 730-hour month: idle (every pool at its
 * minimum, workers at zero) and at maximum scale (every pool at its maximum).
 */
import { HOURS_PER_MONTH, PRICE_CURRENCY, PRICE_DATE, PRICE_REGION, SERVICE_PRICES, gpusPerInstance, inExtendedSupport, isKnownInstanceType, instanceType } from "../../catalog";
import type { RecordedResource } from "../offline/recorder";

export interface CostItem {
    /** The priced resource's urn. */
    readonly urn: string;
    readonly description: string;
    readonly monthlyIdle: number;
    readonly monthlyMax: number;
    /** True when the spend is on GPU instances. */
    readonly gpu: boolean;
    /** Urn of the nearest component the resource belongs to, or null at the stack's root. */
    readonly component: string | null;
    /** The `team` tag the resource carries (its own or the provider's default), if any. */
    readonly team?: string;
}

export interface CostEstimate {
    readonly currency: string;
    readonly region: string;
    readonly priceDate: string;
    readonly monthlyIdle: number;
    readonly monthlyMax: number;
    readonly gpuMonthlyIdle: number;
    readonly gpuMonthlyMax: number;
    readonly items: CostItem[];
}

type Pricer = (resource: RecordedResource) => Omit<CostItem, "urn" | "component" | "team"> | undefined;

const perMonth = (hourly: number) => hourly * HOURS_PER_MONTH;

const PRICERS: Record<string, Pricer> = {
    "aws:eks/nodeGroup:NodeGroup": (r) => {
        const type = ((r.inputs.instanceTypes as string[] | undefined) ?? [])[0];
        const scaling = (r.inputs.scalingConfig ?? {}) as { minSize?: number; maxSize?: number };
        const min = scaling.minSize ?? 0;
        const max = scaling.maxSize ?? min;
        if (!type || !isKnownInstanceType(type)) {
            return { description: `node group ${r.name}: ${type ?? "no instance type"} is not in the catalog, not priced`, monthlyIdle: 0, monthlyMax: 0, gpu: false };
        }
        const hourly = instanceType(type).onDemandUsdPerHour;
        // Spot is priced at the on-demand rate: a ceiling, since spot prices move.
        const market = r.inputs.capacityType === "SPOT" ? "spot, priced at on-demand" : "on-demand";
        return {
            description: `node group ${r.name}: ${type} × ${min}–${max} (${market}, $${hourly}/h)`,
            monthlyIdle: perMonth(hourly * min),
            monthlyMax: perMonth(hourly * max),
            gpu: gpusPerInstance(type) > 0,
        };
    },
    "eks:index:Cluster": (r) => controlPlane(r.inputs.version),
    "aws:eks/cluster:Cluster": (r) => controlPlane(r.inputs.version),
    "awsx:ec2:Vpc": (r) => {
        const strategy = (r.inputs.natGateways as { strategy?: string } | undefined)?.strategy ?? "OnePerAz";
        const zones = Number(r.inputs.numberOfAvailabilityZones ?? 3);
        const gateways = strategy === "None" ? 0 : strategy === "Single" ? 1 : zones;
        const monthly = perMonth(SERVICE_PRICES.natGatewayUsdPerHour * gateways);
        return { description: `${gateways} NAT gateway(s) (data processing not included)`, monthlyIdle: monthly, monthlyMax: monthly, gpu: false };
    },
    "aws:ec2/natGateway:NatGateway": () => {
        const monthly = perMonth(SERVICE_PRICES.natGatewayUsdPerHour);
        return { description: "NAT gateway (data processing not included)", monthlyIdle: monthly, monthlyMax: monthly, gpu: false };
    },
    "aws:ec2/vpcEndpoint:VpcEndpoint": (r) => {
        if (r.inputs.vpcEndpointType !== "Interface") return undefined; // gateway endpoints are free
        const zones = ((r.inputs.subnetIds as unknown[] | undefined) ?? []).length || 1;
        const monthly = perMonth(SERVICE_PRICES.interfaceEndpointUsdPerAzHour * zones);
        return { description: `interface endpoint ${r.inputs.serviceName} in ${zones} zone(s)`, monthlyIdle: monthly, monthlyMax: monthly, gpu: false };
    },
    "aws:kms/key:Key": () => ({ description: "KMS key", monthlyIdle: SERVICE_PRICES.kmsKeyUsdPerMonth, monthlyMax: SERVICE_PRICES.kmsKeyUsdPerMonth, gpu: false }),
    "aws:cloudwatch/metricAlarm:MetricAlarm": () => ({
        description: "CloudWatch alarm",
        monthlyIdle: SERVICE_PRICES.metricAlarmUsdPerMonth,
        monthlyMax: SERVICE_PRICES.metricAlarmUsdPerMonth,
        gpu: false,
    }),
};

/** The control plane, at the extended-support rate once its version has left standard support. */
function controlPlane(version: unknown) {
    const today = new Date().toISOString().slice(0, 10);
    const extended = typeof version === "string" && inExtendedSupport(version, today);
    const monthly = perMonth(extended ? SERVICE_PRICES.eksExtendedSupportUsdPerHour : SERVICE_PRICES.eksClusterUsdPerHour);
    const support = extended ? `extended support: ${version} left standard support` : "standard support";
    return { description: `EKS control plane, Kubernetes ${version ?? "default"} (${support})`, monthlyIdle: monthly, monthlyMax: monthly, gpu: false };
}

export function estimateCost(resources: RecordedResource[]): CostEstimate {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const stackTeam = soleProviderTeam(resources);
    const items: CostItem[] = [];
    for (const resource of resources) {
        const priced = PRICERS[resource.type]?.(resource);
        if (!priced) continue;
        items.push({
            ...priced,
            monthlyIdle: cents(priced.monthlyIdle),
            monthlyMax: cents(priced.monthlyMax),
            urn: resource.urn,
            component: nearestComponent(resource, byUrn),
            team: teamOf(resource) ?? stackTeam,
        });
    }
    const sum = (pick: (i: CostItem) => number, only: (i: CostItem) => boolean = () => true) => cents(items.filter(only).reduce((t, i) => t + pick(i), 0));
    return {
        currency: PRICE_CURRENCY,
        region: PRICE_REGION,
        priceDate: PRICE_DATE,
        monthlyIdle: sum((i) => i.monthlyIdle),
        monthlyMax: sum((i) => i.monthlyMax),
        gpuMonthlyIdle: sum((i) => i.monthlyIdle, (i) => i.gpu),
        gpuMonthlyMax: sum((i) => i.monthlyMax, (i) => i.gpu),
        items,
    };
}

function nearestComponent(resource: RecordedResource, byUrn: Map<string, RecordedResource>): string | null {
    let parent = resource.parent ? byUrn.get(resource.parent) : undefined;
    while (parent && parent.custom) parent = parent.parent ? byUrn.get(parent.parent) : undefined;
    return parent?.urn ?? null;
}

function teamOf(resource: RecordedResource): string | undefined {
    const tags = (resource.outputs.tagsAll ?? resource.inputs.tags) as Record<string, string> | undefined;
    return tags?.team;
}

/**
 * Remote components (the eks cluster, the awsx VPC) carry no tags of their own here; their
 * children get the AWS provider's default tags. With one AWS provider, that is their team.
 */
function soleProviderTeam(resources: RecordedResource[]): string | undefined {
    const providers = resources.filter((r) => r.type === "pulumi:providers:aws");
    if (providers.length !== 1) return undefined;
    const defaultTags = providers[0].inputs.defaultTags;
    const parsed = typeof defaultTags === "string" ? (JSON.parse(defaultTags) as { tags?: Record<string, string> }) : (defaultTags as { tags?: Record<string, string> });
    return parsed?.tags?.team;
}

function cents(amount: number): number {
    return Math.round(amount * 100) / 100;
}
