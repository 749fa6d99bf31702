/**
 * Load balancer baseline: Application Load Balancers are internal unless the stack allows
 * internet-facing ones, and a listener given a certificate serves TLS with a current policy,
 * its load balancer answering plain HTTP only with a redirect to HTTPS.
 */
import { StackResource, resourcePolicy, stackPolicy } from "./lib/define";
import { referencedBy } from "./lib/references";
import { asList, asNumber, asRecord, asString, isSet, isUnknown } from "./lib/values";

const LOAD_BALANCERS = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"];
const CLASSIC_LOAD_BALANCER = "aws:elb/loadBalancer:LoadBalancer";
const LISTENERS = ["aws:lb/listener:Listener", "aws:alb/listener:Listener"];
const LISTENER_RULES = ["aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule"];
const KIND: Record<string, string> = {
    application: "Application Load Balancer",
    network: "Network Load Balancer",
};

/** TLS 1.3 (and 1.2 with forward secrecy) policies of Elastic Load Balancing. */
const TLS13_POLICIES = [
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
];

/** Ingresses the AWS Load Balancer Controller turns into ALBs at run time; their scheme is an annotation. */
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";

export const albInternal = resourcePolicy({
    name: "alb-internal",
    description:
        "Load balancers are internal unless allowInternetFacing: Application and Network Load Balancers (internal: true; unset is internet-facing), " +
        "classic ELBs (aws.elb.LoadBalancer, internal: true), and the ALBs the AWS Load Balancer Controller makes from Ingresses of class alb " +
        "(annotation alb.ingress.kubernetes.io/scheme). An internet-facing one is a public entry point to review on its own. Gateway Load Balancers have no scheme.",
    enforcementLevel: "mandatory",
    config: {
        allowInternetFacing: {
            type: "boolean",
            description: "Allow internet-facing load balancers.",
            default: false,
        },
    },
    resourceTypes: [...LOAD_BALANCERS, CLASSIC_LOAD_BALANCER, INGRESS],
    validate: ({ type, name, props }, { allowInternetFacing }, report) => {
        if (type === INGRESS) {
            const annotations = asRecord(asRecord(props.metadata)?.annotations) ?? {};
            const alb =
                asString(asRecord(props.spec)?.ingressClassName) === "alb" ||
                annotations["kubernetes.io/ingress.class"] === "alb";
            if (!allowInternetFacing && alb && annotations["alb.ingress.kubernetes.io/scheme"] === "internet-facing") {
                report(
                    `Ingress "${name}" asks for an internet-facing ALB, which this stack does not allow; set alb.ingress.kubernetes.io/scheme to "internal".`,
                );
            }
            return;
        }
        const kind =
            type === CLASSIC_LOAD_BALANCER
                ? "classic load balancer"
                : KIND[asString(props.loadBalancerType) ?? "application"];
        if (allowInternetFacing || kind === undefined) return;
        if (props.internal === true || props.internal === "true" || isUnknown(props.internal)) return;
        report(
            `${kind} "${name}" faces the internet, which this stack does not allow; set internal: true (and reach it from inside the VPC or a VPN).`,
        );
    },
});

export const lbHttpsListeners = stackPolicy({
    name: "lb-https-listeners",
    description:
        "A listener given a certificate (certificateArn) serves HTTPS (TLS on a Network Load Balancer) with one of allowedSslPolicies, and a load balancer " +
        "that has one answers plain HTTP only with a redirect to HTTPS, never by forwarding.",
    enforcementLevel: "mandatory",
    config: {
        allowedSslPolicies: {
            type: "array",
            items: { type: "string" },
            description: "TLS policies an HTTPS or TLS listener may use.",
            default: TLS13_POLICIES,
        },
    },
    validate: (resources, { allowedSslPolicies }, report) => {
        const loadBalancers = resources.filter((r) => LOAD_BALANCERS.includes(r.type));
        const listeners = resources.filter((r) => LISTENERS.includes(r.type));
        const withCertificate = new Set<StackResource>();
        for (const listener of listeners) {
            if (!isSet(listener.props.certificateArn)) continue;
            referencedBy(listener, "loadBalancerArn", loadBalancers).forEach((lb) => withCertificate.add(lb));
            const protocol = asString(listener.props.protocol);
            if (protocol !== undefined && protocol !== "HTTPS" && protocol !== "TLS") {
                report(
                    `listener "${listener.name}" has a certificate but serves ${protocol}; set protocol: "HTTPS" (or "TLS" on a Network Load Balancer).`,
                    listener.urn,
                );
            }
            const policy = listener.props.sslPolicy;
            if (!isUnknown(policy) && !allowedSslPolicies.includes(asString(policy) ?? "")) {
                report(
                    `listener "${listener.name}" uses TLS policy ${JSON.stringify(asString(policy) ?? "ELBSecurityPolicy-2016-08, the default, which allows TLS 1.0")}; ` +
                        `set sslPolicy to one of ${allowedSslPolicies.join(", ")}.`,
                    listener.urn,
                );
            }
        }
        const rules = resources.filter((r) => LISTENER_RULES.includes(r.type));
        for (const listener of listeners) {
            // A listener with a certificate of its own was reported above.
            if (
                listener.props.protocol !== "HTTP" ||
                isSet(listener.props.certificateArn) ||
                !referencedBy(listener, "loadBalancerArn", loadBalancers).some((lb) => withCertificate.has(lb))
            )
                continue;
            if (asList(listener.props.defaultActions).every(redirectsToHttps)) {
                for (const rule of servingRules(listener, rules))
                    report(
                        `listener rule "${rule.name}" serves plain HTTP behind the redirect of listener "${listener.name}" (port ${asNumber(listener.props.port) ?? "?"}) on a load balancer that has a certificate; ` +
                            "make its actions a redirect to HTTPS, or attach it to the HTTPS listener.",
                        rule.urn,
                    );
                continue;
            }
            report(
                `listener "${listener.name}" serves plain HTTP on port ${asNumber(listener.props.port) ?? "?"} of a load balancer that has a certificate; ` +
                    'make its default action a redirect: { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }.',
                listener.urn,
            );
        }
    },
});

/** The listener rules attached to `listener` whose actions serve content instead of redirecting to HTTPS. */
export function servingRules(listener: StackResource, rules: readonly StackResource[]): StackResource[] {
    return rules.filter(
        (rule) =>
            referencedBy(rule, "listenerArn", [listener]).length > 0 &&
            !asList(rule.props.actions).every(redirectsToHttps),
    );
}

export function redirectsToHttps(action: unknown): boolean {
    const a = asRecord(action);
    return a?.type === "redirect" && asRecord(a.redirect)?.protocol === "HTTPS";
}
