/**
 * Budget tags: spend is grouped by team, cost center, environment and budget, so every AWS
 * resource that can carry tags carries all four with valid values. (Team namespaces name their
 * team too: namespaces.ts.)
 */
import {
    BUDGET_ENVIRONMENTS,
    BUDGET_TAG_KEYS,
    BUDGET_TAG_VALUE_PATTERNS,
    budgetTagProblems,
    mergeDefaultTags,
} from "@gpu-platform/catalog/aws-tags";
import { resourcePolicy } from "./lib/define";
import { AWS_TAGGABLE_TYPES } from "./lib/aws-taggable-types";
import { Props, UNKNOWN, Unknown, asRecord, isUnknown, listing } from "./lib/values";

export const budgetTags = resourcePolicy({
    name: "budget-tags",
    description:
        "Every AWS resource that takes tags carries the budget tags (team, cost-center, environment, budget) with valid values. Tags count as the AWS " +
        "provider merges them: the provider's defaultTags first, the resource's own tags over them (an empty value there overrides a default and is invalid).",
    enforcementLevel: "mandatory",
    config: {
        requiredTags: {
            type: "array",
            items: { type: "string" },
            description: "Tag keys every taggable resource carries.",
            default: [...BUDGET_TAG_KEYS],
        },
        tagValuePatterns: {
            type: "object",
            additionalProperties: { type: "string" },
            description: "Tag key → regular expression its value must match.",
            default: { ...BUDGET_TAG_VALUE_PATTERNS },
        },
        allowedEnvironments: {
            type: "array",
            items: { type: "string" },
            description: "Values the environment tag may take; a stack's config names its own environment only.",
            default: [...BUDGET_ENVIRONMENTS],
        },
    },
    resourceTypes: AWS_TAGGABLE_TYPES,
    validate: (
        { type, name, props, providerProps },
        { requiredTags, tagValuePatterns, allowedEnvironments },
        report,
    ) => {
        const tags = effectiveTags(props, providerProps);
        if (isUnknown(tags)) return;
        const found = budgetTagProblems(tags, { requiredTags, tagValuePatterns, allowedEnvironments }, isUnknown);
        const missing = found.filter((p) => p.missing).map((p) => p.key);
        const invalid = found.filter((p) => !p.missing).map((p) => `tag ${p.key} ${p.problem}`);
        const problems = [
            ...(missing.length > 0
                ? [
                      `lacks the tag${missing.length > 1 ? "s" : ""} ${listing(missing)} (neither in tags nor in its AWS provider's defaultTags)`,
                  ]
                : []),
            ...invalid,
        ];
        if (problems.length === 0) return;
        report(
            `${type.split(":").pop()} "${name}" ${problems.join("; ")}; set ${listing(requiredTags)} once in the AWS provider's defaultTags.tags ` +
                "(the platform sets them from Pulumi.<stack>.yaml tags) or in the resource's tags.",
        );
    },
});

/**
 * The tags the resource will carry, merged as the AWS provider merges them: its provider's
 * defaultTags.tags (a JSON string or an object), then the resource's own tags over them; a
 * `tagsAll` the provider already computed is taken under both.
 */
function effectiveTags(props: Props, providerProps: Props | undefined): Props | Unknown {
    if (isUnknown(props.tags) || isUnknown(providerProps?.defaultTags)) return UNKNOWN;
    return { ...asRecord(props.tagsAll), ...mergeDefaultTags(providerProps?.defaultTags, props.tags) };
}
