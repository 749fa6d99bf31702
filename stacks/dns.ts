import { z } from "zod";
import { isHostName, isInZone } from "@gpu-platform/catalog/dns-names";
import type { SettingProblem } from "../components/shared/problems";

/**
 * The `dns` stack-config key: the Route 53 hosted zone the platform's host names go in. With it,
 * the stack writes alias records for the portal's hosts and the cost tracker's host, and (in a
 * public zone) one DNS-validated ACM certificate for every host that has none of its own. Without
 * it, the stack output `hostTargets` says which load balancer each host must point at.
 */

/** Route 53 hosted zone ids: `Z` and up to 31 upper-case letters and digits (the API's HostedZone Id, without `/hostedzone/`). */
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;

export const dnsSchema = z
    .object({
        /** The hosted zone's id, e.g. Z0123456789ABCDEFGHIJ (Route 53 console, or aws route53 list-hosted-zones). */
        zoneId: z.string().regex(HOSTED_ZONE_ID, {
            message: "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (without /hostedzone/)",
        }),
        /** The zone's domain name, e.g. example.com: portal.domain and costTracker.hostName must be in it. */
        zoneName: z.string().refine(isHostName, {
            message: "must be the zone's domain name such as example.com, without a trailing dot",
        }),
        /** A private zone: associated with the stack's VPC so that pods and tasks resolve its names. Default false. */
        private: z.boolean().optional(),
        /**
         * Make one ACM certificate, validated through this zone, for every host without a
         * certificateArn of its own. Default true in a public zone; a private zone cannot
         * validate one (ACM asks public DNS).
         */
        certificate: z.boolean().optional(),
    })
    .strict();

export type DnsKeyConfig = z.output<typeof dnsSchema>;

/** The zone with its defaults: what platform.ts builds from. */
export interface DnsStackConfig {
    readonly zoneId: string;
    readonly zoneName: string;
    readonly private: boolean;
    /** Make a certificate for hosts that have none. */
    readonly certificate: boolean;
}

export function resolveDns(dns: DnsKeyConfig | undefined): DnsStackConfig | undefined {
    if (!dns) return undefined;
    const isPrivate = dns.private ?? false;
    return {
        zoneId: dns.zoneId,
        zoneName: dns.zoneName,
        private: isPrivate,
        certificate: dns.certificate ?? !isPrivate,
    };
}

/** The cost tracker's default host with a zone: beside the portal's hosts, else at the zone's top. */
export const COST_TRACKER_HOST_LABEL = "cost-tracker";

/** The cost tracker's host name: its own setting, or with a zone `cost-tracker.<portal.domain or zone>`; none otherwise. */
export function costTrackerHostName(config: {
    dns?: { zoneName: string };
    portal?: { domain?: string };
    costTracker?: { hostName?: string };
}): string | undefined {
    if (config.costTracker?.hostName) return config.costTracker.hostName;
    if (!config.dns) return undefined;
    return `${COST_TRACKER_HOST_LABEL}.${config.portal?.domain ?? config.dns.zoneName}`;
}

/**
 * Rules across `dns`, `portal` and `costTracker`: hosts inside the zone, certificates a private
 * zone cannot validate, and the tracker's certificate with a host name it can match.
 */
export function dnsProblems(config: {
    dns?: Partial<DnsKeyConfig>;
    portal?: { domain?: string };
    costTracker?: { enabled?: boolean; hostName?: string; certificateArn?: string };
}): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key, message });
    const { dns, portal, costTracker } = config;
    const trackerOn = costTracker?.enabled !== false;
    if (trackerOn && costTracker?.certificateArn && !costTracker.hostName && !dns)
        add(
            "costTracker.hostName",
            "is required with costTracker.certificateArn: a certificate cannot match the load balancer's AWS name; name a host the certificate covers (e.g. cost-tracker.example.com), or set dns to have one made",
        );
    if (!dns?.zoneName) return problems;
    const zone = dns.zoneName;
    if (portal?.domain && !isInZone(portal.domain, zone))
        add(
            "portal.domain",
            `"${portal.domain}" is not in dns.zoneName "${zone}": its records go in that zone; use a domain under it`,
        );
    if (trackerOn && costTracker?.hostName && !isInZone(costTracker.hostName, zone))
        add(
            "costTracker.hostName",
            `"${costTracker.hostName}" is not in dns.zoneName "${zone}": its record goes in that zone; use a name under it`,
        );
    if (dns.private === true && dns.certificate === true)
        add(
            "dns.certificate",
            "cannot be true in a private zone: ACM validates through public DNS; set it to false and name certificates in portal.ingress.certificateArn and costTracker.certificateArn (from AWS Private CA, say)",
        );
    return problems;
}

/** The portal's host names for the parts that are on: `<service>.<portal.domain>`. */
export function portalHostNames(layer: { domain: string; backstage?: unknown; gitops?: unknown; mlflow?: unknown }): {
    backstage?: string;
    argocd?: string;
    mlflow?: string;
} {
    const host = (service: string) => `${service}.${layer.domain}`;
    return {
        backstage: layer.backstage ? host("backstage") : undefined,
        argocd: layer.gitops ? host("argocd") : undefined,
        mlflow: layer.mlflow ? host("mlflow") : undefined,
    };
}

/**
 * The hosts the stack's own certificate covers: with `dns.certificate`, every host served that
 * has no certificateArn of its own (the cost tracker's, the portal's). Empty otherwise.
 */
export function certificateHostNames(config: {
    dns?: DnsStackConfig;
    costTracker?: { hostName?: string; certificateArn?: string };
    portalLayer?: Parameters<typeof portalHostNames>[0] & { ingress: { certificateArn?: unknown } };
}): string[] {
    if (!config.dns?.certificate) return [];
    const hosts: string[] = [];
    const tracker = config.costTracker;
    if (tracker?.hostName && !tracker.certificateArn) hosts.push(tracker.hostName);
    if (config.portalLayer && !config.portalLayer.ingress.certificateArn)
        hosts.push(...Object.values(portalHostNames(config.portalLayer)).filter((h): h is string => h !== undefined));
    return hosts;
}
