/**
 * The cluster's GPU-limit admission policy (components/tenancy/workload-classes.ts), evaluated
 * offline so specs can hold objects against it: `admit(object)` returns the messages the API
 * server would refuse the object with, none when it admits it.
 */
import { CelScalar, celMethod, isCelError, listType, run } from "@bufbuild/cel";
import { DEFAULT_WORKLOAD_CLASSES } from "../catalog";
import { GPU_LIMIT_EXEMPT_NAMESPACES, gpuLimitPolicySpec } from "../components/tenancy";

/**
 * Evaluates a ValidatingAdmissionPolicy's CEL the way the API server does: variables in
 * order, then each validation. `sum()` and `max()` are the Kubernetes CEL lists extension,
 * which plain CEL lacks. Returns the messages of the validations that fail.
 */
export function admit(object: unknown): string[] {
    const spec = gpuLimitPolicySpec([...DEFAULT_WORKLOAD_CLASSES], GPU_LIMIT_EXEMPT_NAMESPACES) as any;
    const ints = (list: Iterable<unknown>) => [...list].map((n) => n as bigint);
    const sum = celMethod("sum", listType(CelScalar.INT), [], CelScalar.INT, function () {
        return ints(this).reduce((a, b) => a + b, 0n);
    });
    // Kubernetes' max() fails on an empty list; the policy never calls it on one.
    const max = celMethod("max", listType(CelScalar.INT), [], CelScalar.INT, function () {
        const values = ints(this);
        if (values.length === 0) throw new Error("max() of an empty list");
        return values.reduce((a, b) => (b > a ? b : a));
    });
    const env = { funcs: [sum, max] };
    const evaluate = (expression: string, variables: Map<string, unknown>) => {
        const result = run(expression, { object: toCel(object), variables } as any, env);
        if (isCelError(result)) throw new Error(`CEL error in ${expression}: ${result.message}`);
        return result;
    };
    const variables = new Map<string, unknown>();
    for (const v of spec.variables) variables.set(v.name, evaluate(v.expression, variables));
    return spec.validations
        .filter((v: any) => evaluate(v.expression, variables) !== true)
        .map((v: any) => evaluate(v.messageExpression, variables) as string);
}

/** JSON as the CEL evaluator takes it: objects as maps, whole numbers as CEL ints. */
function toCel(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(toCel);
    if (value !== null && typeof value === "object")
        return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
    if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
    return value;
}
