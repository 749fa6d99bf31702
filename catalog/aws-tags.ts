/**
 * Tags as the AWS provider merges them into a resource's `tagsAll`: the provider's
 * `defaultTags.tags` first, the resource's own `tags` over them, so a resource's own value wins
 * (an empty one included). The policy pack and the offline plan both count tags this way.
 */
import { parseJsonOr } from "./json";

/** The `tags` of a provider's `defaultTags` input, given as an object or as the JSON text the engine records. */
export function defaultTagsOf(providerDefaultTags: unknown): Record<string, unknown> {
    const parsed = typeof providerDefaultTags === "string" ? parseJsonOr(providerDefaultTags, undefined) : providerDefaultTags;
    const tags = isRecord(parsed) ? parsed.tags : undefined;
    return isRecord(tags) ? tags : {};
}

/** A resource's tags with its provider's default tags merged under them. */
export function mergeDefaultTags(providerDefaultTags: unknown, tags: unknown): Record<string, unknown> {
    return { ...defaultTagsOf(providerDefaultTags), ...(isRecord(tags) ? tags : {}) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
