import * as assert from "assert";
import { noPublicIngress } from "../network";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const SG = "aws:ec2/securityGroup:SecurityGroup";
const https = { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] };

/** A load balancer's security group: HTTPS from anywhere, used by an ALB of the stack. */
const lbGroupInputs = { vpcId: "vpc-1", description: "public ALB", ingress: [https] };
const lbGroup = (inputs: Record<string, unknown> = lbGroupInputs, name = "alb") =>
    resource(SG, name, inputs, { outputs: { id: `sg-${name}` } });
const alb = (group = lbGroup()) =>
    resource("aws:lb/loadBalancer:LoadBalancer", "alb", {
        loadBalancerType: "application",
        securityGroups: [`sg-${group.name}`],
    });

describe("policies: network", () => {
    describe("no-public-ingress", () => {
        it("passes HTTPS from anywhere to a load balancer's group, and SSH from inside the VPC", async () => {
            const internalSsh = lbGroup(
                {
                    vpcId: "vpc-1",
                    ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.20.0.0/16"] }],
                },
                "bastion",
            );
            assert.deepStrictEqual(await violationsOf(noPublicIngress, [lbGroup(), alb(), internalSsh]), []);
        });

        it("reports SSH open to the world on the group, naming the setting", async () => {
            const ssh = lbGroup(
                changed(lbGroupInputs, "ingress", [
                    { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] },
                ]),
                "notebook",
            );
            const v = await theViolation(noPublicIngress, [ssh]);
            assert.strictEqual(v.urn, ssh.urn);
            assert.strictEqual(
                v.message,
                'security group "notebook" opens tcp port 22 to 0.0.0.0/0 (ingress[0].cidrBlocks); only TCP 80 and 443 to a load balancer may be open to the internet: ' +
                    "narrow ingress[0].cidrBlocks to the ranges that need it (for shell access use SSM Session Manager, which needs no inbound port).",
            );
        });

        it("reports a port range that reaches beyond 80 and 443, even on a load balancer", async () => {
            const wide = lbGroup(
                changed(lbGroupInputs, "ingress.0", {
                    protocol: "tcp",
                    fromPort: 80,
                    toPort: 443,
                    cidrBlocks: ["0.0.0.0/0"],
                }),
            );
            assert.match(
                (await theViolation(noPublicIngress, [wide, alb(wide)])).message,
                /opens tcp ports 80-443 to 0\.0\.0\.0\/0/,
            );
        });

        it("reports all traffic from ::/0", async () => {
            const all = lbGroup(
                changed(lbGroupInputs, "ingress.0", {
                    protocol: "-1",
                    fromPort: 0,
                    toPort: 0,
                    ipv6CidrBlocks: ["::/0"],
                }),
            );
            assert.match(
                (await theViolation(noPublicIngress, [all, alb(all)])).message,
                /opens all traffic to ::\/0 \(ingress\[0\]\.ipv6CidrBlocks\)/,
            );
        });

        it("reports HTTPS from the world to a group that fronts no load balancer, unless it is tagged as one", async () => {
            const v = await theViolation(noPublicIngress, [
                lbGroup(changed(lbGroupInputs, "ingress.0.ipv6CidrBlocks", [])),
            ]);
            assert.match(
                v.message,
                /opens tcp port 443 to 0\.0\.0\.0\/0 \(ingress\[0\]\.cidrBlocks\), but security group "alb" fronts no load balancer in this stack; attach it/,
            );
            const tagged = lbGroup({ ...lbGroupInputs, tags: { "gpu-platform/load-balancer": "true" } });
            assert.deepStrictEqual(await violationsOf(noPublicIngress, [tagged]), []);
        });

        it("reports world ingress declared as separate rule resources, and ignores egress rules", async () => {
            const group = lbGroup({ vpcId: "vpc-1" }, "db");
            const egress = resource("aws:ec2/securityGroupRule:SecurityGroupRule", "out", {
                type: "egress",
                protocol: "-1",
                fromPort: 0,
                toPort: 0,
                cidrBlocks: ["0.0.0.0/0"],
                securityGroupId: "sg-db",
            });
            const postgres = resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "postgres", {
                ipProtocol: "tcp",
                fromPort: 5432,
                toPort: 5432,
                cidrIpv4: "0.0.0.0/0",
                securityGroupId: "sg-db",
            });
            const v = await theViolation(noPublicIngress, [group, egress, postgres]);
            assert.strictEqual(v.urn, postgres.urn);
            assert.match(
                v.message,
                /^security group rule "postgres" opens tcp port 5432 to 0\.0\.0\.0\/0 \(cidrIpv4\); .* narrow cidrIpv4 to the ranges that need it\.$/,
            );
        });

        it("passes an HTTPS rule resource that targets a load balancer's group", async () => {
            const group = lbGroup({ vpcId: "vpc-1" });
            const rule = resource("aws:ec2/securityGroupRule:SecurityGroupRule", "https", {
                type: "ingress",
                ...https,
                securityGroupId: "sg-alb",
            });
            assert.deepStrictEqual(await violationsOf(noPublicIngress, [group, alb(group), rule]), []);
        });
    });

    describe("no-public-ingress: the internet in disguise", () => {
        const ssh = (cidrs: Record<string, unknown>) =>
            lbGroup({ vpcId: "vpc-1", ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, ...cidrs }] }, "bastion");

        it("passes SSH from private ranges and an office's public /24, however many", async () => {
            const ok = ssh({
                cidrBlocks: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "203.0.113.0/24", "198.51.100.7/32"],
                ipv6CidrBlocks: ["2001:db8:1234::/48"],
            });
            assert.deepStrictEqual(await violationsOf(noPublicIngress, [ok]), []);
        });

        it("reports 0.0.0.0/1 with 128.0.0.0/1 in one rule", async () => {
            const v = await theViolation(noPublicIngress, [ssh({ cidrBlocks: ["0.0.0.0/1", "128.0.0.0/1"] })]);
            assert.match(
                v.message,
                /^security group "bastion" opens tcp port 22 to 0\.0\.0\.0\/1 and 128\.0\.0\.0\/1 \(ingress\[0\]\.cidrBlocks\); only TCP 80 and 443/,
            );
        });

        it("reports a public range wider than a /8 on its own", async () => {
            assert.match(
                (await theViolation(noPublicIngress, [ssh({ cidrBlocks: ["64.0.0.0/2"] })])).message,
                /opens tcp port 22 to 64\.0\.0\.0\/2/,
            );
        });

        for (const cidr of ["0::/0", "0:0:0:0:0:0:0:0/0", "::0/00", "2000::/3", "::ffff:0.0.0.0/0", "0000::/0"]) {
            it(`reports ::/0 spelled ${cidr}`, async () => {
                assert.match(
                    (await theViolation(noPublicIngress, [ssh({ ipv6CidrBlocks: [cidr] })])).message,
                    new RegExp(
                        `opens tcp port 22 to ${cidr.replace(/[.*+?^$(){}|[\]\\/]/g, "\\$&")} \\(ingress\\[0\\]\\.ipv6CidrBlocks\\)`,
                    ),
                );
            });
        }

        it("reports each half of the internet, one per rule resource", async () => {
            const group = lbGroup({ vpcId: "vpc-1" }, "db");
            const half = (name: string, cidr: string) =>
                resource("aws:ec2/securityGroupRule:SecurityGroupRule", name, {
                    type: "ingress",
                    protocol: "tcp",
                    fromPort: 5432,
                    toPort: 5432,
                    cidrBlocks: [cidr],
                    securityGroupId: "sg-db",
                });
            const messages = (
                await violationsOf(noPublicIngress, [group, half("low", "0.0.0.0/1"), half("high", "128.0.0.0/1")])
            ).map((v) => v.message.split(" (")[0]);
            assert.deepStrictEqual(messages, [
                'security group rule "low" opens tcp port 5432 to 0.0.0.0/1',
                'security group rule "high" opens tcp port 5432 to 128.0.0.0/1',
            ]);
        });

        it("reports ranges that admit the internet only together, spread over one group's rules, against the group", async () => {
            // 3.0.0.0/8 and 4.0.0.0/8 are public /8s: each alone is at the line, together they are twice over it.
            const group = lbGroup({ vpcId: "vpc-1" }, "db");
            const part = (name: string, cidr: string) =>
                resource("aws:ec2/securityGroupRule:SecurityGroupRule", name, {
                    type: "ingress",
                    protocol: "tcp",
                    fromPort: 5432,
                    toPort: 5432,
                    cidrBlocks: [cidr],
                    securityGroupId: "sg-db",
                });
            assert.deepStrictEqual(await violationsOf(noPublicIngress, [group, part("a", "3.0.0.0/8")]), []);
            const v = await theViolation(noPublicIngress, [group, part("a", "3.0.0.0/8"), part("b", "4.0.0.0/8")]);
            assert.strictEqual(v.urn, group.urn);
            assert.match(
                v.message,
                /^security group "db" opens tcp port 5432 to the internet through security group rule "a" \(3\.0\.0\.0\/8\) and security group rule "b" \(4\.0\.0\.0\/8\), which together admit more public IPv4 addresses than an IPv4 \/8/,
            );
        });

        it("takes a port range and an all-traffic rule together where they overlap", async () => {
            const group = lbGroup(
                {
                    vpcId: "vpc-1",
                    ingress: [
                        { protocol: "tcp", fromPort: 0, toPort: 1024, cidrBlocks: ["3.0.0.0/8"] },
                        { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["4.0.0.0/8"] },
                    ],
                },
                "wide",
            );
            const v = await theViolation(noPublicIngress, [group]);
            assert.match(
                v.message,
                /^security group "wide" opens tcp ports 0-1024 to the internet through ingress\[0\] \(3\.0\.0\.0\/8\) and ingress\[1\] \(4\.0\.0\.0\/8\)/,
            );
        });

        it("reports a rule that admits a managed prefix list holding 0.0.0.0/0, inline or as an entry resource", async () => {
            const list = resource(
                "aws:ec2/managedPrefixList:ManagedPrefixList",
                "everyone",
                { addressFamily: "IPv4", maxEntries: 2, entries: [{ cidr: "0.0.0.0/0" }] },
                { outputs: { id: "pl-everyone" } },
            );
            const rule = resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "ssh", {
                ipProtocol: "tcp",
                fromPort: 22,
                toPort: 22,
                prefixListId: "pl-everyone",
                securityGroupId: "sg-x",
            });
            const v = await theViolation(noPublicIngress, [list, rule]);
            assert.match(
                v.message,
                /^security group rule "ssh" opens tcp port 22 to 0\.0\.0\.0\/0 \(prefixListId \(prefix list "everyone"\)\)/,
            );
            const emptyList = changed(list, "inputs.entries", []);
            const entry = resource("aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry", "anyone", {
                prefixListId: "pl-everyone",
                cidr: "0.0.0.0/0",
            });
            assert.strictEqual((await violationsOf(noPublicIngress, [emptyList, entry, rule])).length, 1);
            const office = changed(list, "inputs.entries", [{ cidr: "203.0.113.0/24" }]);
            assert.deepStrictEqual(await violationsOf(noPublicIngress, [office, rule]), []);
        });

        it("reports a node group with remoteAccess and no source security groups (EKS opens SSH to 0.0.0.0/0)", async () => {
            const nodeGroup = (remoteAccess: object) =>
                resource("aws:eks/nodeGroup:NodeGroup", "cpu", {
                    instanceTypes: ["m7i.xlarge"],
                    scalingConfig: { minSize: 1, maxSize: 2 },
                    remoteAccess,
                });
            assert.deepStrictEqual(
                await violationsOf(noPublicIngress, [
                    nodeGroup({ ec2SshKey: "ops", sourceSecurityGroupIds: ["sg-bastion"] }),
                ]),
                [],
            );
            const v = await theViolation(noPublicIngress, [nodeGroup({ ec2SshKey: "ops" })]);
            assert.match(
                v.message,
                /^node group "cpu" sets remoteAccess without sourceSecurityGroupIds, so EKS opens SSH \(port 22\) on its nodes to 0\.0\.0\.0\/0/,
            );
        });
    });
});
