/**
 * Prices a recorded stack from the catalog, per 730-hour month: idle (every pool at its
 * minimum, workers at zero) and at maximum scale (every pool at its maximum). The pricing
 * itself is the policy pack's (policies/pricing.ts), so this table and the stack-budget
 * policy agree to the cent; this adds what the plan shows besides: the component and team
 * each item belongs to.
 */
import { PRICE_CURRENCY, PRICE_DATE, PRICE_REGION } from "@gpu-platform/catalog";
import { defaultTagsOf } from "@gpu-platform/catalog/aws-tags";
import {
    FargateComparison,
    PriceItem,
    fargateComparisons,
    priceResources,
    priceTotals,
} from "gpu-dev-platform-policies/pricing";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { componentOf } from "@gpu-platform/offline/tree";

export interface CostItem extends PriceItem {
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
    /** Each Fargate service beside the share of a CPU-pool node its tasks' requests would take (text output only). */
    readonly comparisons: FargateComparison[];
}

export function estimateCost(resources: RecordedResource[]): CostEstimate {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const stackTeam = soleProviderTeam(resources);
    const pricedResources = resources.map((r) => ({
        urn: r.urn,
        type: r.type,
        name: r.name,
        parent: r.parent,
        props: { ...r.outputs, ...r.inputs },
        propertyDependencies: r.propertyDependencies,
    }));
    const priced = priceResources(pricedResources);
    const items: CostItem[] = priced.map((item) => {
        const resource = byUrn.get(item.urn)!;
        return { ...item, component: componentOf(resource.parent, byUrn), team: teamOf(resource) ?? stackTeam };
    });
    return {
        currency: PRICE_CURRENCY,
        region: PRICE_REGION,
        priceDate: PRICE_DATE,
        ...priceTotals(items),
        items,
        comparisons: fargateComparisons(pricedResources),
    };
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
    const team = defaultTagsOf(providers[0].inputs.defaultTags).team;
    return typeof team === "string" ? team : undefined;
}
