/**
 * Runs one policy through the runner, exactly as the offline plan does, on resources written
 * by hand: a spec builds a passing resource, breaks one setting, and reads the violations.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { PlanResource, Violation, parsePackConfig, runPolicies } from "../../runner";

/** A resource at the stack's root, with an urn shaped like the engine's. */
export function resource(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    extra: Partial<PlanResource> = {},
): PlanResource {
    return { urn: `urn:pulumi:test::policy-spec::${type}::${name}`, type, name, parent: null, inputs, ...extra };
}

/** The AWS provider the platform uses: region and the budget tags as default tags (a JSON string, as recorded). */
export const awsProvider = resource("pulumi:providers:aws", "platform-aws", {
    region: "us-east-1",
    defaultTags: JSON.stringify({
        tags: { team: "platform", "cost-center": "CC-0001", environment: "dev", budget: "platform-dev" },
    }),
});
export const AWS_PROVIDER_REF = `${awsProvider.urn}::platform-aws-placeholder-id`;

/** Violations of `policy` alone (every other policy disabled), with `config` over its defaults. */
export async function violationsOf(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    resources: PlanResource[],
    config: Record<string, unknown> = {},
): Promise<Violation[]> {
    const pack = parsePackConfig(
        JSON.stringify({ all: "disabled", [policy.name]: { enforcementLevel: "mandatory", ...config } }),
        "spec",
    );
    return runPolicies(resources, pack);
}

/** The one violation of `policy`; fails listing them when there is not exactly one. */
export async function theViolation(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    resources: PlanResource[],
    config: Record<string, unknown> = {},
): Promise<Violation> {
    const violations = await violationsOf(policy, resources, config);
    if (violations.length !== 1)
        throw new Error(
            `expected one violation of ${policy.name}, got ${violations.length}:\n${violations.map((v) => v.message).join("\n")}`,
        );
    return violations[0];
}

/** A deep copy of `value` with `path` (dot-separated, numeric parts index arrays) set to `to`, or removed when `to` is undefined. */
export function changed<T>(value: T, path: string, to: unknown): T {
    const copy = structuredClone(value) as Record<string, unknown>;
    const keys = path.split(".");
    let node: Record<string, unknown> = copy;
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
    const last = keys[keys.length - 1];
    if (to === undefined) delete node[last];
    else node[last] = to;
    return copy as T;
}
