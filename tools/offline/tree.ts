/** The component tree of a recorded stack. */
import type { RecordedResource } from "./recorder";

/**
 * The component a urn stands for: the resource itself when it is a component, else the nearest
 * component above it; null at the stack's root.
 */
export function componentOf(urn: string | null, byUrn: ReadonlyMap<string, RecordedResource>): string | null {
    let resource = urn ? byUrn.get(urn) : undefined;
    while (resource && resource.custom) resource = resource.parent ? byUrn.get(resource.parent) : undefined;
    return resource?.urn ?? null;
}
