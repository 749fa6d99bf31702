import * as assert from "assert";
import { HOURS_PER_MONTH, SERVICE_PRICES } from "@gpu-platform/catalog";
import { priceResources, priceTotals } from "../pricing";
import { stackMonthlyBudget } from "../stack-budget";
import { resource, theViolation, violationsOf } from "./support/check";

const h100 = resource("aws:eks/nodeGroup:NodeGroup", "h100-group", {
    instanceTypes: ["p5.48xlarge"],
    scalingConfig: { minSize: 0, maxSize: 4 },
});
const key = resource("aws:kms/key:Key", "secrets-key", {});
const controlPlaneMonthly = SERVICE_PRICES.eksClusterUsdPerHour * HOURS_PER_MONTH; // 73.00

const asPriced = (r: ReturnType<typeof resource>) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    parent: r.parent,
    props: r.inputs,
});

describe("policies: stack budget", () => {
    describe("stack-monthly-budget", () => {
        it("passes a stack whose maximum-scale price fits the budget", async () => {
            // 4 × p5.48xlarge at $55.04/h × 730 h = $160,716.80; their default 20 GiB gp3 root volumes, 4 × 20 × $0.08 = $6.40; the KMS key's $1.
            assert.deepStrictEqual(
                await violationsOf(stackMonthlyBudget, [h100, key], { monthlyBudgetUsd: 160724.2 }),
                [],
            );
        });

        it("reports the stack over budget at maximum scale, with the amounts, the largest items and what to change", async () => {
            const v = await theViolation(stackMonthlyBudget, [h100, key], {
                monthlyBudgetUsd: 150000,
                largestItems: 1,
            });
            assert.strictEqual(v.urn, null);
            assert.strictEqual(
                v.message,
                "at maximum scale the stack costs $160,724.20 a month, $10,724.20 over its budget of $150,000.00 " +
                    "(largest: node group h100-group: p5.48xlarge × 0–4 (on-demand, $55.04/h): $160,716.80); lower the node groups' scalingConfig.maxSize " +
                    "(for the platform, nodePools.<name>.maxSize in Pulumi.<stack>.yaml) or raise monthlyBudgetUsd in the stack's policy config.",
            );
        });
    });

    describe("pricing", () => {
        it("prices each node's root volume from the launch template the group names, IOPS above gp3's free 3,000 included", () => {
            const template = resource("aws:ec2/launchTemplate:LaunchTemplate", "gpu-lt", {
                blockDeviceMappings: [
                    { deviceName: "/dev/xvda", ebs: { volumeSize: 500, volumeType: "gp3", iops: 6000 } },
                ],
            });
            const group = resource("aws:eks/nodeGroup:NodeGroup", "gpu-group", {
                instanceTypes: ["p4de.24xlarge"],
                scalingConfig: { minSize: 1, maxSize: 3 },
                launchTemplate: { id: "lt-0123", version: "1" },
            });
            const priced = { ...asPriced(group), propertyDependencies: { launchTemplate: [template.urn] } };
            const volume = priceResources([asPriced(template), priced]).find((i) =>
                i.description.includes("root volume"),
            )!;
            // Per node: 500 GiB × $0.08 + (6,000 − 3,000) IOPS × $0.005 = $40 + $15 = $55; 1 node idle, 3 at most.
            assert.deepStrictEqual(
                [volume.description, volume.monthlyIdle, volume.monthlyMax],
                ["node group gpu-group: 500 GiB gp3 root volume per node, 3000 IOPS", 55, 165],
            );
        });

        it("names the resource in every item, so two alarms are two lines a reader can tell apart", () => {
            const alarms = ["queue-depth", "dlq-not-empty"].map((name) =>
                resource("aws:cloudwatch/metricAlarm:MetricAlarm", name, {}),
            );
            assert.deepStrictEqual(
                priceResources(alarms.map(asPriced)).map((i) => i.description),
                ["CloudWatch alarm queue-depth", "CloudWatch alarm dlq-not-empty"],
            );
        });

        it("prices the EKS control plane once when a real preview shows both the eks component and its cluster", () => {
            const component = resource("eks:index:Cluster", "c", {});
            const child = resource(
                "aws:eks/cluster:Cluster",
                "c-eksCluster",
                { version: "1.35" },
                { parent: component.urn },
            );
            const items = priceResources([component, child].map(asPriced), "2026-11-23");
            assert.deepStrictEqual(
                items.map((i) => [i.urn, i.monthlyMax]),
                [[child.urn, controlPlaneMonthly]],
            );
        });

        it("prices NAT gateways from the gateways when a real preview shows the VPC's children, and from the VPC's inputs otherwise", () => {
            const vpc = resource("awsx:ec2:Vpc", "vpc", {
                natGateways: { strategy: "OnePerAz" },
                numberOfAvailabilityZones: 3,
            });
            const gateways = [1, 2, 3].map((i) =>
                resource("aws:ec2/natGateway:NatGateway", `vpc-${i}`, {}, { parent: vpc.urn }),
            );
            const monthly = (items: ReturnType<typeof priceResources>) => priceTotals(items).monthlyMax;
            const threeGateways = Math.round(3 * SERVICE_PRICES.natGatewayUsdPerHour * HOURS_PER_MONTH * 100) / 100;
            assert.strictEqual(monthly(priceResources([vpc, ...gateways].map(asPriced))), threeGateways);
            assert.strictEqual(monthly(priceResources([vpc].map(asPriced))), threeGateways);
        });

        it("charges the extended-support rate once a version has left standard support", () => {
            const [item] = priceResources(
                [asPriced(resource("aws:eks/cluster:Cluster", "old", { version: "1.32" }))],
                "2026-11-23",
            );
            assert.strictEqual(item.monthlyMax, SERVICE_PRICES.eksExtendedSupportUsdPerHour * HOURS_PER_MONTH);
            assert.match(item.description, /extended support: 1\.32 left standard support/);
        });

        it("keeps the standard rate for a lapsed version whose upgrade policy is STANDARD: EKS upgrades it instead", () => {
            const cluster = resource("aws:eks/cluster:Cluster", "old", {
                version: "1.32",
                upgradePolicy: { supportType: "STANDARD" },
            });
            const [item] = priceResources([asPriced(cluster)], "2026-11-23");
            assert.strictEqual(item.monthlyMax, controlPlaneMonthly);
            assert.match(item.description, /standard support: EKS upgrades 1\.32/);
        });
    });
});
