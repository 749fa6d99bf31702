/**
 * Network baseline: nothing is reachable from the internet except HTTP and HTTPS on load
 * balancers. "The internet" is judged by the addresses a group admits, not by how they are
 * spelled (lib/addresses.ts): 0.0.0.0/0 or ::/0 in any spelling, 0.0.0.0/1 with 128.0.0.0/1,
 * every public /8 in a managed prefix list, or ranges spread over several rules of one group,
 * since AWS admits the union of a group's rules. Checked at the stack level because rules may be
 * separate resources that name their security group, prefix lists hold their entries
 * elsewhere, and whether a group fronts a load balancer is told by the load balancer.
 */
import { StackResource, stackPolicy } from "./lib/define";
import { AddressRange, INTERNET, internetFamilies, parseCidr } from "./lib/addresses";
import { referencedBy, referencedThrough } from "./lib/references";
import { Props, asList, asNumber, asRecord, asString, isUnknown, listing } from "./lib/values";

const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
const DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup";
const SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList";
const PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const LOAD_BALANCERS = [
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:alb/loadBalancer:LoadBalancer",
    "aws:elb/loadBalancer:LoadBalancer",
];
const MAX_PORT = 65535;

/** One source of traffic a rule admits, and the setting that names it. */
interface Source {
    readonly cidr: string;
    readonly range: AddressRange;
    /** `ingress[0].cidrBlocks`, `prefixListId (prefix list "world")` */
    readonly setting: string;
}

/** One ingress permission, wherever it is declared. */
interface Permission {
    /** The resource that declares it (a group, or a rule resource). */
    readonly owner: StackResource;
    /** `ingress[0]` for a group's own rule, "" for a rule resource. */
    readonly at: string;
    /** "tcp", "udp", "icmp", "all", or a protocol number. */
    readonly protocol: string;
    readonly fromPort: number;
    readonly toPort: number;
    readonly sources: readonly Source[];
    /** The security group it opens, when it is in this stack. */
    readonly group?: StackResource;
    /** What identifies that group, so rules on a group made elsewhere are still taken together. */
    readonly groupKey: string;
}

export const noPublicIngress = stackPolicy({
    name: "no-public-ingress",
    description:
        "No security group admits the internet (0.0.0.0/0 or ::/0 in any spelling, ranges that together admit more public addresses than an IPv4 /8 or " +
        "an IPv6 /12, or a managed prefix list holding them), whether in ingress[], aws.ec2.SecurityGroupRule or aws.vpc.SecurityGroupIngressRule, and " +
        "however split across one group's rules, except TCP on allowedPublicPorts (80 and 443) to a group that fronts a load balancer: one an " +
        "aws.lb/alb/elb LoadBalancer of the stack uses, or one tagged with loadBalancerTag=true (for groups the AWS Load Balancer Controller attaches). " +
        "A port range reaching other ports counts as those ports. An EKS node group with remoteAccess and no sourceSecurityGroupIds opens SSH to the internet too.",
    enforcementLevel: "mandatory",
    config: {
        allowedPublicPorts: {
            type: "array",
            items: { type: "integer" },
            description: "TCP ports a load balancer may open to the internet.",
            default: [80, 443],
        },
        loadBalancerTag: {
            type: "string",
            description: 'Tag key (value "true") that marks a security group as a load balancer\'s.',
            default: "gpu-platform/load-balancer",
        },
    },
    validate: (resources, { allowedPublicPorts, loadBalancerTag }, report) => {
        const groups = resources.filter((r) => r.type === SECURITY_GROUP || r.type === DEFAULT_SECURITY_GROUP);
        const fronting = new Set(
            resources
                .filter((r) => LOAD_BALANCERS.includes(r.type))
                .flatMap((lb) => referencedBy(lb, "securityGroups", groups)),
        );
        const frontsLoadBalancer = (group?: StackResource) =>
            group !== undefined && (fronting.has(group) || asRecord(group.props.tags)?.[loadBalancerTag] === "true");
        const webPorts = listing(allowedPublicPorts.map(String));
        const permitted = (p: Permission, from: number, to: number) =>
            isTcp(p.protocol) && allPortsIn(from, to, allowedPublicPorts) && frontsLoadBalancer(p.group);

        const permissions = ingressPermissions(resources, groups);
        // One permission that admits the internet by itself.
        const alone = new Set<Permission>();
        for (const p of permissions) {
            const open = internetSources(p.sources);
            if (open.length === 0) continue;
            alone.add(p);
            if (permitted(p, p.fromPort, p.toPort)) continue;
            const settings = [...new Set(open.map((s) => (p.at ? `${p.at}.${s.setting}` : s.setting)))];
            const what = `${describeOwner(p.owner)} opens ${describePorts(p.protocol, p.fromPort, p.toPort)} to ${describeCidrs(open)} (${settings.join(", ")})`;
            report(
                rejection(
                    what,
                    p,
                    p.fromPort,
                    p.toPort,
                    settings,
                    allowedPublicPorts,
                    webPorts,
                    loadBalancerTag,
                    frontsLoadBalancer,
                ),
                p.owner.urn,
            );
        }
        // Permissions of one group that admit the internet only together.
        for (const [key, members] of groupBy(
            permissions.filter((p) => !alone.has(p)),
            (p) => p.groupKey,
        )) {
            const reported = new Set<string>();
            for (const { protocol, from, to, covering } of segments(members)) {
                const sources = covering.flatMap((p) => p.sources);
                if (covering.length < 2 || internetFamilies(sources.map((s) => s.range)).length === 0) continue;
                if (covering.every((p) => permitted(p, from, to))) continue;
                const id = covering.map((p) => `${p.owner.urn}${p.at}`).join("|");
                if (reported.has(id)) continue;
                reported.add(id);
                const group = covering[0].group;
                const parts = covering.map(
                    (p) => `${p.group === p.owner ? p.at : describeOwner(p.owner)} (${describeCidrs(p.sources)})`,
                );
                const families = internetFamilies(sources.map((s) => s.range)).map(
                    (f) => `more public IPv${f} addresses than an IPv${f} ${INTERNET[f].block}`,
                );
                const what = `${group ? `security group "${group.name}"` : `security group ${key}`} opens ${describePorts(protocol, from, to)} to the internet through ${listing(parts)}, which together admit ${listing(families)}`;
                report(
                    rejection(
                        what,
                        covering[0],
                        from,
                        to,
                        ["those rules"],
                        allowedPublicPorts,
                        webPorts,
                        loadBalancerTag,
                        frontsLoadBalancer,
                    ),
                    (group ?? covering[0].owner).urn,
                );
            }
        }
        for (const nodeGroup of resources.filter((r) => r.type === NODE_GROUP)) {
            const remote = nodeGroup.props.remoteAccess;
            const sourceGroups = asRecord(remote)?.sourceSecurityGroupIds;
            if (!asRecord(remote) || isUnknown(sourceGroups) || asList(sourceGroups).length > 0) continue;
            report(
                `node group "${nodeGroup.name}" sets remoteAccess without sourceSecurityGroupIds, so EKS opens SSH (port 22) on its nodes to 0.0.0.0/0; ` +
                    "set remoteAccess.sourceSecurityGroupIds to the groups that need it, or drop remoteAccess and use SSM Session Manager, which needs no inbound port.",
                nodeGroup.urn,
            );
        }
    },
});

function rejection(
    what: string,
    p: Permission,
    from: number,
    to: number,
    settings: readonly string[],
    allowedPublicPorts: readonly number[],
    webPorts: string,
    loadBalancerTag: string,
    frontsLoadBalancer: (group?: StackResource) => boolean,
): string {
    const narrow = listing([...settings]);
    if (!isTcp(p.protocol) || !allPortsIn(from, to, allowedPublicPorts)) {
        const ssh = isAllTraffic(p.protocol) || (isTcp(p.protocol) && from <= 22 && 22 <= to);
        return (
            `${what}; only TCP ${webPorts} to a load balancer may be open to the internet: narrow ${narrow} to the ranges that need it` +
            `${ssh ? " (for shell access use SSM Session Manager, which needs no inbound port)" : ""}.`
        );
    }
    const group = p.group && !frontsLoadBalancer(p.group) ? `security group "${p.group.name}"` : "its security group";
    return (
        `${what}, but ${group} fronts no load balancer in this stack; ` +
        `attach it to a load balancer's securityGroups, tag it ${loadBalancerTag}=true if the AWS Load Balancer Controller uses it, or narrow ${narrow}.`
    );
}

/** The sources that admit the internet: all of them when only together they do, none when they do not. */
function internetSources(sources: readonly Source[]): Source[] {
    const families = internetFamilies(sources.map((s) => s.range));
    return sources.filter((s) => families.includes(s.range.family));
}

function ingressPermissions(resources: readonly StackResource[], groups: readonly StackResource[]): Permission[] {
    const lists = resources.filter((r) => r.type === PREFIX_LIST);
    const entries = resources.filter((r) => r.type === PREFIX_LIST_ENTRY);
    /** The CIDRs of the prefix lists a rule names, from the list's entries and its entry resources; a list made elsewhere is not seen. */
    const prefixListSources = (owner: StackResource, property: string, ids: unknown[], setting: string): Source[] =>
        ids.flatMap((id) =>
            referencedThrough(owner, property, [id], lists, ["id", "arn", "name"]).flatMap((list) => {
                const own = asList(list.props.entries).map((e) => asRecord(e)?.cidr);
                const separate = entries
                    .filter((e) => referencedBy(e, "prefixListId", [list]).length > 0)
                    .map((e) => e.props.cidr);
                return sourcesOf([...own, ...separate], `${setting} (prefix list "${list.name}")`);
            }),
        );
    const found: Permission[] = [];
    const add = (
        owner: StackResource,
        at: string,
        rule: Props,
        protocolKey: string,
        sources: Source[],
        groupRef: { group?: StackResource; key: string },
    ) => {
        if ([rule[protocolKey], rule.fromPort, rule.toPort].some(isUnknown) || sources.length === 0) return;
        const protocolValue = rule[protocolKey] ?? "tcp";
        const protocol = normalizeProtocol(
            typeof protocolValue === "number" ? String(protocolValue) : (asString(protocolValue) ?? ""),
        );
        const ranged = isTcp(protocol) || protocol === "udp";
        const from = ranged ? (asNumber(rule.fromPort) ?? 0) : 0;
        const to = ranged ? (asNumber(rule.toPort) ?? asNumber(rule.fromPort) ?? MAX_PORT) : MAX_PORT;
        found.push({
            owner,
            at,
            protocol,
            fromPort: Math.max(0, from),
            toPort: Math.min(MAX_PORT, to < from ? from : to),
            sources,
            group: groupRef.group,
            groupKey: groupRef.key,
        });
    };
    const targetOf = (r: StackResource) => {
        const group = referencedBy(r, "securityGroupId", groups)[0];
        return { group, key: group?.urn ?? `"${String(r.props.securityGroupId)}"` };
    };
    for (const r of resources) {
        if (r.type === SECURITY_GROUP || r.type === DEFAULT_SECURITY_GROUP) {
            asList(r.props.ingress).forEach((rule, i) => {
                const props = asRecord(rule) ?? {};
                const sources = [
                    ...sourcesOf(asList(props.cidrBlocks), "cidrBlocks"),
                    ...sourcesOf(asList(props.ipv6CidrBlocks), "ipv6CidrBlocks"),
                    ...prefixListSources(r, "ingress", asList(props.prefixListIds), "prefixListIds"),
                ];
                add(r, `ingress[${i}]`, props, "protocol", sources, { group: r, key: r.urn });
            });
        } else if (r.type === SECURITY_GROUP_RULE && r.props.type === "ingress") {
            const sources = [
                ...sourcesOf(asList(r.props.cidrBlocks), "cidrBlocks"),
                ...sourcesOf(asList(r.props.ipv6CidrBlocks), "ipv6CidrBlocks"),
                ...prefixListSources(r, "prefixListIds", asList(r.props.prefixListIds), "prefixListIds"),
            ];
            add(r, "", r.props, "protocol", sources, targetOf(r));
        } else if (r.type === INGRESS_RULE) {
            const sources = [
                ...sourcesOf([r.props.cidrIpv4], "cidrIpv4"),
                ...sourcesOf([r.props.cidrIpv6], "cidrIpv6"),
                ...prefixListSources(
                    r,
                    "prefixListId",
                    [r.props.prefixListId].filter((id) => id !== undefined),
                    "prefixListId",
                ),
            ];
            add(r, "", r.props, "ipProtocol", sources, targetOf(r));
        }
    }
    return found;
}

function sourcesOf(values: readonly unknown[], setting: string): Source[] {
    return values.flatMap((value) => {
        const cidr = asString(value);
        const range = cidr === undefined ? undefined : parseCidr(cidr);
        return range ? [{ cidr: cidr!.trim(), range, setting }] : [];
    });
}

/** Protocol names and numbers as AWS takes them (`-1` and `all` are every protocol). */
function normalizeProtocol(protocol: string): string {
    const p = protocol.trim().toLowerCase();
    return ({ "-1": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6" } as Record<string, string>)[p] ?? p;
}

const isTcp = (protocol: string) => protocol === "tcp";
const isAllTraffic = (protocol: string) => protocol === "all";

function allPortsIn(from: number, to: number, ports: readonly number[]): boolean {
    if (to - from + 1 > ports.length) return false;
    for (let port = from; port <= to; port++) if (!ports.includes(port)) return false;
    return true;
}

/**
 * The stretches of protocol and ports on which the same permissions apply, each with the
 * permissions covering it: for TCP and UDP, the port ranges cut at every rule's bounds; every
 * other protocol whole. A permission for all traffic covers every stretch.
 */
function segments(
    permissions: readonly Permission[],
): { protocol: string; from: number; to: number; covering: Permission[] }[] {
    const all = permissions.filter((p) => isAllTraffic(p.protocol));
    const result: { protocol: string; from: number; to: number; covering: Permission[] }[] = [];
    const protocols = new Set(permissions.map((p) => p.protocol).filter((p) => !isAllTraffic(p)));
    if (all.length > 0) result.push({ protocol: "all", from: 0, to: MAX_PORT, covering: all });
    for (const protocol of protocols) {
        const own = permissions.filter((p) => p.protocol === protocol);
        if (protocol !== "tcp" && protocol !== "udp") {
            result.push({ protocol, from: 0, to: MAX_PORT, covering: [...own, ...all] });
            continue;
        }
        const cuts = [...new Set(own.flatMap((p) => [p.fromPort, p.toPort + 1]))].sort((a, b) => a - b);
        for (let i = 0; i < cuts.length - 1; i++) {
            const [from, to] = [cuts[i], cuts[i + 1] - 1];
            const covering = own.filter((p) => p.fromPort <= from && to <= p.toPort);
            if (covering.length > 0) result.push({ protocol, from, to, covering: [...covering, ...all] });
        }
    }
    return result;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
    const map = new Map<string, T[]>();
    for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
    return map;
}

function describePorts(protocol: string, from: number, to: number): string {
    if (isAllTraffic(protocol)) return "all traffic";
    if (protocol !== "tcp" && protocol !== "udp") return protocol;
    return from === to ? `${protocol} port ${from}` : `${protocol} ports ${from}-${to}`;
}

/** `0.0.0.0/0`, `0.0.0.0/1 and 128.0.0.0/1`, or the first few of a long list. */
function describeCidrs(sources: readonly Source[]): string {
    const cidrs = [...new Set(sources.map((s) => s.cidr))];
    return cidrs.length <= 4 ? listing(cidrs) : `${cidrs.slice(0, 3).join(", ")} and ${cidrs.length - 3} more`;
}

function describeOwner({ type, name }: StackResource): string {
    return type === SECURITY_GROUP || type === DEFAULT_SECURITY_GROUP
        ? `security group "${name}"`
        : `security group rule "${name}"`;
}

/**
 * Whether `group` admits the internet on TCP `port`, its inline rules and rule resources taken
 * together, as AWS takes the union of a group's rules (for load balancer listeners).
 */
export function admitsInternetOn(resources: readonly StackResource[], group: StackResource, port: number): boolean {
    const groups = resources.filter((r) => r.type === SECURITY_GROUP || r.type === DEFAULT_SECURITY_GROUP);
    const covering = ingressPermissions(resources, groups).filter(
        (p) =>
            p.group === group &&
            (isAllTraffic(p.protocol) || (isTcp(p.protocol) && p.fromPort <= port && port <= p.toPort)),
    );
    return internetFamilies(covering.flatMap((p) => p.sources.map((s) => s.range))).length > 0;
}
