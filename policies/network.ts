/**
 * Network baseline: nothing is reachable from the whole internet (0.0.0.0/0 or ::/0) except
 * HTTP and HTTPS on load balancers. Checked at the stack level because rules may be separate
 * resources that name their security group, and whether a group fronts a load balancer is told
 * by the load balancer, not the group.
 */
import { StackResource, stackPolicy } from "./lib/define";
import { referencedBy } from "./lib/references";
import { asList, asNumber, asRecord, asString, isUnknown, listing } from "./lib/values";

const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
const SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const LOAD_BALANCERS = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer", "aws:elb/loadBalancer:LoadBalancer"];
const WORLD = ["0.0.0.0/0", "::/0"];

/** One ingress permission open to the world, wherever it is declared. */
interface PublicIngress {
    /** The resource that declares it (a group, or a rule resource). */
    readonly owner: StackResource;
    /** The settings that declare it, e.g. `ingress[0].cidrBlocks`. */
    readonly setting: string;
    readonly protocol: string;
    readonly fromPort?: number;
    readonly toPort?: number;
    readonly cidr: string;
    /** The security group it opens, when it is in this stack. */
    readonly group?: StackResource;
}

export const noPublicIngress = stackPolicy({
    name: "no-public-ingress",
    description:
        "No security group takes traffic from 0.0.0.0/0 or ::/0 (in ingress[], aws.ec2.SecurityGroupRule or aws.vpc.SecurityGroupIngressRule), " +
        "except TCP on allowedPublicPorts (80 and 443) to a group that fronts a load balancer: one an aws.lb/alb/elb LoadBalancer of the stack uses, " +
        "or one tagged with loadBalancerTag=true (for groups the AWS Load Balancer Controller attaches). A port range reaching other ports counts as those ports.",
    enforcementLevel: "mandatory",
    config: {
        allowedPublicPorts: { type: "array", items: { type: "integer" }, description: "TCP ports a load balancer may open to the internet.", default: [80, 443] },
        loadBalancerTag: { type: "string", description: "Tag key (value \"true\") that marks a security group as a load balancer's.", default: "gpu-platform/load-balancer" },
    },
    validate: (resources, { allowedPublicPorts, loadBalancerTag }, report) => {
        const groups = resources.filter((r) => r.type === SECURITY_GROUP);
        const fronting = new Set(resources.filter((r) => LOAD_BALANCERS.includes(r.type)).flatMap((lb) => referencedBy(lb, "securityGroups", groups)));
        const frontsLoadBalancer = (group?: StackResource) =>
            group !== undefined && (fronting.has(group) || asRecord(group.props.tags)?.[loadBalancerTag] === "true");
        const webPorts = listing(allowedPublicPorts.map(String));

        for (const ingress of publicIngress(resources, groups)) {
            const what = `${describeOwner(ingress.owner)} opens ${describePorts(ingress)} to ${ingress.cidr} (${ingress.setting})`;
            if (!onlyPorts(ingress, allowedPublicPorts)) {
                report(
                    `${what}; only TCP ${webPorts} to a load balancer may be open to the internet: narrow ${ingress.setting} to the ranges that need it` +
                        `${coversPort(ingress, 22) ? " (for shell access use SSM Session Manager, which needs no inbound port)" : ""}.`,
                    ingress.owner.urn,
                );
            } else if (!frontsLoadBalancer(ingress.group)) {
                report(
                    `${what}, but ${ingress.group ? `security group "${ingress.group.name}"` : "its security group"} fronts no load balancer in this stack; ` +
                        `attach it to a load balancer's securityGroups, tag it ${loadBalancerTag}=true if the AWS Load Balancer Controller uses it, or narrow ${ingress.setting}.`,
                    ingress.owner.urn,
                );
            }
        }
    },
});

function publicIngress(resources: readonly StackResource[], groups: readonly StackResource[]): PublicIngress[] {
    const found: PublicIngress[] = [];
    const add = (owner: StackResource, setting: string, rule: Record<string, unknown>, protocolKey: string, cidrs: unknown[], group?: StackResource) => {
        if ([rule[protocolKey], rule.fromPort, rule.toPort].some(isUnknown)) return;
        for (const cidr of cidrs.map(asString).filter((c): c is string => c !== undefined && WORLD.includes(c))) {
            found.push({ owner, setting, protocol: String(rule[protocolKey] ?? "tcp"), fromPort: asNumber(rule.fromPort), toPort: asNumber(rule.toPort), cidr, group });
        }
    };
    for (const r of resources) {
        if (r.type === SECURITY_GROUP) {
            asList(r.props.ingress).forEach((rule, i) => {
                const props = asRecord(rule) ?? {};
                add(r, `ingress[${i}].cidrBlocks`, props, "protocol", asList(props.cidrBlocks), r);
                add(r, `ingress[${i}].ipv6CidrBlocks`, props, "protocol", asList(props.ipv6CidrBlocks), r);
            });
        } else if (r.type === SECURITY_GROUP_RULE && r.props.type === "ingress") {
            const group = referencedBy(r, "securityGroupId", groups)[0];
            add(r, "cidrBlocks", r.props, "protocol", asList(r.props.cidrBlocks), group);
            add(r, "ipv6CidrBlocks", r.props, "protocol", asList(r.props.ipv6CidrBlocks), group);
        } else if (r.type === INGRESS_RULE) {
            const group = referencedBy(r, "securityGroupId", groups)[0];
            add(r, "cidrIpv4", r.props, "ipProtocol", [r.props.cidrIpv4], group);
            add(r, "cidrIpv6", r.props, "ipProtocol", [r.props.cidrIpv6], group);
        }
    }
    return found;
}

const isTcp = (protocol: string) => ["tcp", "6"].includes(protocol.toLowerCase());
const isAllTraffic = (protocol: string) => ["-1", "all"].includes(protocol.toLowerCase());

/** True when every port the permission opens is one of `ports` (TCP only). */
function onlyPorts(ingress: PublicIngress, ports: readonly number[]): boolean {
    const { protocol, fromPort, toPort } = ingress;
    if (!isTcp(protocol) || fromPort === undefined) return false;
    const to = toPort ?? fromPort;
    if (to - fromPort + 1 > ports.length) return false;
    for (let port = fromPort; port <= to; port++) if (!ports.includes(port)) return false;
    return true;
}

function coversPort({ protocol, fromPort, toPort }: PublicIngress, port: number): boolean {
    return isAllTraffic(protocol) || (isTcp(protocol) && fromPort !== undefined && fromPort <= port && port <= (toPort ?? fromPort));
}

function describePorts({ protocol, fromPort, toPort }: PublicIngress): string {
    if (isAllTraffic(protocol)) return "all traffic";
    if (fromPort === undefined) return `${protocol}`;
    return fromPort === (toPort ?? fromPort) ? `${protocol} port ${fromPort}` : `${protocol} ports ${fromPort}-${toPort}`;
}

function describeOwner({ type, name }: StackResource): string {
    return type === SECURITY_GROUP ? `security group "${name}"` : `security group rule "${name}"`;
}
