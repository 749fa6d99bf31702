/**
 * Stack configs for measuring how the offline plan grows with the number of teams: the prod
 * stack (Pulumi.prod.yaml) with its teams repeated up to a count, each with one inference
 * pipeline like prod's own, and everything else as prod has it. Each generated stack is a
 * valid one: its teams keep the budgets and quotas of the prod team they copy, and its policy
 * config is prod's with the stack's own facts written in (as `npm run policy-config` does), so
 * the plan runs it to the end instead of stopping at a config error.
 */
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { validatePlatformConfig, withPolicyFacts } from "../stacks";
import { policyPackSettingsOf } from "../stacks/policy-pack";

const REPO_ROOT = path.resolve(__dirname, "..");

interface TeamEntry {
    name: string;
    costCenter: string;
    iamRoleArn?: string;
    [key: string]: unknown;
}

interface PipelineEntry {
    name: string;
    team: string;
    [key: string]: unknown;
}

/** A generated stack: its name (as long as "prod", so resource names keep their length) and file contents. */
export interface TeamStack {
    readonly stack: string;
    readonly teams: number;
    /** Pulumi.<stack>.yaml */
    readonly stackFile: Record<string, unknown>;
    /** policies/config.<stack>.json */
    readonly policyConfig: Record<string, unknown>;
}

/** "t003", "t030", "t100": four characters, like "prod". */
export function teamStackName(teams: number): string {
    if (!Number.isInteger(teams) || teams < 1 || teams > 999) throw new Error(`teams must be 1 to 999, not ${teams}`);
    return `t${String(teams).padStart(3, "0")}`;
}

/**
 * The prod stack with `teams` teams. Team i copies prod's team i mod 3 (its budget, quota and
 * settings); the first three keep prod's names, later ones add their index. Every team gets
 * one pipeline, a copy of prod's first pipeline; the team prod gave that pipeline keeps it.
 */
export function teamStack(teams: number, repoRoot: string = REPO_ROOT): TeamStack {
    const stack = teamStackName(teams);
    const prod = parse(fs.readFileSync(path.join(repoRoot, "Pulumi.prod.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    const project = (parse(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")) as { name: string }).name;
    const key = (name: string) => `${project}:${name}`;
    const prodTeams = prod.config[key("teams")] as TeamEntry[];
    const [template] = prod.config[key("inferencePipelines")] as PipelineEntry[];
    const generated = Array.from({ length: teams }, (_, i) => copyTeam(prodTeams[i % prodTeams.length], i));
    const pipelines = generated.map((team) =>
        team.name === template.team ? template : { ...template, name: `${team.name}-embeddings`, team: team.name },
    );
    const config = { ...prod.config, [key("teams")]: generated, [key("inferencePipelines")]: pipelines };
    const policyConfig = policyConfigOf(config, project, stack, repoRoot, teams / prodTeams.length);
    return { stack, teams, stackFile: { config }, policyConfig };
}

function copyTeam(team: TeamEntry, index: number): TeamEntry {
    if (index < 3) return team;
    const name = `${team.name}-${index}`;
    return {
        ...team,
        name,
        costCenter: `CC-${2000 + index}`,
        ...(team.iamRoleArn ? { iamRoleArn: team.iamRoleArn.replace(/role\/.*$/, `role/${name}`) } : {}),
    };
}

/**
 * prod's policy config with this stack's facts (teams, environment, class limits); the stack's
 * budget grows with its teams (`budgetScale`, never below prod's), as the teams' own budgets do.
 */
function policyConfigOf(
    config: Record<string, unknown>,
    project: string,
    stack: string,
    repoRoot: string,
    budgetScale: number,
): Record<string, unknown> {
    const prodPolicies = JSON.parse(
        fs.readFileSync(path.join(repoRoot, "policies", "config.prod.json"), "utf8"),
    ) as Record<string, unknown>;
    const prefix = `${project}:`;
    const values = Object.fromEntries(
        Object.entries(config)
            .filter(([k]) => k.startsWith(prefix))
            .map(([k, v]) => [k.slice(prefix.length), v]),
    );
    const pack = { ...policyPackSettingsOf(prodPolicies, "policies/config.prod.json"), classLimits: [] };
    const result = validatePlatformConfig(values, project, stack, pack);
    if (!result.config)
        throw new Error(
            `the generated ${stack} stack is invalid:\n${result.problems.map((p) => `  ${p.key}: ${p.message}`).join("\n")}`,
        );
    // Settings that name prod's resources (an allowlisted project) name this stack's instead.
    const renamed = JSON.parse(
        JSON.stringify(prodPolicies).replaceAll(`"${project}-prod-`, `"${project}-${stack}-`),
    ) as Record<string, unknown>;
    const budget = renamed["stack-monthly-budget"] as { monthlyBudgetUsd: number };
    budget.monthlyBudgetUsd = Math.round(budget.monthlyBudgetUsd * Math.max(1, budgetScale) * 100) / 100;
    return withPolicyFacts(renamed, result.config);
}

/**
 * Writes the stack's two files into the repository, runs `fn`, and removes them again: the
 * plan reads a stack only from `Pulumi.<stack>.yaml` and its policy config only from `policies/`.
 */
export async function withTeamStack<T>(
    stack: TeamStack,
    fn: () => Promise<T> | T,
    repoRoot: string = REPO_ROOT,
): Promise<T> {
    const files = [
        [path.join(repoRoot, `Pulumi.${stack.stack}.yaml`), stringify(stack.stackFile)],
        [path.join(repoRoot, "policies", `config.${stack.stack}.json`), `${JSON.stringify(stack.policyConfig)}\n`],
    ] as const;
    for (const [file] of files)
        if (fs.existsSync(file)) throw new Error(`${file} exists already; the bench will not overwrite it`);
    try {
        for (const [file, text] of files) fs.writeFileSync(file, text);
        return await fn();
    } finally {
        for (const [file] of files) fs.rmSync(file, { force: true });
    }
}
