/**
 * IP address ranges, read in any spelling AWS takes ("::/0", "0::0/0", "0:0:0:0:0:0:0:0/0",
 * "::ffff:0.0.0.0/96", "10.0.0.1/8"), and how much of the public internet a set of them admits.
 *
 * A set of sources is "the internet" when together it admits more public addresses than an
 * IPv4 /8 (2^24) or an IPv6 /12 (2^116, a regional registry's block): however it is split
 * ("0.0.0.0/1" with "128.0.0.0/1", every public /8 in a prefix list), it reaches anyone. Public
 * IPv4 excludes the IANA special-purpose blocks (RFC 6890: private, shared, loopback, link-local,
 * documentation, benchmarking, multicast, reserved); public IPv6 is the global unicast 2000::/3.
 */

export interface AddressRange {
    readonly family: 4 | 6;
    readonly start: bigint;
    /** Exclusive. */
    readonly end: bigint;
}

const BITS = { 4: 32, 6: 128 } as const;
const NOT_PUBLIC_V4 = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
];
/** More public addresses than this is the internet. */
export const INTERNET = {
    4: { addresses: 2n ** 24n, block: "/8" },
    6: { addresses: 2n ** 116n, block: "/12" },
} as const;

/** The range a CIDR (or a bare address) covers, or undefined for text that is neither. */
export function parseCidr(text: string): AddressRange | undefined {
    const [address, prefixText, extra] = text.trim().split("/");
    if (extra !== undefined || address === undefined) return undefined;
    const family = address.includes(":") ? 6 : 4;
    const value = family === 4 ? parseIpv4(address) : parseIpv6(address);
    if (value === undefined) return undefined;
    const bits = BITS[family];
    const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= bits)) return undefined;
    const size = 1n << BigInt(bits - prefix);
    const start = (value / size) * size;
    return { family, start, end: start + size };
}

function parseIpv4(text: string): bigint | undefined {
    const parts = text.split(".");
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
    return parts.reduce((value, p) => (value << 8n) + BigInt(Number(p)), 0n);
}

function parseIpv6(text: string): bigint | undefined {
    let groups = text.toLowerCase();
    // An IPv4 tail ("::ffff:1.2.3.4") is two groups.
    const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
    if (v4) {
        const tail = parseIpv4(v4[2]);
        if (tail === undefined) return undefined;
        groups = `${v4[1]}${(tail >> 16n).toString(16)}:${(tail & 0xffffn).toString(16)}`;
    }
    const halves = groups.split("::");
    if (halves.length > 2) return undefined;
    const split = (half: string) => (half === "" ? [] : half.split(":"));
    const head = split(halves[0]);
    const tail = halves.length === 2 ? split(halves[1]) : [];
    const missing = 8 - head.length - tail.length;
    if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return undefined;
    const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
    if (all.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
    return all.reduce((value, g) => (value << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/** The ranges merged into disjoint ones, in order. */
function merge(ranges: readonly AddressRange[]): AddressRange[] {
    const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const merged: AddressRange[] = [];
    for (const r of sorted) {
        const last = merged[merged.length - 1];
        if (last && r.start <= last.end)
            merged[merged.length - 1] = { ...last, end: r.end > last.end ? r.end : last.end };
        else merged.push(r);
    }
    return merged;
}

const NOT_PUBLIC = { 4: merge(NOT_PUBLIC_V4.map((c) => parseCidr(c)!)), 6: [] as AddressRange[] };
const GLOBAL_UNICAST_V6 = parseCidr("2000::/3")!;

/** How many public addresses of `family` the ranges admit together. */
export function publicAddresses(ranges: readonly AddressRange[], family: 4 | 6): bigint {
    let total = 0n;
    for (const r of merge(ranges.filter((x) => x.family === family))) {
        if (family === 6) {
            const start = r.start > GLOBAL_UNICAST_V6.start ? r.start : GLOBAL_UNICAST_V6.start;
            const end = r.end < GLOBAL_UNICAST_V6.end ? r.end : GLOBAL_UNICAST_V6.end;
            if (end > start) total += end - start;
            continue;
        }
        total += r.end - r.start;
        for (const hole of NOT_PUBLIC[family]) {
            const start = r.start > hole.start ? r.start : hole.start;
            const end = r.end < hole.end ? r.end : hole.end;
            if (end > start) total -= end - start;
        }
    }
    return total;
}

/** The families in which the ranges together admit the internet. */
export function internetFamilies(ranges: readonly AddressRange[]): (4 | 6)[] {
    return ([4, 6] as const).filter((family) => publicAddresses(ranges, family) > INTERNET[family].addresses);
}

/** True when CIDRs (text) together admit the internet; text that is no CIDR admits nothing. */
export function admitsTheInternet(cidrs: readonly string[]): boolean {
    return internetFamilies(cidrs.map(parseCidr).filter((r): r is AddressRange => r !== undefined)).length > 0;
}
