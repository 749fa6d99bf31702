import * as pulumi from "@pulumi/pulumi";
import type { core, z } from "zod";
import { parseJsonOr } from "@gpu-platform/catalog/json";
import type { SettingProblem } from "../components/shared/problems";
import { MAX_SUGGESTIONS, asOneLine, closest, projectConfigOf, segment } from "./config-keys";
import { arnPartitionProblems } from "./partitions";
import { PolicyPackSettings, policyPackSettings } from "./policy-pack";
import { stalePolicyFactProblems } from "./policy-facts";
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
 * Validates raw config values and returns the config with every default applied, or the full
 * list of problems, one line each. Keys are the project's without its namespace, or the whole
 * config as Pulumi hands it over (`<project>:<key>`, and other namespaces, whose keys are only
 * checked for a misspelt project namespace). `pack` is what the policy pack expects of this
 * stack, by default read from policies/config.<stack>.json. Pure apart from that file, so tests
 * call it directly.
 */
export function validatePlatformConfig(
    raw: Record<string, unknown>,
    project: string,
    stack: string,
    pack: PolicyPackSettings = policyPackSettings(stack),
): { config: PlatformConfig; problems: [] } | { config?: undefined; problems: SettingProblem[] } {
    const { values, problems: keyProblems } = projectConfigOf(raw, project, CONFIG_KEYS);
    const parsed = platformConfigSchema.safeParse(values, { reportInput: true });
    const shapeProblems = parsed.success ? [] : parsed.error.issues.flatMap(describeIssue);
    const sections = parsed.success
        ? { ...parsed.data, unparsed: { nodePools: [], priorityClasses: [] } }
        : parseSections(values);
    const problems = [
        ...keyProblems,
        ...shapeProblems,
        ...crossFieldProblems(sections, pack),
        ...arnPartitionProblems(values, sections.region),
    ].map(asOneLine);
    if (!parsed.success || problems.length > 0) return { problems };
    return { config: applyProfile(parsed.data, project, stack), problems: [] };
}

/**
 * Reads the stack's whole config through Pulumi, every namespace, and validates it; throws
 * ConfigError listing every problem. `config` names the project's namespace.
 */
export function loadPlatformConfig(config: pulumi.Config = new pulumi.Config()): PlatformConfig {
    const raw: Record<string, unknown> = {};
    const prefix = `${config.name}:`;
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        // Structured values arrive as JSON text, plain strings as they are; other namespaces' values are not read.
        raw[key] = key.startsWith(prefix) ? parseJsonOr(value, value) : value;
    }
    const result = validatePlatformConfig(raw, config.name, pulumi.getStack());
    if (!result.config) throw new ConfigError(withoutSecretValues(result.problems, secretValuesOf(raw)));
    const stale = policyFactProblems(result.config);
    if (stale.length > 0) throw new ConfigError(stale);
    return result.config;
}

/**
 * The stack's facts its policy config states differently (stacks/policy-facts.ts), when `pack`
 * was read from this repository's policies folder for a stack of this repository's project:
 * CI's preview would judge the stack by them. Checked where the program runs (`pulumi up`,
 * `pulumi preview`, the offline plan), not in validatePlatformConfig, which specs call with
 * configs of their own.
 */
export function policyFactProblems(
    config: PlatformConfig,
    pack: PolicyPackSettings = policyPackSettings(config.stack),
): SettingProblem[] {
    if (!pack.file || pack.file.project !== config.project) return [];
    return stalePolicyFactProblems(pack.file.document, config, pack.source).map(asOneLine);
}

/**
 * The plaintext of every secret config value (`pulumi config set --secret`), as the CLI names
 * the secret keys to the program (PULUMI_CONFIG_SECRET_KEYS, a JSON list of full keys).
 */
function secretValuesOf(raw: Record<string, unknown>): string[] {
    const keys = parseJsonOr(process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]", []);
    const strings = (value: unknown): string[] =>
        typeof value === "string"
            ? [value]
            : Array.isArray(value)
              ? value.flatMap(strings)
              : value && typeof value === "object"
                ? Object.values(value).flatMap(strings)
                : [];
    return (Array.isArray(keys) ? keys : []).flatMap((key) =>
        typeof key === "string" && Object.hasOwn(raw, key) ? strings(raw[key]) : [],
    );
}

/** Problems that quote a secret's value show "[secret]" instead, as Pulumi prints secrets. */
export function withoutSecretValues(problems: SettingProblem[], secrets: readonly string[]): SettingProblem[] {
    // Very short values ("1", "true") would blot out ordinary words; a secret is longer than that.
    const hidden = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
    if (hidden.length === 0) return problems;
    const redact = (text: string) => hidden.reduce((t, secret) => t.split(secret).join("[secret]"), text);
    return problems.map((p) => ({ key: redact(p.key), message: redact(p.message) }));
}

export function configKeyOf(path: readonly PropertyKey[]): string {
    return path.reduce<string>((key, part) => {
        if (typeof part === "number") return `${key}[${part}]`;
        return key ? `${key}${segment(String(part))}` : String(part);
    }, "");
}

function describeIssue(issue: core.$ZodIssue): SettingProblem[] {
    const key = configKeyOf(issue.path);
    if (issue.code === "unrecognized_keys") {
        const known = knownKeysAt(platformConfigSchema, issue.path);
        return issue.keys.map((k, i) => {
            const guess = i < MAX_SUGGESTIONS ? closest(k, known) : undefined;
            return {
                key: key ? `${key}${segment(k)}` : k,
                message: guess
                    ? `is not a known key; did you mean ${guess}?`
                    : "is not a known key; check its spelling against Pulumi.yaml",
            };
        });
    }
    if (issue.input === undefined && issue.code === "invalid_value") {
        return [{ key, message: `is required; one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` }];
    }
    if (issue.input === undefined && issue.code === "invalid_type") {
        return [
            {
                key,
                message: issue.message.startsWith("Invalid input") ? `is required (${issue.expected})` : issue.message,
            },
        ];
    }
    // A union's issue carries the whole object; show the field it was decided on.
    const last = issue.path[issue.path.length - 1];
    const input =
        isRecord(issue.input) && typeof last === "string" && Object.hasOwn(issue.input, last)
            ? issue.input[last]
            : issue.input;
    const found = describeFound(input);
    return [{ key: key || "(config)", message: found ? `${issue.message} (found ${found})` : issue.message }];
}

/** The longest value a message quotes; a longer one is cut. */
const MAX_FOUND_LENGTH = 80;

function describeFound(input: unknown): string | undefined {
    if (input === undefined) return undefined;
    if (typeof input === "number" && !Number.isFinite(input)) return String(input);
    if (input === null || ["string", "number", "boolean"].includes(typeof input)) {
        const text = JSON.stringify(input);
        return text.length > MAX_FOUND_LENGTH
            ? `${text.slice(0, MAX_FOUND_LENGTH)}…" (${typeof input === "string" ? input.length : text.length} characters)`
            : text;
    }
    return Array.isArray(input) ? "a list" : "an object";
}

/** The keys an object of the schema takes at `path` (record values, list items, options and wrappers followed). */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
    const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
    const inner = (s: unknown) => knownKeysAt(s as z.ZodType, path);
    switch (def.type) {
        case "optional":
        case "default":
        case "nullable":
        case "readonly":
            return inner(def.innerType);
        case "pipe":
            return inner(def.in);
        case "union":
            return [...new Set((def.options as z.ZodType[]).flatMap(inner))];
        case "object": {
            const shape = def.shape as Record<string, z.ZodType>;
            if (path.length === 0) return Object.keys(shape);
            const [first, ...rest] = path;
            return typeof first === "string" && Object.hasOwn(shape, first) ? knownKeysAt(shape[first], rest) : [];
        }
        case "record":
            return path.length === 0 ? [] : knownKeysAt(def.valueType as z.ZodType, path.slice(1));
        case "array":
            return path.length === 0 ? [] : knownKeysAt(def.element as z.ZodType, path.slice(1));
        default:
            return [];
    }
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
