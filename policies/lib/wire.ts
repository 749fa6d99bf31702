/**
 * Property values as the Pulumi SDK puts them on the wire: JSON-like values in which an object
 * carrying the signature key marks a secret, a resource reference, an asset or an output value,
 * and a sentinel string marks a value not known until the update.
 * Source: @pulumi/pulumi runtime/rpc.ts (the signature constants), read at 3.248.0.
 *
 * The policy runner unwraps secrets before a policy sees a value (as @pulumi/policy's own
 * deserializer does); the offline plan shows them as "[secret]".
 */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
export const OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
export const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
export const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** What the plan prints in place of a secret, as `pulumi preview` does. */
export const SECRET_MASK = "[secret]";
/** What the plan prints in place of a value known only at update time. */
export const UNKNOWN_MASK = "[unknown]";

export interface WireSecret {
    readonly [SIG_KEY]: typeof SECRET_SIG;
    readonly value: unknown;
}

export function isWireSecret(value: unknown): value is WireSecret {
    return isPlainObject(value) && value[SIG_KEY] === SECRET_SIG;
}

export function wireSecret(value: unknown): WireSecret {
    return { [SIG_KEY]: SECRET_SIG, value };
}

/** The value with every secret wrapper removed: what a policy sees. */
export function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (!isPlainObject(value)) return value;
    if (isWireSecret(value)) return unwrapSecrets(value.value);
    return mapValues(value, unwrapSecrets);
}

/** The value with every secret shown as "[secret]" and every unknown as "[unknown]": what a reader sees. */
export function maskSecrets(value: unknown): unknown {
    if (value === UNKNOWN_VALUE) return UNKNOWN_MASK;
    if (Array.isArray(value)) return value.map(maskSecrets);
    if (!isPlainObject(value)) return value;
    if (isWireSecret(value)) return SECRET_MASK;
    return mapValues(value, maskSecrets);
}

/** True when the value holds a secret anywhere inside it. */
export function containsSecret(value: unknown): boolean {
    if (Array.isArray(value)) return value.some(containsSecret);
    if (!isPlainObject(value)) return false;
    return isWireSecret(value) || Object.values(value).some(containsSecret);
}

function mapValues(value: Record<string, unknown>, fn: (v: unknown) => unknown): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = fn(value[key]);
    return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
