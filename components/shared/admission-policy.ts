import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { AdmissionRuleSet } from "@gpu-platform/catalog/admission";

/** A ValidatingAdmissionPolicy and its binding, made from a catalog rule set. */
export interface AdmissionPolicy {
    readonly policy: k8s.admissionregistration.v1.ValidatingAdmissionPolicy;
    readonly binding: k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
}

/** The policy's spec: the rule set's match constraints, variables and validations, as the API takes them. */
export function admissionPolicySpec(
    rules: AdmissionRuleSet,
): k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicySpec {
    const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
    return {
        failurePolicy: rules.failurePolicy,
        matchConstraints: copy(rules.matchConstraints) as k8s.types.input.admissionregistration.v1.MatchResources,
        variables: copy(rules.variables) as k8s.types.input.admissionregistration.v1.Variable[],
        validations: copy(rules.validations) as k8s.types.input.admissionregistration.v1.Validation[],
    };
}

/**
 * Installs a catalog rule set: the policy, and a binding that denies what it refuses. The
 * binding waits for the policy, so no request meets a binding without its policy.
 */
export function admissionPolicy(
    name: string,
    rules: AdmissionRuleSet,
    opts: pulumi.CustomResourceOptions,
): AdmissionPolicy {
    const metadata = { name: rules.name, annotations: { "gpu-platform/description": rules.description } };
    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        name,
        { metadata, spec: admissionPolicySpec(rules) },
        opts,
    );
    const binding = new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        `${name}-binding`,
        { metadata: { name: rules.name }, spec: { policyName: rules.name, validationActions: ["Deny"] } },
        { ...opts, dependsOn: [policy] },
    );
    return { policy, binding };
}
