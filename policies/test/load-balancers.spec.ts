import * as assert from "assert";
import { albInternal, lbHttpsListeners } from "../load-balancers";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const LB = "aws:lb/loadBalancer:LoadBalancer";
const LISTENER = "aws:lb/listener:Listener";
const CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f8e5a4b-1c2d-4e3f-9a8b-7c6d5e4f3a2b";

const alb = resource(
    LB,
    "tracker-alb",
    { internal: true, loadBalancerType: "application" },
    { outputs: { arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/tracker-alb/1" } },
);
/** As the offline plan records it: the load balancer is named by a placeholder ARN, and the listener depends on it. */
const listener = (name: string, inputs: Record<string, unknown>) =>
    resource(LISTENER, name, { loadBalancerArn: "placeholder", ...inputs }, { dependencies: [alb.urn] });
const https = listener("https", {
    port: 443,
    protocol: "HTTPS",
    certificateArn: CERTIFICATE,
    sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
    defaultActions: [{ type: "forward", targetGroupArn: "tg" }],
});
const redirect = listener("http", {
    port: 80,
    protocol: "HTTP",
    defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
});

describe("policies: load balancers", () => {
    describe("alb-internal", () => {
        it("passes an internal ALB, an internal NLB and an internal classic ELB", async () => {
            assert.deepStrictEqual(
                await violationsOf(albInternal, [
                    alb,
                    resource(LB, "nlb", { loadBalancerType: "network", internal: true }),
                    resource("aws:elb/loadBalancer:LoadBalancer", "classic", { internal: true, listeners: [] }),
                ]),
                [],
            );
        });

        it("reports an internet-facing NLB and classic ELB (internal unset or false)", async () => {
            const nlb = await theViolation(albInternal, [
                resource(LB, "nlb", { loadBalancerType: "network", internal: false }),
            ]);
            assert.strictEqual(
                nlb.message,
                'Network Load Balancer "nlb" faces the internet, which this stack does not allow; set internal: true (and reach it from inside the VPC or a VPN).',
            );
            const classic = await theViolation(albInternal, [
                resource("aws:elb/loadBalancer:LoadBalancer", "classic", { listeners: [] }),
            ]);
            assert.match(classic.message, /^classic load balancer "classic" faces the internet/);
        });

        it("reports an internet-facing ALB (internal unset means internet-facing)", async () => {
            const v = await theViolation(albInternal, [
                resource(LB, "tracker-alb", changed(alb.inputs, "internal", undefined)),
            ]);
            assert.strictEqual(
                v.message,
                'Application Load Balancer "tracker-alb" faces the internet, which this stack does not allow; set internal: true (and reach it from inside the VPC or a VPN).',
            );
        });

        it("lets a stack that allows it have an internet-facing ALB", async () => {
            assert.deepStrictEqual(
                await violationsOf(albInternal, [resource(LB, "public", { internal: false })], {
                    allowInternetFacing: true,
                }),
                [],
            );
        });

        describe("ALBs the load balancer controller makes from Ingresses", () => {
            const ingress = (scheme: string) =>
                resource("kubernetes:networking.k8s.io/v1:Ingress", "portal-ingress", {
                    metadata: {
                        name: "backstage",
                        annotations: {
                            "alb.ingress.kubernetes.io/scheme": scheme,
                            "alb.ingress.kubernetes.io/group.name": "portal",
                        },
                    },
                    spec: { ingressClassName: "alb" },
                });

            it("passes an internal one", async () => {
                assert.deepStrictEqual(await violationsOf(albInternal, [ingress("internal")]), []);
            });

            it("reports an internet-facing one, unless the stack allows it", async () => {
                const v = await theViolation(albInternal, [ingress("internet-facing")]);
                assert.strictEqual(
                    v.message,
                    'Ingress "portal-ingress" asks for an internet-facing ALB, which this stack does not allow; set alb.ingress.kubernetes.io/scheme to "internal".',
                );
                assert.deepStrictEqual(
                    await violationsOf(albInternal, [ingress("internet-facing")], { allowInternetFacing: true }),
                    [],
                );
            });
        });
    });

    describe("lb-https-listeners", () => {
        it("passes HTTPS with a TLS 1.3 policy and HTTP that redirects, and plain HTTP where no certificate is given", async () => {
            assert.deepStrictEqual(await violationsOf(lbHttpsListeners, [alb, https, redirect]), []);
            assert.deepStrictEqual(
                await violationsOf(lbHttpsListeners, [
                    alb,
                    listener("http", { port: 80, protocol: "HTTP", defaultActions: [{ type: "forward" }] }),
                ]),
                [],
            );
        });

        it("reports a listener with a certificate that serves HTTP", async () => {
            const v = await theViolation(lbHttpsListeners, [
                alb,
                listener("https", { ...https.inputs, protocol: "HTTP" }),
                redirect,
            ]);
            assert.strictEqual(
                v.message,
                'listener "https" has a certificate but serves HTTP; set protocol: "HTTPS" (or "TLS" on a Network Load Balancer).',
            );
        });

        it("reports an HTTPS listener on the default TLS policy, which allows TLS 1.0", async () => {
            const v = await theViolation(lbHttpsListeners, [
                alb,
                listener("https", changed(https.inputs, "sslPolicy", undefined)),
                redirect,
            ]);
            assert.match(
                v.message,
                /^listener "https" uses TLS policy "ELBSecurityPolicy-2016-08, the default, which allows TLS 1\.0"; set sslPolicy to one of ELBSecurityPolicy-TLS13-1-2-2021-06, /,
            );
        });

        it("reports plain HTTP forwarded beside HTTPS on the same load balancer", async () => {
            const forward = listener("http", {
                port: 80,
                protocol: "HTTP",
                defaultActions: [{ type: "forward", targetGroupArn: "tg" }],
            });
            const v = await theViolation(lbHttpsListeners, [alb, https, forward]);
            assert.strictEqual(v.urn, forward.urn);
            assert.match(
                v.message,
                /^listener "http" serves plain HTTP on port 80 of a load balancer that has a certificate; make its default action a redirect/,
            );
        });

        it("reports a listener rule that forwards plain HTTP behind the HTTP listener's redirect", async () => {
            const rule = resource(
                "aws:lb/listenerRule:ListenerRule",
                "api-over-http",
                {
                    listenerArn: "placeholder",
                    actions: [{ type: "forward", targetGroupArn: "tg" }],
                    conditions: [{ pathPattern: { values: ["/api/*"] } }],
                },
                { dependencies: [redirect.urn] },
            );
            const v = await theViolation(lbHttpsListeners, [alb, https, redirect, rule]);
            assert.strictEqual(v.urn, rule.urn);
            assert.match(
                v.message,
                /^listener rule "api-over-http" serves plain HTTP behind the redirect of listener "http" \(port 80\)/,
            );
        });
    });
});
