/**
 * Address ranges in the stack config, against what AWS and EKS accept: the VPC's range, and the
 * CIDRs allowed to reach the cluster's public API endpoint.
 */
import {
    ANYWHERE,
    Ipv4Block,
    NON_PUBLIC_RANGES,
    RFC1918_RANGES,
    VPC_AVOIDED_RANGES,
    VPC_REFUSED_RANGES,
    addressesCovered,
    enclosingRange,
    overlappingRange,
    parseIpv4Cidr,
} from "@gpu-platform/catalog/ipv4";
import type { SettingProblem } from "../components/shared/problems";

/**
 * EKS takes at most 40 public access CIDRs per cluster, a quota AWS does not raise ("Public
 * endpoint access CIDR ranges per cluster", L-93A74D60; AWS General Reference, Amazon EKS
 * endpoints and quotas).
 */
export const EKS_MAX_PUBLIC_ACCESS_CIDRS = 40;

/**
 * Past this many addresses an allow-list is the internet in disguise (0.0.0.0/1 with
 * 128.0.0.0/1): no office, VPN or CI egress range is larger than a /8.
 */
export const MAX_ADDRESSES_WITHOUT_OPT_IN = 2 ** 24;

export interface NetworkAddressSettings {
    readonly cidr?: string;
    readonly allowNonPrivateCidr?: boolean;
}

/**
 * The VPC range: never one AWS refuses or warns against, and outside RFC 1918 only with
 * `network.allowNonPrivateCidr: true` (a range of public addresses the organisation owns, or the
 * shared 100.64.0.0/10, is a deliberate choice).
 */
export function vpcCidrProblems(network: NetworkAddressSettings): SettingProblem[] {
    const block = network.cidr === undefined ? undefined : parseIpv4Cidr(network.cidr);
    if (!block) return []; // unset, or reported as malformed by the schema
    const refused = overlappingRange(block, VPC_REFUSED_RANGES);
    if (refused) {
        return [
            {
                key: "network.cidr",
                message: `${block.text} overlaps ${refused.cidr}, ${refused.name}, which no VPC can use; choose a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16`,
            },
        ];
    }
    const avoided = overlappingRange(block, VPC_AVOIDED_RANGES);
    if (avoided) {
        return [
            {
                key: "network.cidr",
                message: `${block.text} overlaps ${avoided.cidr}, ${avoided.name}; AWS asks not to use it for a VPC: choose another private range`,
            },
        ];
    }
    if (!enclosingRange(block, RFC1918_RANGES) && network.allowNonPrivateCidr !== true) {
        return [
            {
                key: "network.cidr",
                message:
                    `${block.text} is outside the private ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16); use one of them, ` +
                    "or set network.allowNonPrivateCidr: true if the VPC is meant to use these addresses",
            },
        ];
    }
    return [];
}

export interface PublicAccessSettings {
    readonly environment?: "dev" | "prod";
    readonly endpointAccess: "public-and-private" | "private";
    readonly publicAccessCidrs?: readonly string[];
    readonly allowPublicApiFromAnywhere?: boolean;
}

/**
 * The public API endpoint's allowed CIDRs as EKS judges them (no private or reserved addresses,
 * at most 40, no duplicates), and the platform's own rule: opening the API to the internet
 * (0.0.0.0/0, or ranges that together cover more than a /8) needs
 * `cluster.allowPublicApiFromAnywhere: true`, and never in prod.
 */
export function publicAccessProblems(settings: PublicAccessSettings): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key, message });
    if (settings.allowPublicApiFromAnywhere === true && settings.environment === "prod") {
        add("cluster.allowPublicApiFromAnywhere", "must not be set in prod: the prod API endpoint is private");
    }
    // CIDRs given with a private endpoint are reported by endpointAccessProblems.
    if (settings.endpointAccess === "private") return problems;
    const cidrs = settings.publicAccessCidrs ?? [];
    if (cidrs.length > EKS_MAX_PUBLIC_ACCESS_CIDRS) {
        add(
            "cluster.publicAccessCidrs",
            `has ${cidrs.length} CIDRs; EKS allows at most ${EKS_MAX_PUBLIC_ACCESS_CIDRS} per cluster (a quota AWS does not raise): merge ranges`,
        );
    }
    const seen = new Map<string, number>();
    const blocks: Ipv4Block[] = [];
    cidrs.forEach((cidr, i) => {
        const block = parseIpv4Cidr(cidr);
        if (!block) return; // reported as malformed by the schema
        const first = seen.get(cidr);
        if (first !== undefined) {
            add(
                `cluster.publicAccessCidrs[${i}]`,
                `duplicates cluster.publicAccessCidrs[${first}] ${cidr}; list each range once`,
            );
            return;
        }
        seen.set(cidr, i);
        blocks.push(block);
        if (cidr === ANYWHERE) return;
        const reserved = overlappingRange(block, NON_PUBLIC_RANGES);
        if (reserved) {
            add(
                `cluster.publicAccessCidrs[${i}]`,
                `${cidr} includes ${reserved.cidr}, ${reserved.name}; EKS refuses public access CIDRs with private or reserved addresses, ` +
                    "and traffic from them never reaches a public endpoint: list public egress ranges (the VPC reaches the API through the private endpoint)",
            );
        }
    });

    const covered = addressesCovered(blocks);
    const openToInternet = covered > MAX_ADDRESSES_WITHOUT_OPT_IN;
    if (openToInternet && settings.allowPublicApiFromAnywhere !== true) {
        const what = seen.has(ANYWHERE)
            ? `opens the API endpoint to ${ANYWHERE}`
            : `opens the API endpoint to ${covered.toLocaleString("en-US")} addresses, more than a /8`;
        add(
            "cluster.publicAccessCidrs",
            `${what}: anyone on the internet can reach it; list your office, VPN or CI egress ranges, ` +
                "or set cluster.allowPublicApiFromAnywhere: true to accept that (dev only)",
        );
    }
    return problems;
}
