/**
 * Builders for the pack's policies. Each returns a plain `ResourceValidationPolicy` or
 * `StackValidationPolicy` of @pulumi/policy, so the same object serves the Pulumi CLI (through
 * the PolicyPack in index.ts) and the offline plan (through runner.ts). What they add:
 * - the config a check sees is its schema's defaults under whatever the engine passes, so a
 *   check never meets a missing setting;
 * - properties are read into plain data first (lib/values.ts), so unknown values during a
 *   preview are skipped, never a crash;
 * - a resource policy declares the types it checks; any other resource is "not applicable".
 */
import type {
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { Props, plainProps } from "./values";

/** Each config property: its JSON schema (checked by the Pulumi CLI and by runner.ts) and its default. */
export type ConfigSpec<C> = { [K in keyof C]: PolicyConfigJSONSchema & { default: C[K] } };

interface PolicyDefinition<C> {
    /** Kebab-case, unique in the pack; the key in policies/config.<stack>.json. */
    name: string;
    /** What it checks and why; the CLI prints it above each violation. */
    description: string;
    /** The level when policies/config.<stack>.json does not set one. */
    enforcementLevel: EnforcementLevel;
    config: ConfigSpec<C>;
}

export interface CheckedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** The resource's properties as plain data; unknown values are `UNKNOWN`. */
    readonly props: Props;
    /** The properties of the resource's provider, when the engine names one. */
    readonly providerProps?: Props;
}

export interface ResourceCheck<C> extends PolicyDefinition<C> {
    /** Resource types the policy checks, listed or as a test on the type token; for any other it is not applicable. */
    resourceTypes: readonly string[] | { readonly describe: string; readonly test: (type: string) => boolean };
    /** May be async: the IAM model (lib/iam-model.ts) reads its data and runs its engine asynchronously. */
    validate(resource: CheckedResource, config: C, report: (message: string) => void): void | Promise<void>;
}

export interface StackResource extends CheckedResource {
    /** Urn of the parent, if any. */
    readonly parent?: string;
    /** Urn of its provider, when the engine names one. */
    readonly provider?: string;
    /** Urns of the resources it depends on. */
    readonly dependencies: readonly string[];
    /** Per property, the urns of the resources its value comes from (real engine only). */
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

export interface StackCheck<C> extends PolicyDefinition<C> {
    validate(
        resources: readonly StackResource[],
        config: C,
        report: (message: string, urn?: string) => void,
    ): void | Promise<void>;
}

type ResourceTypes = ResourceCheck<unknown>["resourceTypes"];
const isTypeList = (types: ResourceTypes): types is readonly string[] => Array.isArray(types);

export function resourcePolicy<C>(check: ResourceCheck<C>): ResourceValidationPolicy {
    const types = check.resourceTypes;
    const applies = isTypeList(types) ? (type: string) => types.includes(type) : types.test;
    const describe = isTypeList(types) ? types.join(", ") : types.describe;
    return {
        ...policyFields(check),
        validateResource: (args: ResourceValidationArgs, reportViolation) => {
            if (!applies(args.type)) args.notApplicable(`checks ${describe} only`);
            const resource: CheckedResource = {
                urn: args.urn,
                type: args.type,
                name: args.name,
                props: sharedPlainProps(args.props),
                providerProps: args.provider ? sharedPlainProps(args.provider.props) : undefined,
            };
            return check.validate(resource, configWithDefaults(check.config, args.getConfig<Partial<C>>()), (message) =>
                reportViolation(message),
            );
        },
    };
}

export function stackPolicy<C>(check: StackCheck<C>): StackValidationPolicy {
    return {
        ...policyFields(check),
        validateStack: (args: StackValidationArgs, reportViolation) => {
            const resources = args.resources.map(sharedStackResource);
            return check.validate(
                resources,
                configWithDefaults(check.config, args.getConfig<Partial<C>>()),
                (message, urn) => reportViolation(message, urn),
            );
        },
    };
}

function policyFields<C>(check: PolicyDefinition<C>) {
    return {
        name: check.name,
        description: check.description,
        enforcementLevel: check.enforcementLevel,
        configSchema: { properties: check.config as Record<string, PolicyConfigJSONSchema> },
    };
}

/** Each property's default, copied so no caller can change the schema's. */
export function schemaDefaults(properties: Record<string, PolicyConfigJSONSchema>): Record<string, unknown> {
    return Object.fromEntries(
        Object.entries(properties)
            .filter(([, s]) => s.default !== undefined)
            .map(([key, s]) => [key, structuredClone(s.default)]),
    );
}

/** The schema's defaults under the configured values. */
function configWithDefaults<C>(spec: ConfigSpec<C>, configured: Partial<C>): C {
    return { ...schemaDefaults(spec), ...withoutUndefined(configured) } as C;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
    return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The plain copy of a properties object, made once and shared by every check that reads it,
 * frozen so that no check can change what the next one sees. Copying per check made the pack's
 * time grow with checks × resources × properties: most of a large stack's policy time.
 */
const PLAIN_COPIES = new WeakMap<object, Props>();

function sharedPlainProps(props: unknown): Props {
    if (typeof props !== "object" || props === null) return plainProps(props);
    let copy = PLAIN_COPIES.get(props);
    if (!copy) {
        copy = deepFreeze(plainProps(props));
        PLAIN_COPIES.set(props, copy);
    }
    return copy;
}

function deepFreeze<T>(value: T): T {
    if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    }
    return value;
}

/** A stack check's view of a resource, made once per resource and shared by every stack check, as its props are. */
const STACK_RESOURCES = new WeakMap<PolicyResource, StackResource>();

function sharedStackResource(resource: PolicyResource): StackResource {
    let shared = STACK_RESOURCES.get(resource);
    if (!shared) {
        shared = deepFreeze(toStackResource(resource));
        STACK_RESOURCES.set(resource, shared);
    }
    return shared;
}

function toStackResource(resource: PolicyResource): StackResource {
    return {
        urn: resource.urn,
        type: resource.type,
        name: resource.name,
        props: sharedPlainProps(resource.props),
        providerProps: resource.provider ? sharedPlainProps(resource.provider.props) : undefined,
        parent: resource.parent?.urn,
        provider: resource.provider?.urn,
        dependencies: resource.dependencies.map((d) => d.urn),
        propertyDependencies: Object.fromEntries(
            Object.entries(resource.propertyDependencies ?? {}).map(([key, deps]) => [key, deps.map((d) => d.urn)]),
        ),
    };
}
