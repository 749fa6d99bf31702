import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { named, record, recording } from "./harness";
import { Cluster, ClusterArgs, NodePool } from "../components/cluster";
import { GpuPoolResources, TeamNamespace } from "../components/tenancy";

/**
 * A team that uses one component on its own, without the platform's stack config, gets the
 * component's defaults and safety rules: each is owned by the component, not by stacks/.
 */
describe("components used on their own", () => {
    describe("NodePool defaults", () => {
        const joined = {
            clusterName: "platform-dev",
            nodeRoleArn: "arn:aws:iam::123456789012:role/node",
            subnetIds: ["subnet-1"],
        };

        it("starts a GPU pool at zero nodes, on demand, with a 200 GiB gp3 root volume and whole GPUs", async () => {
            const { resources } = await record(
                () => new NodePool("team-h100", { ...joined, instanceType: "p5.48xlarge", maxSize: 2 }),
            );
            const group = named(resources, "aws:eks/nodeGroup:NodeGroup", "team-h100-group").inputs as any;
            assert.deepStrictEqual(group.scalingConfig, { minSize: 0, maxSize: 2, desiredSize: 0 });
            assert.strictEqual(group.capacityType, "ON_DEMAND");
            assert.strictEqual(group.labels["gpu-platform/gpu-sharing"], "exclusive");
            const ebs = (
                named(resources, "aws:ec2/launchTemplate:LaunchTemplate", "team-h100-launch-template").inputs as any
            ).blockDeviceMappings[0].ebs;
            assert.deepStrictEqual([ebs.volumeSize, ebs.volumeType], [200, "gp3"]);
        });

        it("keeps a CPU pool at one node with a 50 GiB root volume", async () => {
            const { resources } = await record(
                () => new NodePool("team-cpu", { ...joined, instanceType: "m7i.xlarge", maxSize: 3 }),
            );
            const group = named(resources, "aws:eks/nodeGroup:NodeGroup", "team-cpu-group").inputs as any;
            assert.deepStrictEqual(group.scalingConfig, { minSize: 1, maxSize: 3, desiredSize: 1 });
            const ebs = (
                named(resources, "aws:ec2/launchTemplate:LaunchTemplate", "team-cpu-launch-template").inputs as any
            ).blockDeviceMappings[0].ebs;
            assert.strictEqual(ebs.volumeSize, 50);
        });
    });

    describe("Cluster endpoint access", () => {
        const base: ClusterArgs = {
            clusterName: "team-cluster",
            kubernetesVersion: "1.35",
            region: "us-east-1",
            vpcId: "vpc-1",
            privateSubnetIds: ["subnet-1", "subnet-2"],
            publicSubnetIds: ["subnet-3", "subnet-4"],
        };

        /** The property errors `new Cluster` throws, after checking it registered nothing. */
        async function refusal(args: ClusterArgs): Promise<string[]> {
            recording.reset();
            let thrown: unknown;
            try {
                new Cluster("team", args);
            } catch (err) {
                thrown = err;
            }
            await recording.settle();
            assert.deepStrictEqual(
                recording.resources.map((r) => r.type),
                [],
                "nothing is created, not even the component",
            );
            assert.ok(
                pulumi.InputPropertiesError.isInstance(thrown),
                `expected an InputPropertiesError, got ${String(thrown)}`,
            );
            assert.strictEqual(thrown.message, 'Cluster "team" has invalid arguments');
            return thrown.errors.map((e) => `${e.propertyPath}: ${e.reason}`);
        }

        it("refuses a public endpoint without the CIDRs allowed to reach it, which EKS would open to 0.0.0.0/0", async () => {
            assert.deepStrictEqual(await refusal({ ...base, endpointAccess: "public-and-private" }), [
                'publicAccessCidrs: is required with endpointAccess "public-and-private": list the CIDRs allowed to reach the API (none would open it to 0.0.0.0/0)',
            ]);
            assert.strictEqual(
                (await refusal({ ...base, endpointAccess: "public-and-private", publicAccessCidrs: [] })).length,
                1,
                "an empty list is none",
            );
        });

        it("refuses its creator's role among the admins: EKS already gave it an access entry, and a second fails with 409", async () => {
            const creatorRoleArn = "arn:aws:iam::123456789012:role/deployer";
            const adminRoleArns = ["arn:aws:iam::123456789012:role/admin", creatorRoleArn];
            assert.deepStrictEqual(await refusal({ ...base, creatorRoleArn, adminRoleArns }), [
                "adminRoleArns[1]: is creatorRoleArn, which EKS already made cluster admin when it created the cluster (pulumi-eks 4.3.0 always sets " +
                    "bootstrapClusterCreatorAdminPermissions, pulumi/pulumi-eks#2373); a second access entry fails with 409: remove it here",
            ]);
        });

        it("refuses CIDRs for a private endpoint instead of ignoring them", async () => {
            assert.deepStrictEqual(await refusal({ ...base, publicAccessCidrs: ["203.0.113.0/24"] }), [
                'publicAccessCidrs: must be empty when the API endpoint is private; drop the CIDRs or set endpointAccess to "public-and-private"',
            ]);
        });

        it("opens a public endpoint to exactly the CIDRs given", async () => {
            const { resources } = await record(
                () =>
                    new Cluster("team", {
                        ...base,
                        endpointAccess: "public-and-private",
                        publicAccessCidrs: ["203.0.113.0/24"],
                    }),
            );
            const eks = named(resources, "eks:index:Cluster", "team-eks").inputs as any;
            assert.deepStrictEqual([eks.endpointPublicAccess, eks.publicAccessCidrs], [true, ["203.0.113.0/24"]]);
        });
    });

    describe("TeamNamespace default quota", () => {
        const hardOf = async (args: ConstructorParameters<typeof TeamNamespace>[1]) => {
            const { resources } = await record(() => new TeamNamespace("vision", args));
            return (named(resources, "kubernetes:core/v1:ResourceQuota", "vision-quota").inputs as any).spec.hard;
        };
        /** Every MIG profile the catalog's GPUs make (catalog/gpus.ts, "+me" profiles aside), at 0. */
        const allMigAtZero = Object.fromEntries(
            [
                "1g.5gb",
                "1g.10gb",
                "2g.10gb",
                "3g.20gb",
                "4g.20gb",
                "7g.40gb",
                "1g.20gb",
                "2g.20gb",
                "3g.40gb",
                "4g.40gb",
                "7g.80gb",
            ].map((p) => [`requests.nvidia.com/mig-${p}`, "0"]),
        );

        it("gives one node's worth of each GPU resource the pools offer, and 0 of every other", async () => {
            // A time-sliced g5.12xlarge pool (4 GPUs × 2 replicas) and two MIG pools; the larger node of each resource counts.
            const gpuPools: GpuPoolResources[] = [
                { nodeResources: { "nvidia.com/gpu.shared": 8 } },
                { nodeResources: { "nvidia.com/mig-3g.40gb": 8, "nvidia.com/mig-1g.10gb": 16 } },
                { nodeResources: { "nvidia.com/mig-3g.40gb": 16 } },
            ];
            assert.deepStrictEqual(await hardOf({ team: "vision", costCenter: "CC-2001", gpuPools }), {
                "requests.cpu": "64",
                "requests.memory": "512Gi",
                "requests.nvidia.com/gpu": "0",
                "requests.nvidia.com/gpu.shared": "8",
                ...allMigAtZero,
                "requests.nvidia.com/mig-3g.40gb": "16",
                "requests.nvidia.com/mig-1g.10gb": "16",
            });
        });

        it("grants no GPU of any kind without pools or a quota, since an unlisted resource would be unlimited", async () => {
            assert.deepStrictEqual(await hardOf({ team: "vision", costCenter: "CC-2001" }), {
                "requests.cpu": "64",
                "requests.memory": "512Gi",
                "requests.nvidia.com/gpu": "0",
                "requests.nvidia.com/gpu.shared": "0",
                ...allMigAtZero,
            });
        });

        it("takes the quota's own values over the defaults", async () => {
            const hard = await hardOf({
                team: "vision",
                costCenter: "CC-2001",
                gpuPools: [{ nodeResources: { "nvidia.com/gpu": 8 } }],
                quota: { gpus: 2, sharedGpus: 4, mig: { "1g.10gb": 3 } },
            });
            assert.deepStrictEqual(
                [
                    hard["requests.nvidia.com/gpu"],
                    hard["requests.nvidia.com/gpu.shared"],
                    hard["requests.nvidia.com/mig-1g.10gb"],
                    hard["requests.nvidia.com/mig-3g.40gb"],
                ],
                ["2", "4", "3", "0"],
            );
        });
    });
});
