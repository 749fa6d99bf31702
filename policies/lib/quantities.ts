/**
 * Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity): CPU in cores
 * ("250m", "1.5", "2"), memory in bytes with binary (Ki, Mi, Gi, Ti) or decimal (k, M, G, T)
 * suffixes, or plain numbers. Undefined for anything else.
 */
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

export function cpuCores(value: unknown): number | undefined {
    if (typeof value === "number") return value;
    const match = typeof value === "string" ? /^(\d+(?:\.\d+)?)(m?)$/.exec(value.trim()) : null;
    if (!match) return undefined;
    return Number(match[1]) / (match[2] ? 1000 : 1);
}

export function memoryGiB(value: unknown): number | undefined {
    if (typeof value === "number") return value / 2 ** 30;
    const match = typeof value === "string" ? /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(value.trim()) : null;
    if (!match) return undefined;
    const unit = match[2] ?? "";
    return (Number(match[1]) * (BINARY[unit] ?? DECIMAL[unit] ?? 1)) / 2 ** 30;
}
