import { asList, asString } from "./values";

/** The little of a resource that references between resources need. */
export interface LinkedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly props: Record<string, unknown>;
    /** Urns of the resources it depends on. */
    readonly dependencies?: readonly string[];
    /** Per property, the urns of the resources its value comes from. */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

/** Properties that identify a resource when another one refers to it (an S3 bucket's id is its name). */
const IDENTIFIERS = ["id", "arn", "bucket"] as const;

/**
 * The resources among `candidates` that `from.props[property]` refers to, found the first way
 * that gives an answer:
 * 1. the engine's per-property dependencies (a real preview or update): exact, even while the
 *    referenced id is still unknown;
 * 2. the value equal to a candidate's id, ARN or bucket name: known values, or names set
 *    explicitly;
 * 3. the one candidate among `from`'s dependencies, when exactly one is: the offline plan
 *    records dependencies, but its ids are placeholders that no recorded output carries.
 */
export function referencedBy<R extends LinkedResource>(
    from: LinkedResource,
    property: string,
    candidates: readonly R[],
): R[] {
    return referencedThrough(
        from,
        property,
        [from.props[property], ...asList(from.props[property])],
        candidates,
        IDENTIFIERS,
    );
}

/**
 * As `referencedBy`, for a reference held deeper inside `property` (a launch template's id or
 * name inside `mixedInstancesPolicy`): `values` are what names the target, `identifiers` the
 * target's properties they may equal. When the property depends on several candidates, the
 * values pick among them.
 */
export function referencedThrough<R extends LinkedResource>(
    from: LinkedResource,
    property: string,
    values: readonly unknown[],
    candidates: readonly R[],
    identifiers: readonly string[],
): R[] {
    const named = values.map(asString).filter((v): v is string => v !== undefined && v !== "");
    const byValue = (among: readonly R[]) =>
        among.filter((c) => identifiers.some((key) => named.includes(asString(c.props[key]) ?? "\0")));
    const byProperty = candidates.filter((c) => (from.propertyDependencies?.[property] ?? []).includes(c.urn));
    if (byProperty.length > 0) {
        const narrowed = byProperty.length > 1 ? byValue(byProperty) : [];
        return narrowed.length > 0 ? narrowed : byProperty;
    }
    const matched = byValue(candidates);
    if (matched.length > 0) return matched;
    const dependedOn = candidates.filter((c) => (from.dependencies ?? []).includes(c.urn));
    return dependedOn.length === 1 ? dependedOn : [];
}
