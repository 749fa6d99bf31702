/**
 * Host names as DNS and ACM take them: lower-case labels of letters, digits and inner hyphens,
 * 63 characters a label and 253 a name (RFC 1035 section 2.3.4), at least two labels. Read by
 * the stack config, the DNS components and the policy pack alike.
 */
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether `name` is a fully qualified host name (no trailing dot, no wildcard). */
export function isHostName(name: string): boolean {
    if (name.length > 253) return false;
    const labels = name.split(".");
    return labels.length >= 2 && labels.every((label) => LABEL.test(label));
}

/** Whether `name` is `zone` itself or a name under it (`a.example.com` is in `example.com`; `badexample.com` is not). */
export function isInZone(name: string, zone: string): boolean {
    return name === zone || name.endsWith(`.${zone}`);
}
