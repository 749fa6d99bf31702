/**
 * How a pool buys its instances and their root volumes: io2 with its provisioned IOPS, and EC2
 * Capacity Blocks for ML as EKS requires them.
 */
import * as assert from "assert";
import { configProblems, named, record } from "./harness";
import { NodePool } from "../components/cluster";

const joined = {
    clusterName: "platform-prod",
    nodeRoleArn: "arn:aws:iam::123456789012:role/node",
    subnetIds: ["subnet-us-east-2a"],
};

const problemsOf = (edit: (raw: any) => void) => configProblems("prod", edit);

describe("io2 root volumes", () => {
    it("refuses io2 without provisioned IOPS, which EC2 requires, and IOPS beyond 1,000 per GiB or on another type", () => {
        assert.deepStrictEqual(
            problemsOf((raw) => (raw.nodePools.h100.diskType = "io2")),
            [
                'nodePools.h100.diskIops: is required with diskType "io2" (EC2 refuses io2 volumes without provisioned IOPS): 100 to 256000 for 1000 GiB',
            ],
        );
        // a100-shared leaves its size at the GPU default, 200 GiB: at most 200,000 IOPS.
        assert.deepStrictEqual(
            problemsOf((raw) => Object.assign(raw.nodePools["a100-shared"], { diskType: "io2", diskIops: 200_001 })),
            [
                "nodePools.a100-shared.diskIops: is 200001; io2 takes 100 to 200000 IOPS for a 200 GiB volume (at most 1000 per GiB, 256000 in all)",
            ],
        );
        assert.deepStrictEqual(
            problemsOf((raw) => (raw.nodePools.h100.diskIops = 6000)),
            [
                'nodePools.h100.diskIops: is set but diskType is "gp3"; only io2 takes provisioned IOPS (gp3 includes 3000): remove it',
            ],
        );
    });

    it("provisions the IOPS on the launch template's root volume", async () => {
        const { resources } = await record(
            () =>
                new NodePool("fast", {
                    ...joined,
                    instanceType: "p5.48xlarge",
                    maxSize: 1,
                    diskType: "io2",
                    diskIops: 16_000,
                }),
        );
        const ebs = (named(resources, "aws:ec2/launchTemplate:LaunchTemplate", "fast-launch-template").inputs as any)
            .blockDeviceMappings[0].ebs;
        assert.deepStrictEqual([ebs.volumeType, ebs.iops], ["io2", 16_000]);
    });
});

describe("Capacity Blocks for ML", () => {
    it("launches into the block as EKS requires: CAPACITY_BLOCK, and the type, market and reservation in the launch template", async () => {
        const { resources } = await record(
            () =>
                new NodePool("h100-block", {
                    ...joined,
                    instanceType: "p5.48xlarge",
                    maxSize: 2,
                    capacityType: "capacity-block",
                    capacityReservationId: "cr-0123456789abcdef0",
                }),
        );
        const group = named(resources, "aws:eks/nodeGroup:NodeGroup", "h100-block-group").inputs as any;
        assert.strictEqual(group.capacityType, "CAPACITY_BLOCK");
        // EKS refuses an instance type in both the node group and its launch template.
        assert.strictEqual(group.instanceTypes, undefined);
        assert.deepStrictEqual(group.subnetIds, ["subnet-us-east-2a"]);
        const template = named(resources, "aws:ec2/launchTemplate:LaunchTemplate", "h100-block-launch-template")
            .inputs as any;
        assert.strictEqual(template.instanceType, "p5.48xlarge");
        assert.deepStrictEqual(template.instanceMarketOptions, { marketType: "capacity-block" });
        assert.deepStrictEqual(template.capacityReservationSpecification, {
            capacityReservationTarget: { capacityReservationId: "cr-0123456789abcdef0" },
        });
    });

    it("keeps an on-demand capacity reservation an on-demand pool with its instance type on the node group", async () => {
        const { resources } = await record(
            () =>
                new NodePool("odcr", {
                    ...joined,
                    instanceType: "p5.48xlarge",
                    maxSize: 2,
                    capacityReservationId: "cr-0123456789abcdef0",
                }),
        );
        const group = named(resources, "aws:eks/nodeGroup:NodeGroup", "odcr-group").inputs as any;
        assert.deepStrictEqual([group.capacityType, group.instanceTypes], ["ON_DEMAND", ["p5.48xlarge"]]);
        assert.strictEqual(
            (named(resources, "aws:ec2/launchTemplate:LaunchTemplate", "odcr-launch-template").inputs as any)
                .instanceMarketOptions,
            undefined,
        );
    });

    it("requires the block's reservation and zone, a type EC2 sells blocks of, and a pool that starts at zero", () => {
        assert.deepStrictEqual(
            problemsOf((raw) => Object.assign(raw.nodePools.h100, { capacityType: "capacity-block" })),
            [
                'nodePools.h100.capacityReservationId: is required with capacityType "capacity-block": the id (cr-…) of the Capacity Block to launch into',
                'nodePools.h100.availabilityZone: is required with capacityType "capacity-block": the zone of the Capacity Block, e.g. us-east-2a (aws ec2 describe-capacity-reservations)',
            ],
        );
        assert.deepStrictEqual(
            problemsOf((raw) =>
                Object.assign(raw.nodePools["a100-mig"], {
                    capacityType: "capacity-block",
                    capacityReservationId: "cr-0123456789abcdef0",
                    minSize: 1,
                    availabilityZone: "eu-west-1a",
                }),
            ),
            [
                // p4de.24xlarge is not among EC2's Capacity Block types (EC2 user guide, "Capacity Blocks for ML").
                'nodePools.a100-mig.capacityType: "capacity-block" is not sold for p4de.24xlarge; Capacity Blocks in the catalog: p4d.24xlarge, p5.48xlarge',
                "nodePools.a100-mig.minSize: is 1; a Capacity Block pool starts at 0 nodes: nodes asked for before the block starts fail to launch",
                'nodePools.a100-mig.availabilityZone: is "eu-west-1a", not a zone of region us-east-1 (e.g. us-east-1a)',
            ],
        );
        assert.deepStrictEqual(
            problemsOf((raw) =>
                Object.assign(raw.nodePools.h100, {
                    capacityType: "capacity-block",
                    capacityReservationId: "cr-0123456789abcdef0",
                    availabilityZone: "us-east-1b",
                }),
            ),
            [],
        );
        assert.deepStrictEqual(
            problemsOf((raw) => (raw.nodePools.h100.availabilityZone = "us-east-1b")),
            [
                'nodePools.h100.availabilityZone: is only for capacityType "capacity-block"; other pools use every zone: remove it',
            ],
        );
    });
});
