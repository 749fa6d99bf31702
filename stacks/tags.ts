/**
 * The `tags` stack-config key against what AWS accepts and what the budget-tags policy will
 * require of every resource, from the same rule the policy applies (catalog/aws-tags.ts).
 */
import {
    AWS_TAG_LIMITS,
    BudgetTagSettings,
    awsTagKeyProblem,
    awsTagValueProblem,
    budgetTagProblems,
} from "@gpu-platform/catalog/aws-tags";
import type { SettingProblem } from "../components/shared/problems";
import { segment } from "./config-keys";

/**
 * Problems with the default tags every AWS resource will carry: keys and values AWS refuses,
 * more tags than a resource may have once the program adds `environment`, and budget tags the
 * policy pack would refuse. `policySource` names the policy config the settings came from.
 */
export function tagProblems(
    tags: Readonly<Record<string, string>>,
    environment: string | undefined,
    settings: BudgetTagSettings,
    policySource: string,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key, message });
    for (const [key, value] of Object.entries(tags)) {
        const keyProblem = awsTagKeyProblem(key);
        if (keyProblem) add(`tags${segment(key)}`, `key ${keyProblem}`);
        const valueProblem = awsTagValueProblem(value);
        if (valueProblem) add(`tags${segment(key)}`, `value ${valueProblem}`);
    }
    const count = Object.keys(tags).length + (Object.hasOwn(tags, "environment") ? 0 : 1);
    if (count > AWS_TAG_LIMITS.tagsPerResource) {
        add(
            "tags",
            `has ${count} tags with the environment tag the program adds; AWS allows at most ${AWS_TAG_LIMITS.tagsPerResource} on a resource: drop ${count - AWS_TAG_LIMITS.tagsPerResource}`,
        );
    }

    const effective: Record<string, unknown> = { ...tags, ...(environment === undefined ? {} : { environment }) };
    for (const problem of budgetTagProblems(effective, settings)) {
        // The environment tag is the environment key's value (reported there if it is bad); the others are set under tags.
        if (problem.key === "environment" && environment === undefined) continue;
        const key = problem.key === "environment" ? "environment" : `tags${segment(problem.key)}`;
        if (problem.missing) add(key, "is required: budget reports group spend by this tag");
        else
            add(
                key,
                `${problem.problem}; the budget-tags policy (${policySource}) would refuse every resource with this tag`,
            );
    }
    return problems;
}
