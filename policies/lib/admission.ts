/**
 * Evaluates the cluster's admission rules (catalog/admission) the way the API server runs a
 * ValidatingAdmissionPolicy: does the request match the rule's resources, namespaces and match
 * conditions; then its variables in order; then each validation, whose message comes from its
 * `messageExpression`. The same expressions the cluster runs, with @bufbuild/cel, plus the
 * Kubernetes CEL libraries the rules use: the strings extension (`join`) and the lists
 * extension's `sum()` and `max()`.
 *
 * What the API server provides and a preview cannot (`authorizer`, `params`) the rules do not use.
 */
import { CelScalar, celEnv, celError, celMethod, isCelError, listType, parse, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { AdmissionRule, LabelSelector, bindingNamespaceSelector } from "@gpu-platform/catalog/admission";

export interface AdmissionUser {
    readonly username: string;
    readonly groups?: readonly string[];
}

export interface AdmissionRequest {
    readonly operation: "CREATE" | "UPDATE" | "DELETE";
    /** The object's API group ("" for core), version, kind and resource (plural). */
    readonly group: string;
    readonly version: string;
    readonly kind: string;
    readonly resource: string;
    /** The subresource written, e.g. `ephemeralcontainers` for `pods/ephemeralcontainers` (`kubectl debug`); none for the object itself. */
    readonly subResource?: string;
    /** The object's namespace; undefined for a cluster-scoped object. */
    readonly namespace?: string;
    /** The namespace's labels (for a Namespace, its own). */
    readonly namespaceLabels?: Readonly<Record<string, string>>;
    readonly name?: string;
    readonly userInfo: AdmissionUser;
    readonly object: unknown;
    readonly oldObject?: unknown;
}

export type AdmissionOutcome =
    | { readonly applies: false }
    | { readonly applies: true; readonly refusals: string[] }
    | { readonly applies: true; readonly error: string };

const ints = (list: Iterable<unknown>) => [...list].map((n) => n as bigint);
const SUM = celMethod("sum", listType(CelScalar.INT), [], CelScalar.INT, function () {
    return ints(this).reduce((a, b) => a + b, 0n);
});
// Kubernetes' max() fails on an empty list.
const MAX = celMethod("max", listType(CelScalar.INT), [], CelScalar.INT, function () {
    const values = ints(this);
    if (values.length === 0) throw new Error("max() of an empty list");
    return values.reduce((a, b) => (b > a ? b : a));
});
const ENV = celEnv({ funcs: [SUM, MAX, ...strings] });

type Planned = (bindings: Record<string, unknown>) => unknown;

/**
 * Each expression parsed and planned once, then run against every request: @bufbuild/cel's
 * `run()` parses and plans on every call, which was most of the plan's policy time on a stack
 * with many team objects. As `run()` does, an error becomes a CelError result, never a throw.
 */
const PLANNED = new Map<string, Planned>();

function runCel(expression: string, bindings: Record<string, unknown>): unknown {
    let planned = PLANNED.get(expression);
    if (!planned) {
        try {
            planned = plan(ENV, parse(expression)) as Planned;
        } catch (err) {
            const failed = celError(err);
            planned = () => failed;
        }
        PLANNED.set(expression, planned);
    }
    try {
        return planned(bindings);
    } catch (err) {
        return celError(err);
    }
}

/** Kubernetes' guess of a kind's resource name (apimachinery meta.UnsafeGuessKindToResource). */
export function guessResource(kind: string): string {
    const lower = kind.toLowerCase();
    if (lower.endsWith("s")) return `${lower}es`;
    if (lower.endsWith("y")) return `${lower.slice(0, -1)}ies`;
    return `${lower}s`;
}

/** Whether the rule's policy and binding select the request (resources, namespaces, binding scope). */
export function selects(rule: AdmissionRule, request: AdmissionRequest): boolean {
    const resourceMatch = rule.resourceRules.some(
        (r) =>
            (r.apiGroups.includes("*") || r.apiGroups.includes(request.group)) &&
            (r.apiVersions.includes("*") || r.apiVersions.includes(request.version)) &&
            (r.operations.includes("*") || r.operations.includes(request.operation)) &&
            resourceNamed(r.resources, request.resource, request.subResource),
    );
    if (!resourceMatch) return false;
    const labels = request.namespaceLabels ?? {};
    if (rule.namespaceSelector && !labelsMatch(rule.namespaceSelector, labels, request.namespace)) return false;
    const binding = bindingNamespaceSelector(rule);
    return !binding || (request.namespace !== undefined && labelsMatch(binding, labels, request.namespace));
}

// Kubernetes' resource matching (admissionregistration/v1 RuleWithOperations): "*" is every
// resource, "*" + "/*" every resource and subresource, "pods/" + "*" every subresource of pods.
function resourceNamed(names: readonly string[], resource: string, subResource?: string): boolean {
    if (names.includes("*/*")) return true;
    if (!subResource) return names.includes("*") || names.includes(resource);
    return [`${resource}/${subResource}`, `${resource}/*`, `*/${subResource}`].some((n) => names.includes(n));
}

function labelsMatch(selector: LabelSelector, labels: Readonly<Record<string, string>>, namespace?: string): boolean {
    // Every namespace carries kubernetes.io/metadata.name (set by the API server since 1.22).
    const all: Record<string, string> = namespace
        ? { "kubernetes.io/metadata.name": namespace, ...labels }
        : { ...labels };
    const has = (key: string) => Object.hasOwn(all, key);
    return (
        Object.entries(selector.matchLabels ?? {}).every(([k, v]) => all[k] === v) &&
        (selector.matchExpressions ?? []).every((e) => {
            if (e.operator === "Exists") return has(e.key);
            if (e.operator === "DoesNotExist") return !has(e.key);
            const inValues = has(e.key) && (e.values ?? []).includes(all[e.key]);
            return e.operator === "In" ? inValues : !inValues;
        })
    );
}

/** Runs the rule on the request as the API server would, once `selects` holds. */
export function evaluate(rule: AdmissionRule, request: AdmissionRequest): AdmissionOutcome {
    const bindings: Record<string, unknown> = {
        object: toCel(request.operation === "DELETE" ? null : request.object),
        oldObject: toCel(request.oldObject ?? null),
        request: toCel({
            operation: request.operation,
            kind: { group: request.group, version: request.version, kind: request.kind },
            resource: { group: request.group, version: request.version, resource: request.resource },
            subResource: request.subResource ?? "",
            namespace: request.namespace ?? "",
            name: request.name ?? "",
            userInfo: { username: request.userInfo.username, groups: [...(request.userInfo.groups ?? [])] },
        }),
        namespaceObject: toCel(
            request.namespace
                ? { metadata: { name: request.namespace, labels: { ...request.namespaceLabels } } }
                : null,
        ),
        variables: new Map<string, unknown>(),
    };
    const variables = bindings.variables as Map<string, unknown>;
    const celRun = (expression: string) => {
        const result = runCel(expression, bindings);
        if (isCelError(result)) throw new Error(`${expression}: ${result.message}`);
        return result;
    };
    try {
        for (const condition of rule.matchConditions ?? [])
            if (celRun(condition.expression) !== true) return { applies: false };
        for (const v of rule.variables ?? []) variables.set(v.name, celRun(v.expression));
        const refusals = rule.validations
            .filter((v) => celRun(v.expression) !== true)
            .map((v) => {
                const message = celRun(v.messageExpression);
                return typeof message === "string" ? message : `failed: ${v.expression}`;
            });
        return { applies: true, refusals };
    } catch (err) {
        return { applies: true, error: err instanceof Error ? err.message : String(err) };
    }
}

/** JSON as the CEL evaluator takes it: objects as maps, whole numbers as CEL ints. */
export function toCel(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(toCel);
    if (value !== null && typeof value === "object")
        return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
    if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
    return value;
}
