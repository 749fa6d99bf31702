import * as pulumi from "@pulumi/pulumi";
import type { core } from "zod";
import { parseJsonOr } from "../catalog/json";
import type { SettingProblem } from "../components/shared/problems";
import { crossFieldProblems, parseSections, platformConfigSchema } from "./schema";
import { PlatformConfig, applyProfile } from "./profiles";

/** The top-level config keys the program reads, in the project's namespace. */
export const CONFIG_KEYS = Object.keys(platformConfigSchema.shape);

/**
 * Bad stack config: every problem, one line each. A `RunError`, so `pulumi up` prints the
 * lines without a stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly problems: SettingProblem[]) {
        super(
            `Invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/**
 * Validates raw config values (keys without the project prefix) and returns the config with
 * every default applied, or the full list of problems. Pure, so tests call it directly.
 */
export function validatePlatformConfig(
    raw: Record<string, unknown>,
    project: string,
    stack: string,
): { config: PlatformConfig; problems: [] } | { config?: undefined; problems: SettingProblem[] } {
    const parsed = platformConfigSchema.safeParse(raw, { reportInput: true });
    const shapeProblems = parsed.success ? [] : parsed.error.issues.flatMap(describeIssue);
    const sections = parsed.success ? { ...parsed.data, unparsed: { nodePools: [], priorityClasses: [] } } : parseSections(raw);
    const problems = [...shapeProblems, ...crossFieldProblems(sections)];
    if (!parsed.success || problems.length > 0) return { problems };
    return { config: applyProfile(parsed.data, project, stack), problems: [] };
}

/** Reads the stack's config through Pulumi and validates it; throws ConfigError listing every problem. */
export function loadPlatformConfig(config: pulumi.Config = new pulumi.Config()): PlatformConfig {
    const raw: Record<string, unknown> = {};
    for (const key of CONFIG_KEYS) {
        const value = config.get(key);
        // Structured values arrive as JSON text, plain strings as they are.
        if (value !== undefined) raw[key] = parseJsonOr(value, value);
    }
    const result = validatePlatformConfig(raw, pulumi.getProject(), pulumi.getStack());
    if (!result.config) throw new ConfigError(result.problems);
    return result.config;
}

export function configKeyOf(path: readonly PropertyKey[]): string {
    return path.reduce<string>((key, part) => {
        if (typeof part === "number") return `${key}[${part}]`;
        return key ? `${key}.${String(part)}` : String(part);
    }, "");
}

function describeIssue(issue: core.$ZodIssue): SettingProblem[] {
    const key = configKeyOf(issue.path);
    if (issue.code === "unrecognized_keys") {
        return issue.keys.map((k) => ({
            key: key ? `${key}.${k}` : k,
            message: "is not a known key; check its spelling against Pulumi.yaml",
        }));
    }
    if (issue.input === undefined && issue.code === "invalid_value") {
        return [{ key, message: `is required; one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` }];
    }
    if (issue.input === undefined && issue.code === "invalid_type") {
        return [{ key, message: issue.message.startsWith("Invalid input") ? `is required (${issue.expected})` : issue.message }];
    }
    // A union's issue carries the whole object; show the field it was decided on.
    const last = issue.path[issue.path.length - 1];
    const input = isRecord(issue.input) && typeof last === "string" && last in issue.input ? issue.input[last] : issue.input;
    const found = describeFound(input);
    return [{ key: key || "(config)", message: found ? `${issue.message} (found ${found})` : issue.message }];
}

function describeFound(input: unknown): string | undefined {
    if (input === undefined) return undefined;
    if (input === null || ["string", "number", "boolean"].includes(typeof input)) return JSON.stringify(input);
    return Array.isArray(input) ? "a list" : "an object";
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
