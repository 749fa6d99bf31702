/**
 * Kueue v0.19.2's own CRD schemas (packages/kueue-schemas/fixtures/kueue-0.19.2, the `openAPIV3Schema` of each
 * v1beta2 CRD) as Ajv validators: what the API server would refuse of an object the program, the
 * gate or a spec makes.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

const FIXTURES = path.join(__dirname, "fixtures", "kueue-0.19.2");
const PLURALS: Record<string, string> = {
    ResourceFlavor: "resourceflavors",
    ClusterQueue: "clusterqueues",
    LocalQueue: "localqueues",
    WorkloadPriorityClass: "workloadpriorityclasses",
    AdmissionCheck: "admissionchecks",
    Workload: "workloads",
};

/** Go's inline case-insensitive flag `(?i)` (in name patterns) as JavaScript's `i` flag. */
const goRegExp = (pattern: string, flags: string) =>
    pattern.includes("(?i)") ? new RegExp(pattern.replace("(?i)", ""), `${flags}i`) : new RegExp(pattern, flags);

const validators = new Map<string, ValidateFunction>();

/** Ajv with Kubernetes' schema extensions (x-kubernetes-*) accepted as annotations. */
function validatorFor(kind: string): ValidateFunction {
    const known = validators.get(kind);
    if (known) return known;
    const ajv = new Ajv({
        strict: false,
        allErrors: true,
        code: { regExp: goRegExp as never },
        // OpenAPI's integer formats; Kubernetes checks the range, and the objects hold small numbers.
        formats: { int32: true, int64: true },
    });
    addFormats(ajv);
    const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${PLURALS[kind]}.v1beta2.json`), "utf8")) as {
        kind: string;
        openAPIV3Schema: object;
    };
    assert.strictEqual(fixture.kind, kind);
    const validate = ajv.compile(fixture.openAPIV3Schema);
    validators.set(kind, validate);
    return validate;
}

/** What Kueue's schema for the object's kind finds wrong with it (`<path> <problem>`); empty when valid. */
export function kueueSchemaErrors(object: { kind: string }): string[] {
    const validate = validatorFor(object.kind);
    return validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
