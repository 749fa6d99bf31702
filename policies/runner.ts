/**
 * Runs the pack's policies outside the Pulumi CLI, for the offline plan (tools/plan) and tests:
 * the very policy objects index.ts puts in the PolicyPack (all-policies.ts), called with
 * arguments shaped as the engine builds them (@pulumi/policy server.js: `ResourceValidationArgs`
 * for each resource, `StackValidationArgs` once for the stack), with the config
 * `--policy-pack-config policies/config.<stack>.json` would give them.
 *
 *   const violations = await runPolicies(recordedResources, loadPackConfig("dev"));
 */
import * as fs from "fs";
import * as path from "path";
import type { EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { ALL_POLICIES } from "./all-policies";
import { PolicyConfigError } from "./lib/config-error";
import { schemaDefaults } from "./lib/define";
import { PolicyRun } from "./policy-run";

/** A resource as the offline plan records it. */
export interface PlanResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** The parent's urn, or null at the stack's root. */
    readonly parent: string | null;
    readonly inputs: Record<string, unknown>;
    /** Provider reference, `<provider urn>::<provider id>`, when the resource names a provider. */
    readonly provider?: string;
    /** What the (fake) cloud computed; it fills in what the inputs lack, as a preview's properties are the inputs plus what the provider computes. */
    readonly outputs?: Record<string, unknown>;
    /**
     * Urns the resource depends on (the recorder's `dependencies`). Optional, but stack policies
     * use them to tie a setting resource (a bucket's public access block, a security group rule)
     * to what it targets when ids are placeholders: pass them when you have them.
     */
    readonly dependencies?: readonly string[];
    /** Per input property, the urns its value came from (the engine's property dependencies). */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    readonly protect?: boolean;
}

export interface Violation {
    readonly policy: string;
    readonly level: "mandatory" | "advisory";
    /** The resource in violation, or null for the stack as a whole. */
    readonly urn: string | null;
    readonly message: string;
}

export interface PolicySettings {
    readonly enforcementLevel: EnforcementLevel;
    /** What `getConfig()` returns: the policy's schema defaults under the file's values. */
    readonly config: Record<string, unknown>;
}

export interface PackConfig {
    /** The file it was read from, or "pack defaults". */
    readonly source: string;
    /** Every policy of the pack, by name. */
    readonly policies: Readonly<Record<string, PolicySettings>>;
}

type Policy = ResourceValidationPolicy | StackValidationPolicy;

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];
const PACK_DEFAULT_LEVEL: EnforcementLevel = "advisory";

/** policies/config.<stack>.json, or the pack's defaults when the stack has no such file. */
export function loadPackConfig(stack: string): PackConfig {
    const file = path.join(__dirname, `config.${stack}.json`);
    if (!fs.existsSync(file)) return defaultPackConfig();
    return parsePackConfig(fs.readFileSync(file, "utf8"), path.relative(process.cwd(), file) || file);
}

export function defaultPackConfig(): PackConfig {
    return parsePackConfig("{}", "pack defaults");
}

/**
 * A policy config document in the format `--policy-pack-config` reads: per policy name, an
 * enforcement level or an object with `enforcementLevel` and the policy's config properties;
 * `all` sets the level of every policy a per-policy entry does not.
 */
export function parsePackConfig(text: string, source: string): PackConfig {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (err) {
        throw new PolicyConfigError(
            `${source}: does not parse as JSON: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
        );
    }
    if (!isObject(doc)) throw new PolicyConfigError(`${source}: must be a JSON object of policy names to settings`);

    const problems: string[] = [];
    const entries = new Map<string, Record<string, unknown>>();
    for (const [key, value] of Object.entries(doc)) {
        const policy = ALL_POLICIES.find((p) => p.name === key);
        if (key !== "all" && !policy) {
            problems.push(`unknown policy "${key}" (the pack has ${ALL_POLICIES.map((p) => p.name).join(", ")})`);
            continue;
        }
        const entry = typeof value === "string" ? { enforcementLevel: value } : value;
        if (!isObject(entry)) {
            problems.push(`"${key}" must be an enforcement level or an object`);
            continue;
        }
        if (entry.enforcementLevel !== undefined && !LEVELS.includes(entry.enforcementLevel as EnforcementLevel)) {
            problems.push(
                `"${key}".enforcementLevel is ${JSON.stringify(entry.enforcementLevel)}; use one of ${LEVELS.join(", ")}`,
            );
        }
        problems.push(...propertyProblems(key, entry, policy));
        entries.set(key, entry);
    }
    if (problems.length > 0) throw new PolicyConfigError(`${source}: ${problems.join("; ")}`);

    const all = entries.get("all");
    const policies = Object.fromEntries(
        ALL_POLICIES.map((policy) => {
            const { enforcementLevel, ...configured } = entries.get(policy.name) ?? {};
            const level = (enforcementLevel ??
                all?.enforcementLevel ??
                policy.enforcementLevel ??
                PACK_DEFAULT_LEVEL) as EnforcementLevel;
            return [
                policy.name,
                {
                    enforcementLevel: level,
                    config: { ...schemaDefaults(policy.configSchema?.properties ?? {}), ...configured },
                },
            ];
        }),
    );
    return { source, policies };
}

/**
 * Runs every enabled policy on the resources; violations come policy by policy, in pack order.
 * The offline plan uses a PolicyRun directly, to judge resources while its program still runs.
 */
export async function runPolicies(resources: readonly PlanResource[], config: PackConfig): Promise<Violation[]> {
    return new PolicyRun(config).finish(resources);
}

export { PolicyRun };

/**
 * The config properties of one entry that the policy does not declare or whose values do not
 * fit its schema (type, items, minimum): what the CLI's schema validation would refuse, plus
 * unknown keys, which are usually typos.
 */
function propertyProblems(key: string, entry: Record<string, unknown>, policy: Policy | undefined): string[] {
    const properties = policy?.configSchema?.properties ?? {};
    return Object.entries(entry)
        .filter(([property]) => property !== "enforcementLevel")
        .flatMap(([property, value]) => {
            const schema = properties[property];
            if (!schema) {
                const known = Object.keys(properties);
                return [
                    `"${key}" has no setting "${property}" (${known.length > 0 ? `it takes ${known.join(", ")}` : "it takes only enforcementLevel"})`,
                ];
            }
            const problem = schemaProblem(value, schema);
            return problem ? [`"${key}".${property} ${problem}`] : [];
        });
}

function schemaProblem(value: unknown, schema: PolicyConfigJSONSchema): string | undefined {
    const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
    const fits = (t: string) =>
        t === "integer"
            ? Number.isInteger(value)
            : t === "array"
              ? Array.isArray(value)
              : t === "object"
                ? isObject(value)
                : t === "null"
                  ? value === null
                  : typeof value === t;
    if (types.length > 0 && !types.some(fits))
        return `is ${JSON.stringify(value)}; must be of type ${types.join(" or ")}`;
    if (typeof value === "number" && schema.minimum !== undefined && value < schema.minimum)
        return `is ${value}; must be at least ${schema.minimum}`;
    // The Pulumi CLI checks `enum` too (JSON Schema); the offline plan must refuse the same files.
    if (Array.isArray(schema.enum) && !schema.enum.includes(value as never))
        return `is ${JSON.stringify(value)}; must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`;
    const nested = Array.isArray(value) ? schema.items : isObject(value) ? schema.additionalProperties : undefined;
    if (typeof nested === "object" && !Array.isArray(nested)) {
        const children = Array.isArray(value)
            ? value.map((v, i) => [`[${i}]`, v] as const)
            : Object.entries(value as object).map(([k, v]) => [`.${k}`, v] as const);
        for (const [where, child] of children) {
            const problem = schemaProblem(child, nested);
            if (problem) return `${where} ${problem}`;
        }
    }
    return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
