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
