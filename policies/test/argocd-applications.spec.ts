/**
 * argocd-application-projects: a team's Application and the platform's per-team ApplicationSet
 * pass; the default project, another team's project, a templated project, a templatePatch and a
 * generator reading another team's directory are refused, one mutation per case, in resources,
 * yaml/v2 components and argocd-apps releases alike.
 */
import * as assert from "assert";
import { stringify } from "yaml";
import { argocdApplicationProjects } from "../argocd-applications";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const REPO = "https://github.com/acme/gpu-platform-gitops.git";
const application = resource("kubernetes:argoproj.io/v1alpha1:Application", "train", {
    apiVersion: "argoproj.io/v1alpha1",
    metadata: { name: "train", namespace: "argocd" },
    spec: {
        project: "ml-research",
        source: { repoURL: REPO, targetRevision: "main", path: "apps/ml-research/train" },
        destination: { server: "https://kubernetes.default.svc", namespace: "ml-research" },
    },
});
/** The shape components/portal/gitops.ts renders for a team (teamApplicationSet). */
const applicationSet = {
    namespace: "argocd",
    goTemplate: true,
    goTemplateOptions: ["missingkey=error"],
    generators: [{ git: { repoURL: REPO, revision: "main", directories: [{ path: "apps/ml-research/*" }] } }],
    template: {
        metadata: {
            name: "ml-research.{{ .path.basenameNormalized }}",
            labels: { "gpu-platform/team": "ml-research" },
        },
        spec: {
            project: "ml-research",
            source: { repoURL: REPO, targetRevision: "main", path: "{{ .path.path }}" },
            destination: { server: "https://kubernetes.default.svc", namespace: "ml-research" },
        },
    },
};
const release = resource("kubernetes:helm.sh/v3:Release", "gitops", {
    chart: "argocd-apps",
    values: { applicationsets: { "ml-research": applicationSet }, projects: {} },
});
const appSetResource = resource("kubernetes:argoproj.io/v1alpha1:ApplicationSet", "team", {
    apiVersion: "argoproj.io/v1alpha1",
    metadata: { name: "team", namespace: "argocd" },
    spec: applicationSet,
});

const message = async (res: ReturnType<typeof resource>, config = {}) =>
    (await theViolation(argocdApplicationProjects, [res], config)).message;

describe("policies: argocd-application-projects", () => {
    it("passes a team's Application in its own project and the platform's per-team ApplicationSet", async () => {
        assert.deepStrictEqual(
            await violationsOf(argocdApplicationProjects, [application, release, appSetResource]),
            [],
        );
    });

    describe("Applications", () => {
        it("refuses the default project, spelt out or left empty", async () => {
            assert.match(
                await message(changed(application, "inputs.spec.project", "default")),
                /^Application "train" uses the default project \(spec\.project "default"\)/,
            );
            assert.match(await message(changed(application, "inputs.spec.project", "")), /uses the default project/);
            assert.match(
                await message(changed(application, "inputs.spec.project", undefined)),
                /uses the default project/,
            );
        });

        it("refuses another team's project for this team's namespace, and a team's project aimed elsewhere", async () => {
            assert.match(
                await message(changed(application, "inputs.spec.project", "applied-ml")),
                /deploys into team namespace "ml-research" under project "applied-ml"; .* set spec\.project: ml-research/,
            );
            assert.match(
                await message(changed(application, "inputs.spec.destination.namespace", "argocd")),
                /is in project "ml-research" but deploys into namespace "argocd"/,
            );
        });

        it("refuses a platform project deploying into a team namespace, and lets it deploy into the platform's", async () => {
            const platform = changed(application, "inputs.spec.project", "platform-gitops");
            const config = { platformProjects: ["platform-gitops"] };
            assert.match(
                await message(platform, config),
                /team namespace "ml-research" under project "platform-gitops"/,
            );
            const own = changed(platform, "inputs.spec.destination.namespace", "argocd");
            assert.deepStrictEqual(await violationsOf(argocdApplicationProjects, [own], config), []);
        });

        it("judges an ApplicationPatch that changes the project, and leaves one that keeps it", async () => {
            const patch = resource("kubernetes:argoproj.io/v1alpha1:ApplicationPatch", "p", {
                apiVersion: "argoproj.io/v1alpha1",
                metadata: { name: "train" },
                spec: { project: "default" },
            });
            assert.match(await message(patch), /default project/);
            const keeps = changed(patch, "inputs.spec", { syncPolicy: { automated: {} } });
            assert.deepStrictEqual(await violationsOf(argocdApplicationProjects, [keeps]), []);
        });

        it("finds Applications in yaml/v2 components and in argocd-apps values, map or list", async () => {
            const group = resource("kubernetes:yaml/v2:ConfigGroup", "apps", {
                yaml: stringify({
                    ...application.inputs,
                    kind: "Application",
                    spec: { ...(application.inputs.spec as object), project: "default" },
                }),
            });
            assert.match(await message(group), /^ConfigGroup "apps": Application "train" uses the default project/);
            const spec = { ...(application.inputs.spec as object), project: "applied-ml" };
            const map = changed(release, "inputs.values", { applications: { train: spec } });
            assert.match(
                await message(map),
                /^Helm release "gitops": values\.applications\["train"\] deploys into team namespace/,
            );
            const list = changed(release, "inputs.values", { applications: [{ name: "train", ...spec }] });
            assert.match(await message(list), /values\.applications\["0"\]/);
        });
    });

    describe("ApplicationSets", () => {
        it("refuses a templated project, in Go and fasttemplate syntax", async () => {
            const go = changed(
                release,
                "inputs.values.applicationsets.ml-research.template.spec.project",
                "{{ .path.basename }}",
            );
            assert.match(
                await message(go),
                /takes its project from a template \(spec\.template\.spec\.project "\{\{ \.path\.basename \}\}"\)/,
            );
            const fast = changed(appSetResource, "inputs.spec.template.spec.project", "{{path[1]}}");
            assert.match(await message(fast), /^ApplicationSet "team" takes its project from a template/);
        });

        it("refuses a templatePatch that sets the project or the destination", async () => {
            const patched = changed(
                appSetResource,
                "inputs.spec.templatePatch",
                'spec:\n  project: "{{ .path.basename }}"\n',
            );
            assert.match(await message(patched), /spec\.templatePatch/);
            const harmless = changed(appSetResource, "inputs.spec.templatePatch", "metadata:\n  annotations: {a: b}\n");
            assert.deepStrictEqual(await violationsOf(argocdApplicationProjects, [harmless]), []);
        });

        it("refuses the default project and another team's project", async () => {
            assert.match(
                await message(changed(appSetResource, "inputs.spec.template.spec.project", "default")),
                /default project \(spec\.template\.spec\.project "default"\)/,
            );
            const other = changed(appSetResource, "inputs.spec.template.spec.project", "applied-ml");
            const found = (await violationsOf(argocdApplicationProjects, [other])).map((v) => v.message).join("\n");
            assert.match(found, /deploys into team namespace "ml-research" under project "applied-ml"/);
            assert.match(found, /reads team "ml-research" .* but names project "applied-ml"/);
        });

        it("refuses a generator that reads another team's directory under this team's project", async () => {
            const other = changed(
                appSetResource,
                "inputs.spec.generators.0.git.directories.0.path",
                "apps/applied-ml/*",
            );
            assert.match(
                await message(other),
                /reads team "applied-ml" \(its git generator's apps\/applied-ml\/ or its team label\) but names project "ml-research"/,
            );
            const nested = changed(appSetResource, "inputs.spec.generators", [
                {
                    matrix: {
                        generators: [
                            { git: { repoURL: REPO, files: [{ path: "apps/applied-ml/config.json" }] } },
                            { list: { elements: [] } },
                        ],
                    },
                },
            ]);
            assert.match(await message(nested), /reads team "applied-ml"/);
        });
    });
});
