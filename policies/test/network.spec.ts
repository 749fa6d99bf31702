import * as assert from "assert";
import { noPublicIngress } from "../network";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const SG = "aws:ec2/securityGroup:SecurityGroup";
const https = { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] };

/** A load balancer's security group: HTTPS from anywhere, used by an ALB of the stack. */
const lbGroupInputs = { vpcId: "vpc-1", description: "public ALB", ingress: [https] };
const lbGroup = (inputs: Record<string, unknown> = lbGroupInputs, name = "alb") => resource(SG, name, inputs, { outputs: { id: `sg-${name}` } });
const alb = (group = lbGroup()) => resource("aws:lb/loadBalancer:LoadBalancer", "alb", { loadBalancerType: "application", securityGroups: [`sg-${group.name}`] });

describe("policies: network", () => {
    describe("no-public-ingress", () => {
        it("passes HTTPS from anywhere to a load balancer's group, and SSH from inside the VPC", async () => {
            const internalSsh = lbGroup({ vpcId: "vpc-1", ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.20.0.0/16"] }] }, "bastion");
            assert.deepStrictEqual(await violationsOf(noPublicIngress, [lbGroup(), alb(), internalSsh]), []);
        });

        it("reports SSH open to the world on the group, naming the setting", async () => {
            const ssh = lbGroup(changed(lbGroupInputs, "ingress", [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }]), "notebook");
            const v = await theViolation(noPublicIngress, [ssh]);
            assert.strictEqual(v.urn, ssh.urn);
            assert.strictEqual(
                v.message,
                'security group "notebook" opens tcp port 22 to 0.0.0.0/0 (ingress[0].cidrBlocks); only TCP 80 and 443 to a load balancer may be open to the internet: ' +
                    "narrow ingress[0].cidrBlocks to the ranges that need it (for shell access use SSM Session Manager, which needs no inbound port).",
            );
        });

        it("reports a port range that reaches beyond 80 and 443, even on a load balancer", async () => {
            const wide = lbGroup(changed(lbGroupInputs, "ingress.0", { protocol: "tcp", fromPort: 80, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }));
            assert.match((await theViolation(noPublicIngress, [wide, alb(wide)])).message, /opens tcp ports 80-443 to 0\.0\.0\.0\/0/);
        });

        it("reports all traffic from ::/0", async () => {
            const all = lbGroup(changed(lbGroupInputs, "ingress.0", { protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }));
            assert.match((await theViolation(noPublicIngress, [all, alb(all)])).message, /opens all traffic to ::\/0 \(ingress\[0\]\.ipv6CidrBlocks\)/);
        });

        it("reports HTTPS from the world to a group that fronts no load balancer, unless it is tagged as one", async () => {
            const v = await theViolation(noPublicIngress, [lbGroup(changed(lbGroupInputs, "ingress.0.ipv6CidrBlocks", []))]);
            assert.match(v.message, /opens tcp port 443 to 0\.0\.0\.0\/0 \(ingress\[0\]\.cidrBlocks\), but security group "alb" fronts no load balancer in this stack; attach it/);
            const tagged = lbGroup({ ...lbGroupInputs, tags: { "gpu-platform/load-balancer": "true" } });
            assert.deepStrictEqual(await violationsOf(noPublicIngress, [tagged]), []);
        });

        it("reports world ingress declared as separate rule resources, and ignores egress rules", async () => {
            const group = lbGroup({ vpcId: "vpc-1" }, "db");
            const egress = resource("aws:ec2/securityGroupRule:SecurityGroupRule", "out", { type: "egress", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], securityGroupId: "sg-db" });
            const postgres = resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "postgres", { ipProtocol: "tcp", fromPort: 5432, toPort: 5432, cidrIpv4: "0.0.0.0/0", securityGroupId: "sg-db" });
            const v = await theViolation(noPublicIngress, [group, egress, postgres]);
            assert.strictEqual(v.urn, postgres.urn);
            assert.match(v.message, /^security group rule "postgres" opens tcp port 5432 to 0\.0\.0\.0\/0 \(cidrIpv4\); .* narrow cidrIpv4 to the ranges that need it\.$/);
        });

        it("passes an HTTPS rule resource that targets a load balancer's group", async () => {
            const group = lbGroup({ vpcId: "vpc-1" });
            const rule = resource("aws:ec2/securityGroupRule:SecurityGroupRule", "https", { type: "ingress", ...https, securityGroupId: "sg-alb" });
            assert.deepStrictEqual(await violationsOf(noPublicIngress, [group, alb(group), rule]), []);
        });
    });
});
