/**
 * The offline plan's recorded resources as the policy engine shows them to policies
 * (@pulumi/policy server.js: `ResourceValidationArgs` per resource, `PolicyResource`s for a
 * stack policy), built once per resource and shared by every policy. Resources may be added as
 * the program registers them (policy-run.ts judges them while the program still runs).
 */
import type {
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
} from "@pulumi/policy";
import { unknownCheckingProxy } from "./lib/engine-proxy";
import { unwrapSecrets } from "./lib/wire";
import type { PlanResource } from "./runner";

/** Thrown by `notApplicable`; the engine treats it as silence. */
export class NotApplicable extends Error {}

/**
 * One instance, made once and thrown each time: the engine does not report the reason, and
 * capturing a new Error's stack costs more than the check it ends (every resource policy ends
 * this way for every resource of another type: about 60 policies × every resource).
 */
const NOT_APPLICABLE = new NotApplicable("not applicable");

export function notApplicable(): never {
    throw NOT_APPLICABLE;
}

export const NO_STACK_TAGS: ReadonlyMap<string, string> = new Map();

export class PlanStack {
    private byUrn = new Map<string, PlanResource>();
    private readonly props = new WeakMap<PlanResource, Record<string, unknown>>();
    private readonly providers = new Map<string, NonNullable<PolicyResource["provider"]>>();

    /** A resource registered so far; a later one of the same urn replaces it, as in a list read into a map. */
    add(resource: PlanResource): void {
        this.byUrn.set(resource.urn, resource);
    }

    /** Whether a resource's provider, if it names one, has been added (so its view will not change). */
    knowsProviderOf(resource: PlanResource): boolean {
        return !resource.provider || this.byUrn.has(providerUrn(resource.provider));
    }

    /** Forgets what was built from a resource whose outputs changed since. */
    forget(resource: PlanResource): void {
        this.props.delete(resource);
        this.providers.clear();
    }

    /** Exactly these resources, in this order, from now on: the stack as the program left it. */
    settle(resources: readonly PlanResource[]): void {
        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        const changed = [...byUrn].some(([urn, r]) => this.byUrn.get(urn) !== r) || byUrn.size !== this.byUrn.size;
        this.byUrn = byUrn;
        if (changed) this.providers.clear();
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

    /** The resources as a stack policy sees them, parents and dependencies linked. */
    policyResources(resources: readonly PlanResource[]): StackValidationArgs["resources"] {
        const byUrn = new Map<string, PolicyResource>();
        const policyResources = resources.map((r) => {
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
        const known = (urns: readonly string[]) =>
            urns.map((urn) => byUrn.get(urn)).filter((d): d is PolicyResource => d !== undefined);
        resources.forEach((r, i) => {
            const resource = policyResources[i];
            resource.parent = r.parent ? byUrn.get(r.parent) : undefined;
            resource.dependencies = known(r.dependencies ?? []);
            resource.propertyDependencies = Object.fromEntries(
                Object.entries(r.propertyDependencies ?? {}).map(([key, urns]) => [key, known(urns)]),
            );
        });
        return policyResources;
    }

    /** The inputs, with computed outputs filling in what they lack; secrets unwrapped; behind the engine's unknown-checking proxy. */
    private propsOf(r: PlanResource): Record<string, unknown> {
        let props = this.props.get(r);
        if (!props) {
            const plain = unwrapSecrets({ ...(r.outputs ?? {}), ...r.inputs }) as Record<string, unknown>;
            props = unknownCheckingProxy(plain);
            this.props.set(r, props);
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
        const urn = providerUrn(reference);
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

function providerUrn(reference: string): string {
    return reference.slice(0, reference.lastIndexOf("::"));
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
