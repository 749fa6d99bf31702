/**
 * Tags as the AWS provider merges them into a resource's `tagsAll`: the provider's
 * `defaultTags.tags` first, the resource's own `tags` over them, so a resource's own value wins
 * (an empty one included). The policy pack and the offline plan both count tags this way.
 */
import { parseJsonOr } from "./json";

/** The `tags` of a provider's `defaultTags` input, given as an object or as the JSON text the engine records. */
export function defaultTagsOf(providerDefaultTags: unknown): Record<string, unknown> {
    const parsed =
        typeof providerDefaultTags === "string" ? parseJsonOr(providerDefaultTags, undefined) : providerDefaultTags;
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

/**
 * The budget tags: spend is grouped by team, cost center, environment and budget, so every
 * taggable resource carries all four with valid values. One rule, read by the stack config
 * (before anything is created) and by the pack's budget-tags policy (on what was planned).
 */
export const BUDGET_TAG_KEYS = ["team", "cost-center", "environment", "budget"] as const;

/** A team name is a DNS label, as team names in the stack config are. */
export const TEAM_PATTERN = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

/** Tag key → regular expression its value must match. */
export const BUDGET_TAG_VALUE_PATTERNS: Readonly<Record<string, string>> = {
    team: TEAM_PATTERN,
    "cost-center": "^[A-Za-z0-9][A-Za-z0-9-]{1,31}$",
    budget: "^[a-z0-9][a-z0-9-]{1,62}$",
};

/** Values the environment tag may take. */
export const BUDGET_ENVIRONMENTS: readonly string[] = ["dev", "prod"];

export interface BudgetTagSettings {
    readonly requiredTags: readonly string[];
    readonly tagValuePatterns: Readonly<Record<string, string>>;
    readonly allowedEnvironments: readonly string[];
}

/** What is wrong with one budget tag: missing, or a value the rule refuses (`problem` says why, after "tag <key> "). */
export interface BudgetTagProblem {
    readonly key: string;
    readonly missing: boolean;
    readonly problem: string;
}

/**
 * The budget tags `tags` lacks or carries with a refused value. `isUnknown` marks values not
 * known yet (a preview's computed outputs); they are not judged.
 */
export function budgetTagProblems(
    tags: Readonly<Record<string, unknown>>,
    settings: BudgetTagSettings,
    isUnknown: (value: unknown) => boolean = () => false,
): BudgetTagProblem[] {
    const { requiredTags, tagValuePatterns, allowedEnvironments } = settings;
    return requiredTags.flatMap((key): BudgetTagProblem[] => {
        if (!Object.hasOwn(tags, key)) return [{ key, missing: true, problem: "is missing" }];
        const value = tags[key];
        if (isUnknown(value)) return [];
        const refused = (problem: string) => [{ key, missing: false, problem }];
        if (typeof value !== "string") return refused(`is ${JSON.stringify(value)}, not a string`);
        if (value === "") return refused("is empty");
        if (key === "environment" && !allowedEnvironments.includes(value))
            return refused(`is "${value}"; this stack allows ${allowedEnvironments.join(" or ")}`);
        const pattern = Object.hasOwn(tagValuePatterns, key) ? tagValuePatterns[key] : undefined;
        return pattern && !new RegExp(pattern).test(value)
            ? refused(`is "${value}", which does not match ${pattern}`)
            : [];
    });
}

/**
 * AWS's own limits on user tags (AWS General Reference, "Tagging your AWS resources": tag naming
 * limits and requirements, read 2026-11-23): at most 50 per resource, keys of 1 to 128 and values
 * of up to 256 Unicode characters, made of letters, digits, spaces and `_ . : / = + - @`, and no
 * `aws:` prefix in any case on keys or values, which AWS reserves for its own tags.
 */
export const AWS_TAG_LIMITS = {
    tagsPerResource: 50,
    keyLength: 128,
    valueLength: 256,
    reservedPrefix: "aws:",
} as const;

const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Why AWS would refuse a tag key, or undefined. */
export function awsTagKeyProblem(key: string): string | undefined {
    const length = [...key].length;
    if (length === 0) return "is empty; AWS tag keys have 1 to 128 characters";
    if (length > AWS_TAG_LIMITS.keyLength)
        return `has ${length} characters; AWS allows at most ${AWS_TAG_LIMITS.keyLength} in a tag key`;
    if (!TAG_CHARACTERS.test(key))
        return "has characters AWS refuses in a tag key; use letters, digits, spaces and _ . : / = + - @";
    if (key.toLowerCase().startsWith(AWS_TAG_LIMITS.reservedPrefix))
        return 'starts with "aws:", which AWS reserves for its own tags; choose another key';
    return undefined;
}

/** Why AWS would refuse a tag value, or undefined. */
export function awsTagValueProblem(value: string): string | undefined {
    const length = [...value].length;
    if (length > AWS_TAG_LIMITS.valueLength)
        return `has ${length} characters; AWS allows at most ${AWS_TAG_LIMITS.valueLength} in a tag value`;
    if (!TAG_CHARACTERS.test(value))
        return "has characters AWS refuses in a tag value; use letters, digits, spaces and _ . : / = + - @";
    if (value.toLowerCase().startsWith(AWS_TAG_LIMITS.reservedPrefix))
        return 'starts with "aws:", which AWS reserves for its own tags';
    return undefined;
}
