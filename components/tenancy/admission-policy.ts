import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { AdmissionRule, bindingNamespaceSelector } from "@gpu-platform/catalog/admission";

type PolicySpec = k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicySpec;
type BindingSpec = k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec;

type Writable<T> = T extends object ? { -readonly [K in keyof T]: Writable<T[K]> } : T;
/** A deep copy the resource may own (the catalog's rules are read-only and shared). */
const copy = <T>(value: T): Writable<T> => structuredClone(value) as Writable<T>;

/** A rule of catalog/admission as the API server takes it; a failure to evaluate refuses the request. */
export function admissionPolicySpec(rule: AdmissionRule): PolicySpec {
    return {
        failurePolicy: "Fail",
        matchConstraints: {
            resourceRules: copy(rule.resourceRules),
            ...(rule.namespaceSelector ? { namespaceSelector: copy(rule.namespaceSelector) } : {}),
        },
        ...(rule.matchConditions ? { matchConditions: copy(rule.matchConditions) } : {}),
        ...(rule.variables ? { variables: copy(rule.variables) } : {}),
        validations: copy(rule.validations),
    };
}

/** The rule's binding: refuse (Deny) where its scope says (team namespaces not exempt from it, or everywhere). */
export function admissionBindingSpec(rule: AdmissionRule): BindingSpec {
    const namespaceSelector = bindingNamespaceSelector(rule);
    return {
        policyName: rule.name,
        validationActions: ["Deny"],
        ...(namespaceSelector ? { matchResources: { namespaceSelector: copy(namespaceSelector) } } : {}),
    };
}

/**
 * A ValidatingAdmissionPolicy from `rule` and its binding, named `${name}` and `${name}-binding`.
 * `resolved`, when given, is the same rule with settings known only at deploy time.
 */
export function admissionPolicy(
    name: string,
    rule: AdmissionRule,
    opts: pulumi.CustomResourceOptions,
    resolved?: pulumi.Output<AdmissionRule>,
): {
    policy: k8s.admissionregistration.v1.ValidatingAdmissionPolicy;
    binding: k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
} {
    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        name,
        {
            metadata: { name: rule.name },
            spec: resolved ? resolved.apply(admissionPolicySpec) : admissionPolicySpec(rule),
        },
        opts,
    );
    const binding = new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        `${name}-binding`,
        { metadata: { name: rule.name }, spec: admissionBindingSpec(rule) },
        { ...opts, dependsOn: [policy] },
    );
    return { policy, binding };
}
