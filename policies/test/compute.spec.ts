import * as assert from "assert";
import { ec2NoPublicIp, imdsv2Required } from "../compute";
import { AWS_PROVIDER_REF, awsProvider, changed, resource, theViolation, violationsOf } from "./support/check";

/** A node pool's launch template as the platform's NodePool builds it. */
const templateInputs = {
    description: "Nodes of the h100 pool",
    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
};
const template = (inputs: Record<string, unknown> = templateInputs) =>
    resource("aws:ec2/launchTemplate:LaunchTemplate", "h100-launch-template", inputs);

describe("policies: compute", () => {
    describe("imdsv2-required", () => {
        it("passes a launch template that requires IMDSv2, and one with the metadata endpoint off", async () => {
            const off = changed(templateInputs, "metadataOptions", { httpEndpoint: "disabled" });
            assert.deepStrictEqual(await violationsOf(imdsv2Required, [template(), template(off)]), []);
        });

        it("reports httpTokens left optional", async () => {
            const v = await theViolation(imdsv2Required, [
                template(changed(templateInputs, "metadataOptions.httpTokens", "optional")),
            ]);
            assert.strictEqual(
                v.message,
                'launch template "h100-launch-template" sets metadataOptions.httpTokens to "optional", so IMDSv1 answers; set metadataOptions.httpTokens to "required" ' +
                    "(and httpPutResponseHopLimit to 1 to keep pods off the node's role).",
            );
        });

        it("reports a launch template or instance without metadataOptions", async () => {
            const instance = resource("aws:ec2/instance:Instance", "notebook", {
                instanceType: "g5.xlarge",
                ami: "ami-1",
            });
            const messages = (await violationsOf(imdsv2Required, [template({ description: "x" }), instance])).map(
                (v) => v.message,
            );
            assert.deepStrictEqual(
                messages.map((m) => m.split(",")[0]),
                [
                    'launch template "h100-launch-template" does not set metadataOptions.httpTokens',
                    'instance "notebook" does not set metadataOptions.httpTokens',
                ],
            );
        });

        it("checks spot requests and launch configurations, which launch instances too", async () => {
            for (const type of [
                "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
                "aws:ec2/launchConfiguration:LaunchConfiguration",
            ]) {
                const v = await theViolation(imdsv2Required, [
                    resource(type, "spot", { instanceType: "g5.xlarge", metadataOptions: { httpTokens: "optional" } }),
                ]);
                assert.match(
                    v.message,
                    /^(spot instance request|launch configuration) "spot" sets metadataOptions\.httpTokens to "optional"/,
                );
                assert.deepStrictEqual(
                    await violationsOf(imdsv2Required, [
                        resource(type, "spot", { metadataOptions: { httpTokens: "required" } }),
                    ]),
                    [],
                );
            }
        });

        it("judges an instance that sets nothing by its launch template's setting", async () => {
            const fromTemplate = (t: ReturnType<typeof template>) =>
                resource(
                    "aws:ec2/instance:Instance",
                    "box",
                    { launchTemplate: { id: "lt-1" } },
                    { dependencies: [t.urn] },
                );
            assert.deepStrictEqual(await violationsOf(imdsv2Required, [template(), fromTemplate(template())]), []);
            const optional = template(changed(templateInputs, "metadataOptions.httpTokens", "optional"));
            assert.deepStrictEqual(
                (await violationsOf(imdsv2Required, [optional, fromTemplate(optional)])).map(
                    (v) => v.message.split(",")[0],
                ),
                [
                    'launch template "h100-launch-template" sets metadataOptions.httpTokens to "optional"',
                    'instance "box" sets metadataOptions.httpTokens to "optional"',
                ],
            );
        });

        it("passes an instance that sets nothing where the stack requires IMDSv2 for the account, and reports the account default turned to optional", async () => {
            const on = { provider: AWS_PROVIDER_REF };
            const instance = resource("aws:ec2/instance:Instance", "box", { ami: "ami-1" }, on);
            const required = resource(
                "aws:ec2/instanceMetadataDefaults:InstanceMetadataDefaults",
                "imds",
                { httpTokens: "required" },
                on,
            );
            assert.deepStrictEqual(await violationsOf(imdsv2Required, [awsProvider, required, instance]), []);
            const optional = resource(
                "aws:ec2/instanceMetadataDefaults:InstanceMetadataDefaults",
                "imds",
                { httpTokens: "optional" },
                on,
            );
            const violations = await violationsOf(imdsv2Required, [awsProvider, optional, instance]);
            assert.deepStrictEqual(
                violations.map((v) => v.urn),
                [optional.urn, instance.urn],
            );
        });
    });

    describe("ec2-no-public-ip", () => {
        const INSTANCE = "aws:ec2/instance:Instance";
        const subnet = (mapPublicIpOnLaunch: boolean) =>
            resource("aws:ec2/subnet:Subnet", "app-subnet", {
                vpcId: "vpc-1",
                cidrBlock: "10.0.1.0/24",
                mapPublicIpOnLaunch,
            });
        const inSubnet = (s: ReturnType<typeof subnet>, extra: Record<string, unknown> = {}) =>
            resource(INSTANCE, "box", { ami: "ami-1", subnetId: "placeholder", ...extra }, { dependencies: [s.urn] });

        it("passes an instance in a private subnet", async () => {
            assert.deepStrictEqual(await violationsOf(ec2NoPublicIp, [subnet(false), inSubnet(subnet(false))]), []);
        });

        it("reports an instance, spot request or launch configuration that asks for a public IP", async () => {
            for (const type of [
                INSTANCE,
                "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
                "aws:ec2/launchConfiguration:LaunchConfiguration",
            ]) {
                const v = await theViolation(ec2NoPublicIp, [
                    resource(type, "box", { associatePublicIpAddress: true }),
                ]);
                assert.match(v.message, /"box" sets associatePublicIpAddress: true, so it gets a public IPv4 address/);
            }
        });

        it("reports a launch template whose network interface asks for one", async () => {
            const v = await theViolation(ec2NoPublicIp, [
                template({
                    ...templateInputs,
                    networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "true" }],
                }),
            ]);
            assert.match(
                v.message,
                /^launch template "h100-launch-template" sets networkInterfaces\[0\]\.associatePublicIpAddress/,
            );
        });

        it("reports an instance or node group launched into a subnet that maps public IPs, unless the instance refuses one", async () => {
            const v = await theViolation(ec2NoPublicIp, [subnet(true), inSubnet(subnet(true))]);
            assert.match(
                v.message,
                /^instance "box" launches into subnet "app-subnet", which maps public IPs on launch/,
            );
            assert.deepStrictEqual(
                await violationsOf(ec2NoPublicIp, [
                    subnet(true),
                    inSubnet(subnet(true), { associatePublicIpAddress: false }),
                ]),
                [],
            );
            const group = resource(
                "aws:eks/nodeGroup:NodeGroup",
                "cpu",
                { clusterName: "c", subnetIds: ["placeholder"] },
                { dependencies: [subnet(true).urn] },
            );
            assert.match(
                (await theViolation(ec2NoPublicIp, [subnet(true), group])).message,
                /^node group "cpu" launches into subnet "app-subnet".*its nodes get a public IPv4 address/,
            );
        });
    });
});
