/**
 * IPv4 CIDR blocks as address intervals, and the ranges AWS and EKS treat specially: what a VPC
 * may not use, what never reaches a public endpoint. The stack config checks the VPC range and
 * the API endpoint's allowed CIDRs against them.
 */

/** A CIDR block as the interval of addresses it covers. */
export interface Ipv4Block {
    readonly text: string;
    /** The first address, as an unsigned 32-bit number. */
    readonly first: number;
    /** How many addresses it covers (2^(32 - prefix)). */
    readonly size: number;
    readonly prefix: number;
}

/** `10.0.0.0/16` as a block; undefined unless it is an IPv4 CIDR with no host bits set. */
export function parseIpv4Cidr(text: string): Ipv4Block | undefined {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
    if (!match) return undefined;
    const octets = match.slice(1, 5).map(Number);
    const prefix = Number(match[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    const first = octets.reduce((acc, o) => acc * 256 + o, 0);
    const size = 2 ** (32 - prefix);
    return first % size === 0 ? { text, first, size, prefix } : undefined;
}

/** A special range: its CIDR and what it is for. */
export interface NamedRange {
    readonly cidr: string;
    readonly name: string;
}

/** RFC 1918 private ranges: what AWS recommends for a VPC. */
export const RFC1918_RANGES: readonly NamedRange[] = [
    { cidr: "10.0.0.0/8", name: "private (RFC 1918)" },
    { cidr: "172.16.0.0/12", name: "private (RFC 1918)" },
    { cidr: "192.168.0.0/16", name: "private (RFC 1918)" },
];

/**
 * Ranges no VPC can take: "this network", loopback, link-local (where the instance metadata
 * service and the VPC DNS resolver answer), multicast and the reserved class E block up to the
 * broadcast address. Source: IANA IPv4 Special-Purpose Address Registry (RFC 6890), as AWS
 * applies it to VPC ranges.
 */
export const VPC_REFUSED_RANGES: readonly NamedRange[] = [
    { cidr: "0.0.0.0/8", name: '"this network" (RFC 1122)' },
    { cidr: "127.0.0.0/8", name: "loopback" },
    { cidr: "169.254.0.0/16", name: "link-local (instance metadata, VPC DNS)" },
    { cidr: "224.0.0.0/4", name: "multicast" },
    { cidr: "240.0.0.0/4", name: "reserved (class E, broadcast)" },
];

/**
 * Some AWS services use 172.17.0.0/16 (Docker's default bridge); the VPC user guide asks not to
 * use it for a VPC ("VPC CIDR blocks", docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html).
 */
export const VPC_AVOIDED_RANGES: readonly NamedRange[] = [
    { cidr: "172.17.0.0/16", name: "used by AWS services and Docker's default bridge" },
];

/**
 * Addresses that never reach a public endpoint from the internet: private, shared (carrier-grade
 * NAT), benchmarking and IETF protocol ranges besides those no VPC may take. EKS refuses public
 * access CIDRs that include reserved addresses (EKS user guide, "Cluster API server endpoint").
 * The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are left out: AWS's
 * own examples and this repository's stack files use them as placeholders.
 */
export const NON_PUBLIC_RANGES: readonly NamedRange[] = [
    ...RFC1918_RANGES,
    { cidr: "100.64.0.0/10", name: "shared address space (RFC 6598)" },
    { cidr: "192.0.0.0/24", name: "IETF protocol assignments" },
    { cidr: "198.18.0.0/15", name: "benchmarking (RFC 2544)" },
    ...VPC_REFUSED_RANGES,
];

/** Every address, as EKS's default public access CIDR names it. */
export const ANYWHERE = "0.0.0.0/0";

function blockOf(range: NamedRange): Ipv4Block {
    return parseIpv4Cidr(range.cidr)!;
}

/** The first range the block shares an address with. */
export function overlappingRange(block: Ipv4Block, ranges: readonly NamedRange[]): NamedRange | undefined {
    return ranges.find((range) => {
        const other = blockOf(range);
        return block.first < other.first + other.size && other.first < block.first + block.size;
    });
}

/** The range that holds every address of the block. */
export function enclosingRange(block: Ipv4Block, ranges: readonly NamedRange[]): NamedRange | undefined {
    return ranges.find((range) => {
        const other = blockOf(range);
        return other.first <= block.first && block.first + block.size <= other.first + other.size;
    });
}

/** How many distinct addresses the blocks cover together (overlaps counted once). */
export function addressesCovered(blocks: readonly Ipv4Block[]): number {
    const sorted = [...blocks].sort((a, b) => a.first - b.first);
    let covered = 0;
    let end = 0;
    for (const block of sorted) {
        const blockEnd = block.first + block.size;
        if (blockEnd <= end) continue;
        covered += blockEnd - Math.max(block.first, end);
        end = blockEnd;
    }
    return covered;
}

/** True for an IPv4 CIDR such as 10.0.0.0/16 whose address has no bits set past the prefix. */
export function isIpv4Cidr(value: string): boolean {
    return parseIpv4Cidr(value) !== undefined;
}
