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
import type {
    EnforcementLevel,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { UnknownValueError, unknownCheckingProxy } from "./lib/engine-proxy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { ALL_POLICIES, PACK_NAME } from "./all-policies";
import { PolicyConfigError } from "./lib/config-error";
import { schemaDefaults } from "./lib/define";
import { unwrapSecrets } from "./lib/wire";

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

/** Runs every enabled policy on the resources; violations come policy by policy, in pack order. */
export async function runPolicies(resources: readonly PlanResource[], config: PackConfig): Promise<Violation[]> {
    const stack = new PlanStack(resources);
    const violations: Violation[] = [];
    for (const policy of ALL_POLICIES) {
        const settings = config.policies[policy.name];
        if (!settings)
            throw new PolicyConfigError(
                `${config.source}: has no settings for policy "${policy.name}"; build it with loadPackConfig`,
            );
        if (settings.enforcementLevel === "disabled") continue;
        // As the engine does: a remediation that still fails is reported as mandatory.
        const level = settings.enforcementLevel === "advisory" ? "advisory" : "mandatory";
        const report = (urn: string | null) => (message: string, reportedUrn?: string) =>
            violations.push({ policy: policy.name, level, urn: reportedUrn ?? urn, message });
        const getConfig = <T extends object>() => settings.config as T;

        if ("validateResource" in policy && policy.validateResource) {
            const validations = Array.isArray(policy.validateResource)
                ? policy.validateResource
                : [policy.validateResource];
            for (const resource of resources) {
                // Resource policies always report against the resource they validate.
                const args = stack.resourceArgs(resource, getConfig);
                for (const validate of validations)
                    await guarded(policy, resource.urn, violations, () =>
                        validate(args, (message) => report(resource.urn)(message)),
                    );
            }
        } else if ("validateStack" in policy) {
            const args: StackValidationArgs = {
                resources: stack.policyResources,
                stackTags: NO_STACK_TAGS,
                getConfig,
                notApplicable,
            };
            await guarded(policy, null, violations, () => policy.validateStack(args, report(null)));
        }
    }
    return violations;
}

/** Calls a validation as the engine does: not-applicable is silence, an unknown value an advisory note, anything else a failure. */
async function guarded(
    policy: Policy,
    urn: string | null,
    violations: Violation[],
    validate: () => void | Promise<void>,
): Promise<void> {
    try {
        await validate();
    } catch (err) {
        if (err instanceof NotApplicable) return;
        if (err instanceof UnknownValueError) {
            violations.push({
                policy: policy.name,
                level: "advisory",
                urn,
                message: `can't run policy "${policy.name}" during preview: ${err.message}`,
            });
            return;
        }
        const reason = err instanceof Error ? err.message : String(err);
        throw new Error(`policy "${policy.name}" of pack ${PACK_NAME} failed${urn ? ` on ${urn}` : ""}: ${reason}`, {
            cause: err,
        });
    }
}

class NotApplicable extends Error {}

/**
 * One instance, made once and thrown each time: the engine does not report the reason, and
 * capturing a new Error's stack costs more than the check it ends (every resource policy ends
 * this way for every resource of another type: about 60 policies × every resource).
 */
const NOT_APPLICABLE = new NotApplicable("not applicable");

function notApplicable(): never {
    throw NOT_APPLICABLE;
}

const NO_STACK_TAGS: ReadonlyMap<string, string> = new Map();

/** The recorded resources, turned into the engine's view of them once and shared by all policies. */
class PlanStack {
    readonly policyResources: PolicyResource[];
    private readonly byUrn: Map<string, PlanResource>;
    private readonly props = new Map<string, Record<string, unknown>>();
    private readonly providers = new Map<string, NonNullable<PolicyResource["provider"]>>();

    constructor(resources: readonly PlanResource[]) {
        this.byUrn = new Map(resources.map((r) => [r.urn, r]));
        const byUrn = new Map<string, PolicyResource>();
        this.policyResources = resources.map((r) => {
            const resource: PolicyResource = {
                type: r.type,
                props: this.propsOf(r),
                urn: r.urn,
                name: r.name,
                opts: optionsOf(r),
                provider: this.providerOf(r),
                dependencies: [],
                propertyDependencies: {},
                isType: (cls) => isTypeOf(r.type, cls),
                asType: ((cls: unknown) =>
                    isTypeOf(r.type, cls) ? resource.props : undefined) as PolicyResource["asType"],
            };
            byUrn.set(r.urn, resource);
            return resource;
        });
        for (const [i, r] of resources.entries()) {
            const resource = this.policyResources[i];
            resource.parent = r.parent ? byUrn.get(r.parent) : undefined;
            const known = (urns: readonly string[]) =>
                urns.map((urn) => byUrn.get(urn)).filter((d): d is PolicyResource => d !== undefined);
            resource.dependencies = known(r.dependencies ?? []);
            resource.propertyDependencies = Object.fromEntries(
                Object.entries(r.propertyDependencies ?? {}).map(([key, urns]) => [key, known(urns)]),
            );
        }
    }

    resourceArgs(r: PlanResource, getConfig: ResourceValidationArgs["getConfig"]): ResourceValidationArgs {
        const props = this.propsOf(r);
        return {
            type: r.type,
            props,
            urn: r.urn,
            name: r.name,
            opts: optionsOf(r),
            provider: this.providerOf(r),
            stackTags: NO_STACK_TAGS,
            isType: (cls) => isTypeOf(r.type, cls),
            asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as ResourceValidationArgs["asType"],
            getConfig,
            notApplicable,
        };
    }

    /** The inputs, with computed outputs filling in what they lack; secrets unwrapped; behind the engine's unknown-checking proxy. */
    private propsOf(r: PlanResource): Record<string, unknown> {
        let props = this.props.get(r.urn);
        if (!props) {
            const plain = unwrapSecrets({ ...(r.outputs ?? {}), ...r.inputs }) as Record<string, unknown>;
            props = unknownCheckingProxy(plain);
            this.props.set(r.urn, props);
        }
        return props;
    }

    /** The provider a reference `<urn>::<id>` names, with its properties when it was recorded too; one per reference. */
    private providerOf(r: PlanResource): PolicyResource["provider"] {
        if (!r.provider) return undefined;
        let provider = this.providers.get(r.provider);
        if (!provider) {
            provider = this.describeProvider(r.provider);
            this.providers.set(r.provider, provider);
        }
        return provider;
    }

    private describeProvider(reference: string): NonNullable<PolicyResource["provider"]> {
        const urn = reference.slice(0, reference.lastIndexOf("::"));
        const recorded = this.byUrn.get(urn);
        const [, , type = "", name = ""] = urn.split("::");
        return {
            type: recorded?.type ?? type.split("$").pop() ?? type,
            name: recorded?.name ?? name,
            urn,
            props: recorded ? this.propsOf(recorded) : {},
        };
    }
}

function optionsOf(r: PlanResource): PolicyResourceOptions {
    return {
        protect: r.protect ?? false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        parent: r.parent ?? undefined,
    };
}

/** As the engine's `isType`: by the class's Pulumi type token, else its `isInstance`. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
    const cls = resourceClass as { __pulumiType?: string; isInstance?: (o: unknown) => boolean };
    if (typeof cls.__pulumiType === "string") return cls.__pulumiType === type;
    return typeof cls.isInstance === "function" && cls.isInstance({ __pulumiType: type }) === true;
}

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
