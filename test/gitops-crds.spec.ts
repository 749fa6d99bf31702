/**
 * The ApplicationSets and AppProjects the GitOps component renders are valid objects of the
 * CRDs the pinned argo-cd chart installs (test/fixtures/crds, trimmed openAPIV3Schemas of
 * argo-cd 10.1.1, sources in each file). An unknown field is an error here: the API server would
 * drop it silently (structural pruning), which for a security setting is worse than a failure.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { REPO_ROOT } from "./harness";
import { gitOpsValues } from "../components/portal";
import { argocdProjectScope } from "gpu-dev-platform-policies/argocd-projects";
import { resource, violationsOf } from "gpu-dev-platform-policies/test/support/check";

type Schema = Record<string, any>;

function crdSchema(file: string): Schema {
    const fixture = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "test", "fixtures", "crds", file), "utf8"));
    assert.match(fixture.source, /at tag argo-cd-10\.1\.1 \(commit [0-9a-f]{40}/);
    return closed(fixture.schema);
}

/** The schema with unknown fields refused wherever it lists properties and keeps no unknown fields. */
function closed(schema: Schema): Schema {
    if (Array.isArray(schema)) return schema.map(closed);
    if (schema === null || typeof schema !== "object") return schema;
    const copy: Schema = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, closed(v)]));
    if (copy.properties && copy.additionalProperties === undefined && !copy["x-kubernetes-preserve-unknown-fields"])
        copy.additionalProperties = false;
    return copy;
}

/** Item keys the chart puts in metadata, not spec. */
const METADATA_KEYS = ["namespace", "additionalLabels", "additionalAnnotations", "finalizers"];

/** What the chart renders from one item (argo-helm charts/argocd-apps/templates at argocd-apps-2.0.5). */
function rendered(kind: "ApplicationSet" | "AppProject", name: string, item: Record<string, any>) {
    const spec = Object.fromEntries(Object.entries(item).filter(([key]) => !METADATA_KEYS.includes(key)));
    const namespace = item.namespace;
    return { apiVersion: "argoproj.io/v1alpha1", kind, metadata: { name, namespace }, spec };
}

describe("GitOps objects against Argo CD's CRDs (argo-cd 10.1.1)", () => {
    // Formats (int64, date-time) are the API server's business, not this check's.
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const values = gitOpsValues({
        repoUrl: "https://github.com/acme/gitops.git",
        path: "apps",
        targetRevision: "main",
        teams: [{ name: "ml-research", namespace: "ml-research" }],
    }) as Record<string, Record<string, Record<string, any>>>;

    it("renders each team's ApplicationSet as a valid ApplicationSet", () => {
        const validate = ajv.compile(crdSchema("argo-cd-10.1.1.applicationset.schema.json"));
        const object = rendered("ApplicationSet", "ml-research", values.applicationsets["ml-research"]);
        assert.ok(validate(object), JSON.stringify(validate.errors, null, 1));
    });

    it("renders each team's AppProject as a valid AppProject", () => {
        const validate = ajv.compile(crdSchema("argo-cd-10.1.1.appproject.schema.json"));
        const object = rendered("AppProject", "ml-research", values.projects["ml-research"]);
        assert.ok(validate(object), JSON.stringify(validate.errors, null, 1));
    });

    it("would notice a misspelt field", () => {
        const validate = ajv.compile(crdSchema("argo-cd-10.1.1.appproject.schema.json"));
        const object = rendered("AppProject", "x", {
            ...values.projects["ml-research"],
            namespaceResourceWhitelists: [],
        });
        assert.strictEqual(validate(object), false);
        const sets = ajv.compile(crdSchema("argo-cd-10.1.1.applicationset.schema.json"));
        const set = structuredClone(values.applicationsets["ml-research"]);
        set.generators[0].git.directory = set.generators[0].git.directories;
        delete set.generators[0].git.directories;
        assert.strictEqual(sets(rendered("ApplicationSet", "x", set)), false);
    });

    it("renders projects the pack's argocd-project-scope passes: no forbidden kind in TEAM_APP_KINDS", async () => {
        const release = resource("kubernetes:helm.sh/v3:Release", "gitops-release", {
            chart: "argocd-apps",
            version: "2.0.5",
            namespace: "argocd",
            values,
        });
        assert.deepStrictEqual(await violationsOf(argocdProjectScope, [release]), []);
    });
});
