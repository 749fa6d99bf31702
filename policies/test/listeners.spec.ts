import * as assert from "assert";
import { lbNoPublicPlainHttp } from "../listeners";
import { resource, theViolation, violationsOf } from "./support/check";

const LB = "aws:lb/loadBalancer:LoadBalancer";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const webPorts = (cidr: string) => [
    { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: [cidr] },
    { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [cidr] },
];
const group = (cidr: string) => resource(SG, "web-sg", { vpcId: "vpc-1", ingress: webPorts(cidr) });
const lb = (internal: boolean, g = group("0.0.0.0/0")) =>
    resource(
        LB,
        "web",
        { internal, loadBalancerType: "application", securityGroups: ["placeholder"] },
        { dependencies: [g.urn] },
    );
const listener = (forLb: ReturnType<typeof lb>, defaultActions: unknown[]) =>
    resource(
        "aws:lb/listener:Listener",
        "web-http",
        { loadBalancerArn: "placeholder", port: 80, protocol: "HTTP", defaultActions },
        { dependencies: [forLb.urn] },
    );
const redirect = [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }];
const forward = [{ type: "forward", targetGroupArn: "tg" }];

describe("policies: load balancer listeners", () => {
    describe("lb-no-public-plain-http", () => {
        it("passes an internet-facing ALB whose HTTP listener redirects to HTTPS", async () => {
            const g = group("0.0.0.0/0");
            assert.deepStrictEqual(
                await violationsOf(lbNoPublicPlainHttp, [g, lb(false, g), listener(lb(false, g), redirect)]),
                [],
            );
        });

        it("passes plain HTTP on an internal ALB, and on an internet-facing one whose groups admit only an office", async () => {
            const g = group("0.0.0.0/0");
            assert.deepStrictEqual(
                await violationsOf(lbNoPublicPlainHttp, [g, lb(true, g), listener(lb(true, g), forward)]),
                [],
            );
            const office = group("203.0.113.0/24");
            assert.deepStrictEqual(
                await violationsOf(lbNoPublicPlainHttp, [
                    office,
                    lb(false, office),
                    listener(lb(false, office), forward),
                ]),
                [],
            );
        });

        it("reports plain HTTP forwarded on an internet-facing ALB whose group admits the internet on port 80", async () => {
            const g = group("0.0.0.0/0");
            const v = await theViolation(lbNoPublicPlainHttp, [g, lb(false, g), listener(lb(false, g), forward)]);
            assert.strictEqual(
                v.message,
                'listener "web-http" serves plain HTTP on port 80 of internet-facing load balancer "web" (security group "web-sg" admits the internet on it); ' +
                    'make it a redirect ({ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }) and serve content on an HTTPS listener.',
            );
        });

        it("counts the internet however a group's rules split it (0.0.0.0/1 and 128.0.0.0/1)", async () => {
            const split = resource(SG, "web-sg", {
                ingress: [
                    { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/1"] },
                    { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["128.0.0.0/1"] },
                ],
            });
            const v = await theViolation(lbNoPublicPlainHttp, [
                split,
                lb(false, split),
                listener(lb(false, split), forward),
            ]);
            assert.match(v.message, /security group "web-sg" admits the internet on it/);
        });

        it("reports a listener rule that forwards behind a default redirect", async () => {
            const g = group("0.0.0.0/0");
            const http = listener(lb(false, g), redirect);
            const rule = resource(
                "aws:lb/listenerRule:ListenerRule",
                "api",
                { listenerArn: "placeholder", actions: forward, conditions: [{ pathPattern: { values: ["/api/*"] } }] },
                { dependencies: [http.urn] },
            );
            const v = await theViolation(lbNoPublicPlainHttp, [g, lb(false, g), http, rule]);
            assert.strictEqual(v.urn, rule.urn);
            assert.match(
                v.message,
                /^listener rule "api" serves plain HTTP behind listener "web-http" on port 80 of internet-facing load balancer "web"/,
            );
        });

        it("reports an internet-facing ALB without security groups of the stack, whose sources cannot be seen", async () => {
            const bare = resource(LB, "web", { internal: false });
            const v = await theViolation(lbNoPublicPlainHttp, [bare, listener(bare, forward)]);
            assert.match(v.message, /\(it names no security group\)/);
        });

        it("reports a classic ELB listening in clear where the internet reaches it, and passes its HTTPS listener", async () => {
            const g = group("0.0.0.0/0");
            const elb = resource(
                "aws:elb/loadBalancer:LoadBalancer",
                "classic",
                {
                    securityGroups: ["placeholder"],
                    listeners: [
                        {
                            lbPort: 443,
                            lbProtocol: "https",
                            instancePort: 8080,
                            instanceProtocol: "http",
                            sslCertificateId: "arn:aws:acm:us-east-1:1:certificate/1",
                        },
                        { lbPort: 80, lbProtocol: "http", instancePort: 8080, instanceProtocol: "http" },
                    ],
                },
                { dependencies: [g.urn] },
            );
            const v = await theViolation(lbNoPublicPlainHttp, [g, elb]);
            assert.match(
                v.message,
                /^classic load balancer "classic": listeners\[1\] serves HTTP in clear on port 80 of an internet-facing load balancer/,
            );
        });
    });
});
