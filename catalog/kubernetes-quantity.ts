/**
 * Kubernetes resource quantities ("8", "16000m", "0.016k", "1e3", "2Ki"), read exactly as the
 * API server reads them: k8s.io/apimachinery pkg/api/resource (quantity.go `ParseQuantity`,
 * suffix.go, and `UnmarshalJSON`, which trims surrounding whitespace first), read 2026-11-23.
 *
 * - `<sign>?<digits>(.<digits>?)?<suffix>`, or `.<digits>`; the suffix is one of
 *   n u m "" k M G T P E (powers of 10), Ki Mi Gi Ti Pi Ei (powers of 2), or e/E and a signed
 *   integer exponent ("1e3"). "1E" is 10^18, "1e" is refused; suffixes are case-sensitive.
 * - The value is exact (no floating point); a non-zero value finer than 10^-9 is rounded up,
 *   away from zero, to the next 10^-9 ("0.9999999999" is 1); binary-suffixed values are capped
 *   at 2^63-1.
 *
 * The API server stores and hands admission policies the quantity's canonical form ("16000m"
 * becomes "16"), which denotes this same value, so a check on the value agrees with one on the
 * stored object.
 */

/** An exact quantity: `unscaled × 10^scale`. */
export interface Quantity {
    readonly unscaled: bigint;
    readonly scale: number;
}

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = {
    n: -9,
    u: -6,
    m: -3,
    "": 0,
    k: 3,
    M: 6,
    G: 9,
    T: 12,
    P: 15,
    E: 18,
};
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const SUFFIX_CHARS = "eEinumkKMGTP";
const NANO = -9;
const MAX_BINARY = 2n ** 63n - 1n;

/**
 * The quantity a resource value denotes, or undefined when the API server would refuse it.
 * Numbers are taken as JSON numbers are (their decimal text).
 */
export function parseQuantity(value: unknown): Quantity | undefined {
    if (typeof value === "number") return Number.isFinite(value) ? parseQuantityText(String(value)) : undefined;
    return typeof value === "string" ? parseQuantityText(value.trim()) : undefined;
}

function parseQuantityText(text: string): Quantity | undefined {
    const parts = scan(text);
    if (!parts) return undefined;
    const { negative, num, denom, suffix } = parts;
    const power = suffixPower(suffix);
    if (!power) return undefined;
    let unscaled = BigInt(num + denom);
    let scale = -denom.length;
    if (power.base === 10) scale += power.exponent;
    else unscaled *= 2n ** BigInt(power.exponent);
    if (scale < NANO && unscaled !== 0n) ({ unscaled, scale } = roundUpToNanos(unscaled, scale));
    if (power.base === 2 && exceeds(unscaled, scale, MAX_BINARY))
        ({ unscaled, scale } = { unscaled: MAX_BINARY, scale: 0 });
    return { unscaled: negative ? -unscaled : unscaled, scale };
}

/** A positive `unscaled × 10^scale` (scale below -9) rounded up, away from zero, to whole nanos, as inf.RoundUp does. */
function roundUpToNanos(unscaled: bigint, scale: number): Quantity {
    const shift = NANO - scale;
    // Below one nano altogether: rounds up to exactly one (no need to build 10^shift).
    if (shift > unscaled.toString().length) return { unscaled: 1n, scale: NANO };
    const divisor = 10n ** BigInt(shift);
    return { unscaled: (unscaled + divisor - 1n) / divisor, scale: NANO };
}

/** True when the non-negative `unscaled × 10^scale` (scale at least -9) is above `max`. */
function exceeds(unscaled: bigint, scale: number, max: bigint): boolean {
    return scale >= 0 ? unscaled * 10n ** BigInt(scale) > max : unscaled > max * 10n ** BigInt(-scale);
}

/** The number, fraction and suffix, as apimachinery's `parseQuantityString` splits them. */
function scan(text: string): { negative: boolean; num: string; denom: string; suffix: string } | undefined {
    if (text === "") return undefined;
    let pos = 0;
    const negative = text[0] === "-";
    if (text[0] === "-" || text[0] === "+") pos++;
    const digitsFrom = (start: number) => {
        let end = start;
        while (end < text.length && text[end] >= "0" && text[end] <= "9") end++;
        return end;
    };
    const numEnd = digitsFrom(pos);
    const num = text.slice(pos, numEnd).replace(/^0+/, "") || "0";
    pos = numEnd;
    let denom = "";
    if (text[pos] === ".") {
        const denomEnd = digitsFrom(pos + 1);
        denom = text.slice(pos + 1, denomEnd);
        pos = denomEnd;
    }
    const suffixStart = pos;
    while (pos < text.length && SUFFIX_CHARS.includes(text[pos])) pos++;
    if (text[pos] === "-" || text[pos] === "+") pos++;
    pos = digitsFrom(pos);
    if (pos !== text.length) return undefined;
    return { negative, num, denom, suffix: text.slice(suffixStart) };
}

function suffixPower(suffix: string): { base: 2 | 10; exponent: number } | undefined {
    if (Object.hasOwn(DECIMAL_SUFFIXES, suffix)) return { base: 10, exponent: DECIMAL_SUFFIXES[suffix] };
    if (Object.hasOwn(BINARY_SUFFIXES, suffix)) return { base: 2, exponent: BINARY_SUFFIXES[suffix] };
    const exponent = /^[eE]([+-]?\d+)$/.exec(suffix)?.[1];
    if (exponent === undefined) return undefined;
    // Go parses the exponent as an int64 and keeps its low 32 bits.
    const parsed = BigInt(exponent);
    if (parsed > 2n ** 63n - 1n || parsed < -(2n ** 63n)) return undefined;
    return { base: 10, exponent: Number(BigInt.asIntN(32, parsed)) };
}

/** True when the quantity has no fractional part. */
export function isWholeQuantity({ unscaled, scale }: Quantity): boolean {
    // After parsing, a negative scale is at least -9, so 10^-scale stays small.
    return scale >= 0 || unscaled % 10n ** BigInt(-scale) === 0n;
}

/**
 * The quantity as a JavaScript number: exact for whole numbers up to 2^53, Infinity (or
 * -Infinity) for values beyond what a number holds, such as "1e400".
 */
export function quantityValue({ unscaled, scale }: Quantity): number {
    if (unscaled === 0n) return 0;
    if (scale < 0) return Number(unscaled) / 10 ** -scale;
    // 10^400 is beyond any finite number; no need to build a larger power.
    if (scale > 400) return unscaled > 0n ? Infinity : -Infinity;
    return Number(unscaled * 10n ** BigInt(scale));
}
