import type { StackResource } from "./define";
import { asList, asString } from "./values";

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
export function referencedBy(from: StackResource, property: string, candidates: readonly StackResource[]): StackResource[] {
    const byProperty = from.propertyDependencies[property] ?? [];
    if (byProperty.length > 0) return candidates.filter((c) => byProperty.includes(c.urn));

    const values = [from.props[property], ...asList(from.props[property])].map(asString).filter((v): v is string => v !== undefined);
    const byValue = candidates.filter((c) => IDENTIFIERS.some((key) => values.includes(asString(c.props[key]) ?? "\0")));
    if (byValue.length > 0) return byValue;

    const dependedOn = candidates.filter((c) => from.dependencies.includes(c.urn));
    return dependedOn.length === 1 ? dependedOn : [];
}
