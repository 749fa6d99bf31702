/**
 * An admission rule as plain data: what the cluster runs as a ValidatingAdmissionPolicy and
 * its binding (components/tenancy builds them), and what the policy pack evaluates with the
 * same CEL at preview time (policies/lib/admission.ts). Field names follow the
 * `admissionregistration.k8s.io/v1` API, so a rule reads as the policy it becomes.
 */

/** Which requests a rule sees (ValidatingAdmissionPolicy `matchConstraints.resourceRules`). */
export interface AdmissionResourceRule {
    readonly apiGroups: readonly string[];
    readonly apiVersions: readonly string[];
    readonly operations: readonly ("CREATE" | "UPDATE" | "DELETE" | "CONNECT" | "*")[];
    readonly resources: readonly string[];
}

export interface LabelSelectorRequirement {
    readonly key: string;
    readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    readonly values?: readonly string[];
}

export interface LabelSelector {
    readonly matchLabels?: Readonly<Record<string, string>>;
    readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface NamedExpression {
    readonly name: string;
    readonly expression: string;
}

export interface AdmissionValidation {
    /** CEL; false refuses the request. */
    readonly expression: string;
    /** CEL giving the refusal's message: what is wrong and what to do instead. */
    readonly messageExpression: string;
    readonly reason?: "Forbidden" | "Invalid";
}

/**
 * Where a rule's binding applies:
 * - `team-namespaces`: objects in namespaces carrying the team label, unless the namespace
 *   carries the rule's exemption label (`admissionExemptionLabel`), which only the platform sets;
 * - `cluster`: wherever `matchConstraints` reach (the rule's CEL narrows it further).
 */
export type AdmissionScope = "team-namespaces" | "cluster";

export interface AdmissionRule {
    /** The policy's and its binding's name, `gpu-platform-…` (at most 63 characters: it is part of a label key). */
    readonly name: string;
    /** What it refuses and why, for the docs and the pack's description. */
    readonly description: string;
    readonly scope: AdmissionScope;
    readonly resourceRules: readonly AdmissionResourceRule[];
    /** The policy's own namespace selector (`matchConstraints.namespaceSelector`). Default all. */
    readonly namespaceSelector?: LabelSelector;
    /** All must hold for the rule to apply at all. */
    readonly matchConditions?: readonly NamedExpression[];
    /** Evaluated in order; later ones may read earlier ones as `variables.<name>`. */
    readonly variables?: readonly NamedExpression[];
    readonly validations: readonly AdmissionValidation[];
}

/** A CEL string literal. */
export function celString(value: string): string {
    return JSON.stringify(value);
}

/** A CEL list of string literals. */
export function celStringList(values: readonly string[]): string {
    return `[${values.map(celString).join(", ")}]`;
}

/**
 * The shape of an admission rule set: a ValidatingAdmissionPolicy's spec as plain data, which
 * a component turns into the cluster's `ValidatingAdmissionPolicy` and its binding, and which
 * specs (and the policy pack) evaluate offline with a CEL interpreter. Field names are the
 * API's (admissionregistration.k8s.io/v1), so the data is the object the API server sees.
 */
export interface AdmissionRuleSet {
    /** The policy's (and its binding's) name. */
    readonly name: string;
    /** What the rule set keeps out, for the policy's annotation and the docs. */
    readonly description: string;
    readonly failurePolicy: "Fail" | "Ignore";
    readonly matchConstraints: {
        readonly resourceRules: readonly {
            readonly apiGroups: readonly string[];
            readonly apiVersions: readonly string[];
            readonly operations: readonly ("CREATE" | "UPDATE" | "DELETE" | "CONNECT")[];
            readonly resources: readonly string[];
        }[];
        readonly namespaceSelector?: {
            readonly matchLabels?: Readonly<Record<string, string>>;
            readonly matchExpressions?: readonly {
                readonly key: string;
                readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
                readonly values?: readonly string[];
            }[];
        };
    };
    /** Evaluated in order; each may read the ones before it as `variables.<name>`. */
    readonly variables: readonly { readonly name: string; readonly expression: string }[];
    readonly validations: readonly {
        readonly expression: string;
        readonly messageExpression: string;
        readonly reason: "Forbidden" | "Invalid";
    }[];
}
