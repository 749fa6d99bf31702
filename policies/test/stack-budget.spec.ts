import * as assert from "assert";
import { HOURS_PER_MONTH, SERVICE_PRICES } from "../../catalog";
import { priceResources, priceTotals } from "../pricing";
import { stackMonthlyBudget } from "../stack-budget";
import { resource, theViolation, violationsOf } from "./support/check";

const h100 = resource("aws:eks/nodeGroup:NodeGroup", "h100-group", { instanceTypes: ["p5.48xlarge"], scalingConfig: { minSize: 0, maxSize: 4 } });
const key = resource("aws:kms/key:Key", "secrets-key", {});
const controlPlaneMonthly = SERVICE_PRICES.eksClusterUsdPerHour * HOURS_PER_MONTH; // 73.00

const asPriced = (r: ReturnType<typeof resource>) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent, props: r.inputs });

describe("policies: stack budget", () => {
    describe("stack-monthly-budget", () => {
        it("passes a stack whose maximum-scale price fits the budget", async () => {
            assert.deepStrictEqual(await violationsOf(stackMonthlyBudget, [h100, key], { monthlyBudgetUsd: 160717.8 }), []);
        });

        it("reports the stack over budget at maximum scale, with the amounts, the largest items and what to change", async () => {
            // 4 × p5.48xlarge at $55.04/h × 730 h = $160,716.80, plus the KMS key's $1.
            const v = await theViolation(stackMonthlyBudget, [h100, key], { monthlyBudgetUsd: 150000, largestItems: 1 });
            assert.strictEqual(v.urn, null);
            assert.strictEqual(
                v.message,
                "at maximum scale the stack costs $160,717.80 a month, $10,717.80 over its budget of $150,000.00 " +
                    "(largest: node group h100-group: p5.48xlarge × 0–4 (on-demand, $55.04/h): $160,716.80); lower the node groups' scalingConfig.maxSize " +
                    "(for the platform, nodePools.<name>.maxSize in Pulumi.<stack>.yaml) or raise monthlyBudgetUsd in the stack's policy config.",
            );
        });
    });

    describe("pricing", () => {
        it("prices the EKS control plane once when a real preview shows both the eks component and its cluster", () => {
            const component = resource("eks:index:Cluster", "c", {});
            const child = resource("aws:eks/cluster:Cluster", "c-eksCluster", { version: "1.35" }, { parent: component.urn });
            const items = priceResources([component, child].map(asPriced), "2026-11-23");
            assert.deepStrictEqual(items.map((i) => [i.urn, i.monthlyMax]), [[child.urn, controlPlaneMonthly]]);
        });

        it("prices NAT gateways from the gateways when a real preview shows the VPC's children, and from the VPC's inputs otherwise", () => {
            const vpc = resource("awsx:ec2:Vpc", "vpc", { natGateways: { strategy: "OnePerAz" }, numberOfAvailabilityZones: 3 });
            const gateways = [1, 2, 3].map((i) => resource("aws:ec2/natGateway:NatGateway", `vpc-${i}`, {}, { parent: vpc.urn }));
            const monthly = (items: ReturnType<typeof priceResources>) => priceTotals(items).monthlyMax;
            const threeGateways = Math.round(3 * SERVICE_PRICES.natGatewayUsdPerHour * HOURS_PER_MONTH * 100) / 100;
            assert.strictEqual(monthly(priceResources([vpc, ...gateways].map(asPriced))), threeGateways);
            assert.strictEqual(monthly(priceResources([vpc].map(asPriced))), threeGateways);
        });

        it("charges the extended-support rate once a version has left standard support", () => {
            const [item] = priceResources([asPriced(resource("aws:eks/cluster:Cluster", "old", { version: "1.32" }))], "2026-11-23");
            assert.strictEqual(item.monthlyMax, SERVICE_PRICES.eksExtendedSupportUsdPerHour * HOURS_PER_MONTH);
            assert.match(item.description, /extended support: 1\.32 left standard support/);
        });

        it("keeps the standard rate for a lapsed version whose upgrade policy is STANDARD: EKS upgrades it instead", () => {
            const cluster = resource("aws:eks/cluster:Cluster", "old", { version: "1.32", upgradePolicy: { supportType: "STANDARD" } });
            const [item] = priceResources([asPriced(cluster)], "2026-11-23");
            assert.strictEqual(item.monthlyMax, controlPlaneMonthly);
            assert.match(item.description, /standard support: EKS upgrades 1\.32/);
        });
    });
});
