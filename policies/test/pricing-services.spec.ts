import * as assert from "assert";
import { fargateComparisons, priceResources } from "../pricing";
import { resource } from "./support/check";

/**
 * The cost tracker's lines, against figures worked out by hand from the catalog's prices
 * (catalog/services.ts, catalog/instances.ts), per 730-hour month, each rounded to the cent.
 */
const priced = (r: ReturnType<typeof resource>, propertyDependencies?: Record<string, string[]>) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    parent: r.parent,
    props: { ...r.outputs, ...r.inputs },
    propertyDependencies,
});
const lines = (items: ReturnType<typeof priceResources>) =>
    items.map((i) => [i.description, i.monthlyIdle, i.monthlyMax]);

/** A CPU pool of m7i.2xlarge (8 vCPU, 32 GiB, $0.4032/h), 3 to 10 nodes, and a GPU pool of 0 to 4. */
const cpuPool = resource("aws:eks/nodeGroup:NodeGroup", "system-group", {
    instanceTypes: ["m7i.2xlarge"],
    scalingConfig: { minSize: 3, maxSize: 10 },
});
const gpuPool = resource("aws:eks/nodeGroup:NodeGroup", "h100-group", {
    instanceTypes: ["p5.48xlarge"],
    scalingConfig: { minSize: 0, maxSize: 4 },
});
const pools = [cpuPool, gpuPool].map((r) => priced(r));
const withoutPools = (items: ReturnType<typeof priceResources>) =>
    items.filter((i) => !i.description.startsWith("node group"));

const task = (name: string, inputs: Record<string, unknown>) =>
    resource("aws:ecs/taskDefinition:TaskDefinition", name, inputs, {
        outputs: { arn: `arn:aws:ecs:us-east-1:123456789012:task-definition/${name}:1` },
    });
const service = (name: string, taskArn: string, desiredCount: number) =>
    resource(
        "aws:ecs/service:Service",
        name,
        { launchType: "FARGATE", taskDefinition: taskArn, desiredCount },
        { outputs: { name } },
    );

describe("pricing: the cost tracker's services", () => {
    it("prices a Fargate ARM64 service per task from desired to its scaling target's maximum, beside its share of a CPU-pool node", () => {
        const arm = task("tracker", {
            cpu: "512",
            memory: "1024",
            runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
        });
        const svc = service("tracker-service", "arn:aws:ecs:us-east-1:123456789012:task-definition/tracker:1", 2);
        const target = resource("aws:appautoscaling/target:Target", "tracker-scaling", {
            serviceNamespace: "ecs",
            resourceId: "service/c/tracker-service",
            minCapacity: 2,
            maxCapacity: 4,
        });
        const items = withoutPools(priceResources([...pools, priced(arm), priced(svc), priced(target)]));
        // A task: 0.5 vCPU × $0.03238 + 1 GB × $0.00356 = $0.01975/h; 2 tasks × 730 h = $28.835 → $28.84, 4 tasks $57.67.
        // On the pool: max(0.5 / 8, 1 / 32) = 6.25% of $0.4032/h = $0.0252/h.
        assert.deepStrictEqual(lines(items), [
            [
                "ECS service tracker-service: Fargate ARM64 0.5 vCPU / 1 GB × 2–4 tasks ($0.01975/h each; the same requests on the CPU pool: 6.25% of one m7i.2xlarge, $0.0252/h)",
                28.84,
                57.67,
            ],
        ]);
        const [c] = fargateComparisons([...pools, priced(arm), priced(svc), priced(target)]);
        assert.deepStrictEqual(
            [c.name, c.tasksIdle, c.tasksMax, c.node?.type, c.node?.share],
            ["tracker-service", 2, 4, "m7i.2xlarge", 0.0625],
        );
    });

    it("prices x86 at its own rates, finds the task definition by the engine's property dependencies, and runs one task without a scaling target", () => {
        const x86 = task("big", { cpu: "1024", memory: "2048" });
        const svc = service("big-service", "unknown-until-update", 1);
        const [item] = withoutPools(
            priceResources([...pools, priced(x86), priced(svc, { taskDefinition: [x86.urn] })]),
        );
        // 1 vCPU × $0.04048 + 2 GB × $0.004445 = $0.04937/h × 730 = $36.0401 → $36.04.
        assert.deepStrictEqual([item.monthlyIdle, item.monthlyMax], [36.04, 36.04]);
        assert.match(
            item.description,
            /^ECS service big-service: Fargate X86_64 1 vCPU \/ 2 GB × 1–1 tasks \(\$0\.04937\/h each/,
        );
    });

    it("prices RDS PostgreSQL: instance-hours and gp3 storage, both doubled by Multi-AZ, and the password's secret", () => {
        const db = (multiAz: boolean, instanceClass: string) =>
            resource("aws:rds/instance:Instance", "db", {
                engine: "postgres",
                instanceClass,
                multiAz,
                allocatedStorage: 20,
                storageType: "gp3",
                manageMasterUserPassword: true,
            });
        // db.t4g.small Multi-AZ $0.064/h × 730 = $46.72; 20 GB × $0.23 = $4.60; a secret $0.40.
        assert.deepStrictEqual(lines(priceResources([priced(db(true, "db.t4g.small"))])), [
            ["RDS instance db: PostgreSQL db.t4g.small Multi-AZ ($0.064/h)", 46.72, 46.72],
            ["RDS instance db: 20 GB gp3 storage Multi-AZ ($0.23/GB-month; autoscaled growth by use)", 4.6, 4.6],
            ["RDS instance db: its master password's secret", 0.4, 0.4],
        ]);
        // db.t4g.micro Single-AZ $0.016/h × 730 = $11.68; 20 GB × $0.115 = $2.30.
        assert.deepStrictEqual(lines(priceResources([priced(db(false, "db.t4g.micro"))])).slice(0, 2), [
            ["RDS instance db: PostgreSQL db.t4g.micro Single-AZ ($0.016/h)", 11.68, 11.68],
            ["RDS instance db: 20 GB gp3 storage Single-AZ ($0.115/GB-month; autoscaled growth by use)", 2.3, 2.3],
        ]);
        assert.deepStrictEqual(lines(priceResources([priced(db(false, "db.r7g.large"))]))[0], [
            "RDS instance db: postgres db.r7g.large is not in the catalog, not priced",
            0,
            0,
        ]);
    });

    it("prices an ALB's hours (not its LCUs), each secret, and lists ECR storage as by use", () => {
        const items = priceResources(
            [
                resource("aws:lb/loadBalancer:LoadBalancer", "alb", { internal: true }),
                resource("aws:secretsmanager/secret:Secret", "token", {}),
                resource("aws:ecr/repository:Repository", "repo", {}),
            ].map((r) => priced(r)),
        );
        // $0.0225/h × 730 = $16.425 → $16.43; $0.40 a secret.
        assert.deepStrictEqual(lines(items), [
            ["load balancer alb (application; LCUs by traffic, not included)", 16.43, 16.43],
            ["secret token", 0.4, 0.4],
            ["ECR repository repo: storage by use ($0.10 per GB-month), not estimated", 0, 0],
        ]);
    });

    it("prices OpenCost's and Prometheus' pods as their requests' share of a CPU-pool node, node-exporter on every node, and Prometheus' volume", () => {
        const prometheus = resource("kubernetes:helm.sh/v3:Release", "prom", {
            chart: "prometheus",
            values: {
                server: {
                    resources: { requests: { cpu: "500m", memory: "2Gi" } },
                    persistentVolume: { enabled: true, size: "50Gi" },
                },
                "kube-state-metrics": { resources: { requests: { cpu: "100m", memory: "256Mi" } } },
                "prometheus-node-exporter": { resources: { requests: { cpu: "20m", memory: "32Mi" } } },
            },
        });
        const opencost = resource("kubernetes:helm.sh/v3:Release", "oc", {
            chart: "opencost",
            values: {
                opencost: {
                    exporter: { resources: { requests: { cpu: "1", memory: "1Gi" } } },
                    ui: { enabled: false },
                },
            },
        });
        const items = withoutPools(priceResources([...pools, priced(prometheus), priced(opencost)]));
        assert.deepStrictEqual(
            items.map((i) => [i.monthlyIdle, i.monthlyMax]),
            [
                // Prometheus: max(0.5/8, 2/32) = 0.0625 × $0.4032 × 730 = $18.396 → $18.40.
                [18.4, 18.4],
                // kube-state-metrics: max(0.1/8, 0.25/32) = 0.0125 × $0.4032 × 730 = $3.67920 → $3.68.
                [3.68, 3.68],
                // node-exporter: max(0.02/8, 0.03125/32) = 0.0025 × $0.4032 = $0.001008/h × 730 × 3 nodes = $2.21, × 14 nodes = $10.30.
                [2.21, 10.3],
                // 50 GiB gp3 × $0.08.
                [4, 4],
                // OpenCost: max(1/8, 1/32) = 0.125 × $0.4032 × 730 = $36.792 → $36.79; its UI is off.
                [36.79, 36.79],
            ],
        );
        assert.match(
            items[2].description,
            /node-exporter \(20m CPU, 32Mi\) × 3–14 nodes, 0\.25% of one m7i\.2xlarge of the CPU pool/,
        );
    });

    it("says so when there is no CPU pool to price pods on", () => {
        const opencost = resource("kubernetes:helm.sh/v3:Release", "oc", {
            chart: "opencost",
            values: {
                opencost: {
                    exporter: { resources: { requests: { cpu: "1", memory: "1Gi" } } },
                    ui: { enabled: false },
                },
            },
        });
        assert.deepStrictEqual(lines(priceResources([priced(opencost)])), [
            ["Helm release oc: OpenCost's requests: no CPU pool to price them on, not priced", 0, 0],
        ]);
    });
});
