/**
 * The stack's monthly budget, checked at its maximum scale: what the stack would cost with
 * every node group, Auto Scaling group and fleet at its maximum size (and every instance) for a whole
 * 730-hour month, priced from the catalog
 * by the same code as the offline plan's cost table (pricing.ts).
 */
import { PRICE_DATE, PRICE_REGION } from "@gpu-platform/catalog";
import { stackPolicy } from "./lib/define";
import { cents, priceResources, priceTotals } from "./pricing";

const usd = (amount: number) =>
    `$${amount.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

export const stackMonthlyBudget = stackPolicy({
    name: "stack-monthly-budget",
    description:
        "At maximum scale (every node group, Auto Scaling group and fleet at its maximum size, and every instance, all month) the stack costs no more than monthlyBudgetUsd, " +
        `priced from the catalog (on-demand, ${PRICE_REGION}, prices of ${PRICE_DATE}; spot at the on-demand rate; usage-based charges not included). ` +
        "GPU capacity on a type the catalog does not know is a violation: its price, and so the stack's, is unknown.",
    enforcementLevel: "advisory",
    config: {
        monthlyBudgetUsd: {
            type: "number",
            minimum: 0,
            description: "Most the stack may cost per month at maximum scale, in US dollars.",
            default: 25000,
        },
        largestItems: {
            type: "integer",
            minimum: 0,
            description: "How many of the most expensive items a violation names.",
            default: 3,
        },
        asOf: {
            type: "string",
            pattern: "^(\\d{4}-\\d{2}-\\d{2})?$",
            description:
                "The day (YYYY-MM-DD) whose rates apply, such as EKS extended support; empty for the day the preview runs.",
            default: "",
        },
    },
    validate: (resources, { monthlyBudgetUsd, largestItems, asOf }, report) => {
        const items = priceResources(
            resources.map((r) => ({
                urn: r.urn,
                type: r.type,
                name: r.name,
                parent: r.parent ?? null,
                props: r.props,
                providerProps: r.providerProps,
                propertyDependencies: r.propertyDependencies,
                dependencies: r.dependencies,
            })),
            asOf || undefined,
        );
        for (const item of items.filter((i) => i.unpricedGpu)) {
            report(
                `${item.unpricedGpu}: the stack's cost at maximum scale cannot be known, so its budget of ${usd(monthlyBudgetUsd)} cannot be checked; ` +
                    "use an instance type from catalog/instances.ts (or add the type, with its GPUs and price, to the catalog).",
                item.urn,
            );
        }
        const { monthlyMax } = priceTotals(items);
        if (monthlyMax <= monthlyBudgetUsd) return;
        const largest = [...items]
            .sort((a, b) => b.monthlyMax - a.monthlyMax)
            .slice(0, largestItems)
            .map((i) => `${i.description}: ${usd(i.monthlyMax)}`);
        report(
            `at maximum scale the stack costs ${usd(monthlyMax)} a month, ${usd(cents(monthlyMax - monthlyBudgetUsd))} over its budget of ${usd(monthlyBudgetUsd)}` +
                `${largest.length > 0 ? ` (largest: ${largest.join("; ")})` : ""}; lower the node groups' scalingConfig.maxSize ` +
                "(for the platform, nodePools.<name>.maxSize in Pulumi.<stack>.yaml) or raise monthlyBudgetUsd in the stack's policy config.",
        );
    },
});
