/**
 * The pack run over a stack's resources, as the engine runs it, with one difference in timing:
 * resource policies may judge each resource as the program registers it (`add`), in the plan's
 * process, which otherwise waits for the program; stack policies run once every resource is in
 * (`finish`). The violations, and a failing policy's error, are the same and in the same order as
 * judging everything at the end: policy by policy in pack order, resource by resource in the
 * order `finish` is given.
 */
import type {
    EnforcementLevel,
    ResourceValidation,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { ALL_POLICIES, PACK_NAME } from "./all-policies";
import { PolicyConfigError } from "./lib/config-error";
import { UnknownValueError } from "./lib/engine-proxy";
import { NO_STACK_TAGS, NotApplicable, PlanStack, notApplicable } from "./plan-stack";
import type { PackConfig, PlanResource, Violation } from "./runner";

type Policy = ResourceValidationPolicy | StackValidationPolicy;

interface EnabledPolicy {
    readonly policy: Policy;
    /** As the engine does: a remediation that still fails is reported as mandatory. */
    readonly level: "advisory" | "mandatory";
    readonly getConfig: <T extends object>() => T;
    /** A resource policy's validations; undefined for a stack policy. */
    readonly validations?: readonly ResourceValidation[];
}

/** What one resource policy said about one resource: its violations, or the error it failed with. */
interface Outcome {
    readonly violations: Violation[];
    /** guarded() turns every failure into an Error naming the policy and the resource. */
    error?: Error;
}

/** A resource the program registered: judged early only when it is a custom resource (a component's outputs come later). */
export type ArrivingResource = PlanResource & { readonly custom?: boolean; readonly read?: boolean };

export class PolicyRun {
    private readonly stack = new PlanStack();
    private readonly enabled: EnabledPolicy[];
    private readonly resourcePolicies: EnabledPolicy[];
    /** Per judged resource, one outcome per resource policy, in pack order. */
    private readonly outcomes = new Map<PlanResource, Outcome[]>();
    private readonly changedUrns = new Set<string>();
    private readonly queue: PlanResource[] = [];
    private next = 0;
    private draining?: Promise<void>;
    private failure?: Error;

    constructor(config: PackConfig) {
        this.enabled = enabledPolicies(config);
        this.resourcePolicies = this.enabled.filter((p) => p.validations !== undefined);
    }

    /** A resource as the program registers it; custom resources are judged soon, between the engine's answers. */
    add(resource: ArrivingResource): void {
        if (resource.read) return;
        this.stack.add(resource);
        if (resource.custom !== true) return;
        this.queue.push(resource);
        this.draining ??= this.drain().then(
            () => {
                this.draining = undefined;
            },
            (error: unknown) => {
                this.failure = error instanceof Error ? error : new Error(String(error));
                this.draining = undefined;
            },
        );
    }

    /** A resource's outputs changed (registered outputs): it is judged again at the end, even if a judgement is under way. */
    changed(urn: string): void {
        this.changedUrns.add(urn);
    }

    /** Every resource, in order: judges what is left, runs the stack policies, and returns the violations in pack order. */
    async finish(resources: readonly PlanResource[]): Promise<Violation[]> {
        while (this.draining) await this.draining;
        if (this.failure) throw this.failure;
        this.stack.settle(resources);
        for (const resource of resources) {
            if (this.changedUrns.has(resource.urn)) this.stack.forget(resource);
            else if (this.outcomes.has(resource)) continue;
            await this.judge(resource);
        }
        const violations: Violation[] = [];
        let stackResources: StackValidationArgs["resources"] | undefined;
        for (const entry of this.enabled) {
            if (entry.validations) {
                const index = this.resourcePolicies.indexOf(entry);
                for (const resource of resources) {
                    const outcome = this.outcomes.get(resource)![index];
                    if (outcome.error !== undefined) throw outcome.error;
                    violations.push(...outcome.violations);
                }
            } else {
                stackResources ??= this.stack.policyResources(resources);
                await runStackPolicy(entry, stackResources, violations);
            }
        }
        return violations;
    }

    /** Judges the queue one resource per turn of the event loop, so the engine keeps answering the program. */
    private async drain(): Promise<void> {
        while (this.next < this.queue.length) {
            await new Promise((resolve) => setImmediate(resolve));
            const resource = this.queue[this.next++];
            if (this.stack.knowsProviderOf(resource) && !this.outcomes.has(resource)) await this.judge(resource);
        }
        this.queue.length = 0;
        this.next = 0;
    }

    private async judge(resource: PlanResource): Promise<void> {
        const outcomes: Outcome[] = [];
        for (const entry of this.resourcePolicies) {
            const outcome: Outcome = { violations: [] };
            // Resource policies always report against the resource they validate.
            const report = (message: string) =>
                outcome.violations.push({ policy: entry.policy.name, level: entry.level, urn: resource.urn, message });
            const args = this.stack.resourceArgs(resource, entry.getConfig);
            try {
                for (const validate of entry.validations!)
                    await guarded(entry.policy, resource.urn, outcome.violations, () => validate(args, report));
            } catch (err) {
                outcome.error = err instanceof Error ? err : new Error(String(err));
            }
            outcomes.push(outcome);
        }
        this.outcomes.set(resource, outcomes);
    }
}

/** The enabled policies in pack order, each with its level and config; a config without some policy is refused. */
function enabledPolicies(config: PackConfig): EnabledPolicy[] {
    return ALL_POLICIES.flatMap((policy): EnabledPolicy[] => {
        const settings = config.policies[policy.name];
        if (!settings)
            throw new PolicyConfigError(
                `${config.source}: has no settings for policy "${policy.name}"; build it with loadPackConfig`,
            );
        const enforcement: EnforcementLevel = settings.enforcementLevel;
        if (enforcement === "disabled") return [];
        const level = enforcement === "advisory" ? "advisory" : "mandatory";
        const getConfig = <T extends object>() => settings.config as T;
        if ("validateResource" in policy && policy.validateResource) {
            const validate = policy.validateResource;
            return [{ policy, level, getConfig, validations: Array.isArray(validate) ? validate : [validate] }];
        }
        return "validateStack" in policy ? [{ policy, level, getConfig }] : [];
    });
}

async function runStackPolicy(
    entry: EnabledPolicy,
    resources: StackValidationArgs["resources"],
    violations: Violation[],
): Promise<void> {
    const policy = entry.policy as StackValidationPolicy;
    const args: StackValidationArgs = {
        resources,
        stackTags: NO_STACK_TAGS,
        getConfig: entry.getConfig,
        notApplicable,
    };
    await guarded(policy, null, violations, () =>
        policy.validateStack(args, (message, urn) =>
            violations.push({ policy: policy.name, level: entry.level, urn: urn ?? null, message }),
        ),
    );
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
