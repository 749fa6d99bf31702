/**
 * Budget tags: spend is grouped by team, cost center, environment and budget, so every AWS
 * resource that can carry tags carries all four with valid values, and every team namespace
 * names its team.
 */
import { LABELS } from "../catalog";
import { BUDGET_ENVIRONMENTS, BUDGET_TAG_KEYS, BUDGET_TAG_VALUE_PATTERNS, TEAM_PATTERN, budgetTagProblems, mergeDefaultTags } from "../catalog/aws-tags";
import { resourcePolicy } from "./lib/define";
import { AWS_TAGGABLE_TYPES } from "./lib/aws-taggable-types";
import { Props, UNKNOWN, Unknown, asRecord, asString, isUnknown, listing } from "./lib/values";

const TEAM_LABEL = LABELS.team;

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
    validate: ({ type, name, props, providerProps }, { requiredTags, tagValuePatterns, allowedEnvironments }, report) => {
        const tags = effectiveTags(props, providerProps);
        if (isUnknown(tags)) return;
        const found = budgetTagProblems(tags, { requiredTags, tagValuePatterns, allowedEnvironments }, isUnknown);
        const missing = found.filter((p) => p.missing).map((p) => p.key);
        const invalid = found.filter((p) => !p.missing).map((p) => `tag ${p.key} ${p.problem}`);
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

export const teamNamespaceLabel = resourcePolicy({
    name: "team-namespace-label",
    description: `Every team namespace carries the ${TEAM_LABEL} label naming its team, so quotas, costs and access are attributed. System namespaces are exempt.`,
    enforcementLevel: "mandatory",
    config: {
        systemNamespaces: {
            type: "array",
            items: { type: "string" },
            description: "Namespaces that belong to no team.",
            default: ["default", "kube-system", "kube-public", "kube-node-lease", "keda", "gpu-operator", "cert-manager", "karpenter", "amazon-cloudwatch"],
        },
        teamPattern: { type: "string", description: "Regular expression a team name matches.", default: TEAM_PATTERN },
    },
    resourceTypes: ["kubernetes:core/v1:Namespace"],
    validate: ({ name, props }, { systemNamespaces, teamPattern }, report) => {
        const metadata = asRecord(props.metadata) ?? {};
        const namespace = asString(metadata.name) ?? name;
        const labels = metadata.labels;
        if (systemNamespaces.includes(namespace) || isUnknown(labels)) return;
        const team = asRecord(labels)?.[TEAM_LABEL];
        if (isUnknown(team) || (typeof team === "string" && new RegExp(teamPattern).test(team))) return;
        const found = team === undefined ? `has no ${TEAM_LABEL} label` : `has ${TEAM_LABEL}: "${String(team)}", which does not match ${teamPattern}`;
        report(`namespace "${namespace}" ${found}; set metadata.labels["${TEAM_LABEL}"] to the owning team's name.`);
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
