/**
 * Plain HTTP to the internet: a load balancer that faces the internet serves content over
 * HTTP only as a redirect to HTTPS. Judged on what reaches the listener: the load balancer's
 * scheme (internal or internet-facing) and its security groups' effective sources on the
 * listener's port (policies/network.ts counts them), and on what the listener does: its default
 * actions and every listener rule attached to it, since a rule that forwards wins over a
 * default redirect for the requests it matches. Classic ELBs' HTTP listeners too (FSBP ELB.1,
 * ELB.3; awsguard alb-http-to-https-redirection).
 */
import { StackResource, stackPolicy } from "./lib/define";
import { referencedBy } from "./lib/references";
import { asList, asNumber, asRecord, asString, isTrue, isUnknown } from "./lib/values";
import { redirectsToHttps, servingRules } from "./load-balancers";
import { admitsInternetOn } from "./network";

const LOAD_BALANCERS = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"];
const CLASSIC_LOAD_BALANCER = "aws:elb/loadBalancer:LoadBalancer";
const LISTENERS = ["aws:lb/listener:Listener", "aws:alb/listener:Listener"];
const LISTENER_RULES = ["aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule"];
const SECURITY_GROUPS = ["aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"];

const REDIRECT =
    'make it a redirect ({ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }) and serve content on an HTTPS listener';

/**
 * Why `port` of an internet-facing load balancer is reachable from the internet, or undefined
 * when its scheme or its security groups keep the internet out. Groups the stack does not
 * create (or the VPC's default group, when none is named) cannot be seen and count as open.
 */
function reachableBecause(lb: StackResource, port: number, resources: readonly StackResource[]): string | undefined {
    if (isTrue(lb.props.internal) || isUnknown(lb.props.internal)) return undefined;
    const named = asList(lb.props.securityGroups);
    if (isUnknown(lb.props.securityGroups) || named.some(isUnknown)) return undefined;
    if (named.length === 0) return "it names no security group";
    const groups = referencedBy(
        lb,
        "securityGroups",
        resources.filter((r) => SECURITY_GROUPS.includes(r.type)),
    );
    if (groups.length < named.length)
        return "a security group it uses is not in this stack, so its sources cannot be seen";
    const open = groups.filter((g) => admitsInternetOn(resources, g, port));
    return open.length > 0 ? `security group "${open[0].name}" admits the internet on it` : undefined;
}

export const lbNoPublicPlainHttp = stackPolicy({
    name: "lb-no-public-plain-http",
    description:
        "No load balancer that the internet reaches serves plain HTTP: an HTTP listener (aws.lb/alb.Listener) of an internet-facing load balancer whose " +
        "security groups admit the internet on its port has a default action that redirects to HTTPS and no listener rule that forwards or " +
        "answers instead; a classic ELB's listeners use HTTPS or SSL (lbProtocol) where the internet reaches them.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources, _config, report) => {
        const loadBalancers = resources.filter((r) => LOAD_BALANCERS.includes(r.type));
        const rules = resources.filter((r) => LISTENER_RULES.includes(r.type));
        for (const listener of resources.filter((r) => LISTENERS.includes(r.type))) {
            const protocol = asString(listener.props.protocol);
            const port = asNumber(listener.props.port);
            if (port === undefined || (protocol ?? "HTTP") !== "HTTP") continue;
            for (const lb of referencedBy(listener, "loadBalancerArn", loadBalancers)) {
                if ((asString(lb.props.loadBalancerType) ?? "application") !== "application") continue;
                const why = reachableBecause(lb, port, resources);
                if (!why) continue;
                const where = `port ${port} of internet-facing load balancer "${lb.name}" (${why})`;
                if (!asList(listener.props.defaultActions).every(redirectsToHttps))
                    report(`listener "${listener.name}" serves plain HTTP on ${where}; ${REDIRECT}.`, listener.urn);
                for (const rule of servingRules(listener, rules))
                    report(
                        `listener rule "${rule.name}" serves plain HTTP behind listener "${listener.name}" on ${where}; ${REDIRECT}.`,
                        rule.urn,
                    );
            }
        }
        for (const elb of resources.filter((r) => r.type === CLASSIC_LOAD_BALANCER)) {
            asList(elb.props.listeners).forEach((l, i) => {
                const listener = asRecord(l) ?? {};
                const port = asNumber(listener.lbPort);
                const protocol = asString(listener.lbProtocol)?.toUpperCase();
                if (port === undefined || (protocol !== "HTTP" && protocol !== "TCP")) return;
                const why = reachableBecause(elb, port, resources);
                if (!why) return;
                report(
                    `classic load balancer "${elb.name}": listeners[${i}] serves ${protocol} in clear on port ${port} of an internet-facing load balancer (${why}); ` +
                        'set lbProtocol "HTTPS" (or "SSL") with an sslCertificateId, or make the load balancer internal.',
                    elb.urn,
                );
            });
        }
    },
});
