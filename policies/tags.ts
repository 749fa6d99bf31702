/**
 * Budget tags: spend is grouped by team, cost center, environment and budget, so every AWS
 * resource that can carry tags carries all four with valid values. (Team namespaces name their
 * team too: namespaces.ts.)
 */
import { mergeDefaultTags } from "../catalog/aws-tags";
import { resourcePolicy } from "./lib/define";
import { AWS_TAGGABLE_TYPES } from "./lib/aws-taggable-types";
import { Props, UNKNOWN, Unknown, asRecord, isUnknown, listing } from "./lib/values";

/** A team name is a DNS label, as team names in the stack config are. */
export const TEAM_PATTERN = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

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
            default: ["team", "cost-center", "environment", "budget"],
        },
        tagValuePatterns: {
            type: "object",
            additionalProperties: { type: "string" },
            description: "Tag key → regular expression its value must match.",
            default: { team: TEAM_PATTERN, "cost-center": "^[A-Za-z0-9][A-Za-z0-9-]{1,31}$", budget: "^[a-z0-9][a-z0-9-]{1,62}$" },
        },
        allowedEnvironments: {
            type: "array",
            items: { type: "string" },
            description: "Values the environment tag may take; a stack's config names its own environment only.",
            default: ["dev", "prod"],
        },
    },
    resourceTypes: AWS_TAGGABLE_TYPES,
    validate: ({ type, name, props, providerProps }, { requiredTags, tagValuePatterns, allowedEnvironments }, report) => {
        const tags = effectiveTags(props, providerProps);
        if (isUnknown(tags)) return;
        const missing = requiredTags.filter((key) => !(key in tags));
        const invalid = requiredTags.flatMap((key) => {
            const value = tags[key];
            if (!(key in tags) || isUnknown(value)) return [];
            if (typeof value !== "string") return [`tag ${key} is ${JSON.stringify(value)}, not a string`];
            if (value === "") return [`tag ${key} is empty`];
            if (key === "environment" && !allowedEnvironments.includes(value)) return [`tag environment is "${value}"; this stack allows ${allowedEnvironments.join(" or ")}`];
            const pattern = tagValuePatterns[key];
            return pattern && !new RegExp(pattern).test(value) ? [`tag ${key} is "${value}", which does not match ${pattern}`] : [];
        });
        const problems = [
            ...(missing.length > 0 ? [`lacks the tag${missing.length > 1 ? "s" : ""} ${listing(missing)} (neither in tags nor in its AWS provider's defaultTags)`] : []),
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
