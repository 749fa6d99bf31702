/**
 * Kubernetes resource quantities as numbers: CPU in millicores, memory in MiB. Enough of the
 * quantity grammar (k8s.io/apimachinery resource.Quantity) for requests people write: plain and
 * decimal numbers, `m` for CPU, and the decimal (k, M, G, T, P, E) and binary (Ki … Ei) suffixes.
 */

const DECIMAL = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 } as const;
const BINARY = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 } as const;
const QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** A quantity's value in base units (cores, bytes), or undefined when it is not a quantity. */
function baseUnits(quantity: string | number): number | undefined {
    if (typeof quantity === "number") return Number.isFinite(quantity) && quantity >= 0 ? quantity : undefined;
    const match = QUANTITY.exec(quantity.trim());
    if (!match) return undefined;
    const value = Number(match[1]);
    const suffix = match[2];
    if (suffix === undefined) return value;
    if (suffix === "m") return value / 1000;
    return value * ((DECIMAL as Record<string, number>)[suffix] ?? (BINARY as Record<string, number>)[suffix]);
}

/** CPU in millicores: "4" → 4000, "500m" → 500, "2.5" → 2500; undefined when not a quantity. */
export function cpuMillis(quantity: string | number): number | undefined {
    const cores = baseUnits(quantity);
    return cores === undefined ? undefined : Math.round(cores * 1000 * 1000) / 1000;
}

/** Memory in MiB: "16Gi" → 16384, "512Mi" → 512, "1G" → 953.67…; undefined when not a quantity or in millibytes. */
export function memoryMiB(quantity: string | number): number | undefined {
    if (typeof quantity === "string" && quantity.trim().endsWith("m")) return undefined;
    const bytes = baseUnits(quantity);
    return bytes === undefined ? undefined : bytes / BINARY.Mi;
}
