/**
 * Reading resource properties the same way in a real preview and in the offline plan.
 *
 * In a real preview the engine hands policies an "unknown-checking proxy": reading a value
 * that is not known until the update (an ARN, an id) throws `UnknownValueError`. Policies here
 * first copy the properties they look at into plain data, where such a value becomes
 * `UNKNOWN`. A check then skips what cannot be known instead of crashing or guessing: an
 * unknown key ARN is a key that will exist, not a missing one.
 */
import { UnknownValueError } from "./engine-proxy";
import { parseJsonOr } from "@gpu-platform/catalog/json";

/** A value the engine will only know during the update. */
export const UNKNOWN: unique symbol = Symbol("unknown until the update");
export type Unknown = typeof UNKNOWN;

export type Props = Record<string, unknown>;

/** A plain copy of (possibly proxied) properties, with unknown values as `UNKNOWN`. */
export function plain(value: unknown): unknown {
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return Array.from({ length: value.length }, (_, i) => plain(readKnown(() => value[i])));
    const copy: Props = {};
    for (const key of Object.keys(value)) copy[key] = plain(readKnown(() => (value as Props)[key]));
    return copy;
}

export function plainProps(value: unknown): Props {
    return asRecord(plain(value)) ?? {};
}

function readKnown(read: () => unknown): unknown {
    try {
        return read();
    } catch (err) {
        if (err instanceof UnknownValueError) return UNKNOWN;
        throw err;
    }
}

/**
 * A value that is one of several, each possible (a CloudFormation `Fn::If`, a parameter known
 * only by its allowed values): judged as the worst of them.
 */
export class AnyOf {
    constructor(readonly values: readonly unknown[]) {}
}

export function isUnknown(value: unknown): value is Unknown {
    return value === UNKNOWN;
}

export function asRecord(value: unknown): Props | undefined {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Props) : undefined;
}

/** A list, or [] for anything else (unset, unknown, a scalar). */
export function asList(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

/** A number, or a string holding one (Kubernetes quantities and provider config arrive as strings). */
export function asNumber(value: unknown): number | undefined {
    if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
    if (typeof value === "string" && value.trim() !== "") {
        const n = Number(value);
        return Number.isFinite(n) ? n : undefined;
    }
    return undefined;
}

/** True, or the string "true" (provider inputs arrive as strings). */
export function isTrue(value: unknown): boolean {
    return value === true || value === "true";
}

/** Set to something, or unknown (which will be something). Empty strings count as unset. */
export function isSet(value: unknown): boolean {
    return isUnknown(value) || (value !== undefined && value !== null && value !== "");
}

/** A JSON document given as a string or already as data; undefined when it does not parse or is unknown. */
export function parseJsonish(value: unknown): unknown {
    if (typeof value !== "string") return isUnknown(value) ? undefined : value;
    return parseJsonOr(value, undefined);
}

/** `a`, `a and b`, `a, b and c`. */
export function listing(items: readonly string[]): string {
    return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
