import * as assert from "assert";
import { stringify } from "yaml";
import { argocdProjectScope } from "../argocd-projects";
import { ASSET_SIG, SIG_KEY } from "../lib/wire";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const REPO = "https://github.com/acme/gpu-platform-gitops.git";

/** The argocd-apps release as the platform builds it (argocd-apps 2.0.5: projects keyed by name). */
const appsInputs = {
    name: "argocd-apps",
    chart: "argocd-apps",
    version: "2.0.5",
    namespace: "argocd",
    values: {
        projects: {
            "platform-gitops": {
                sourceRepos: [REPO],
                destinations: [{ server: "https://kubernetes.default.svc", namespace: "argocd" }],
                namespaceResourceWhitelist: [{ group: "", kind: "ConfigMap" }],
            },
            "ml-research": {
                sourceRepos: [REPO],
                destinations: [{ server: "https://kubernetes.default.svc", namespace: "ml-research" }],
                namespaceResourceWhitelist: [
                    { group: "apps", kind: "Deployment" },
                    { group: "", kind: "Service" },
                ],
            },
        },
    },
};
const release = (inputs: Record<string, unknown> = appsInputs) => resource(RELEASE, "gitops-release", inputs);

describe("policies: Argo CD projects", () => {
    describe("argocd-project-scope", () => {
        it("passes team projects limited to their namespace, with no cluster-scoped kinds", async () => {
            assert.deepStrictEqual(await violationsOf(argocdProjectScope, [release()]), []);
        });

        it("refuses a project that allows every namespace", async () => {
            const v = await theViolation(argocdProjectScope, [
                release(
                    changed(appsInputs, "values.projects.ml-research.destinations", [
                        { server: "https://kubernetes.default.svc", namespace: "*" },
                    ]),
                ),
            ]);
            assert.strictEqual(
                v.message,
                'Helm release "gitops-release": project "ml-research" allows namespace "*" in values.projects["ml-research"].destinations[0]; ' +
                    "name the one cluster (https://kubernetes.default.svc) and the team's own namespace.",
            );
        });

        it("refuses a team project without a kind allowlist: Argo CD then allows every namespaced kind", async () => {
            const v = await theViolation(argocdProjectScope, [
                release(changed(appsInputs, "values.projects.ml-research.namespaceResourceWhitelist", undefined)),
            ]);
            assert.match(
                v.message,
                /project "ml-research" has no values\.projects\["ml-research"\]\.namespaceResourceWhitelist/,
            );
        });

        for (const [group, kind, reached] of [
            ["external-secrets.io", "SecretStore", "external-secrets.io/SecretStore"],
            ["argoproj.io", "Application", "argoproj.io/*"],
            ["rbac.authorization.k8s.io", "RoleBinding", "rbac.authorization.k8s.io/*"],
            ["", "ResourceQuota", "core/ResourceQuota"],
            ["*", "*", "core/ResourceQuota"],
            ["external-secrets.io", "*", "external-secrets.io/SecretStore"],
        ])
            it(`refuses a team project allowing ${group || "core"}/${kind}`, async () => {
                const v = await theViolation(argocdProjectScope, [
                    release(
                        changed(appsInputs, "values.projects.ml-research.namespaceResourceWhitelist", [
                            { group: "apps", kind: "Deployment" },
                            { group, kind },
                        ]),
                    ),
                ]);
                assert.ok(v.message.includes(`namespaceResourceWhitelist[1], which reaches ${reached}`), v.message);
            });

        it("refuses a destination on every cluster, and a namespace glob", async () => {
            const v = await theViolation(argocdProjectScope, [
                release(
                    changed(appsInputs, "values.projects.ml-research.destinations", [
                        { server: "*", namespace: "ml-*" },
                    ]),
                ),
            ]);
            assert.match(v.message, /allows server "\*" and namespace "ml-\*"/);
        });

        it("refuses cluster-scoped kinds for a team", async () => {
            const v = await theViolation(argocdProjectScope, [
                release(
                    changed(appsInputs, "values.projects.ml-research.clusterResourceWhitelist", [
                        { group: "", kind: "Namespace" },
                    ]),
                ),
            ]);
            assert.match(
                v.message,
                /project "ml-research" allows cluster-scoped kinds \(core\/Namespace\) in values\.projects\["ml-research"\]\.clusterResourceWhitelist; remove it/,
            );
        });

        it("lets a platform project list cluster-scoped kinds when the config names it, never '*' destinations", async () => {
            const platform = changed(appsInputs, "values.projects.platform-gitops.clusterResourceWhitelist", [
                { group: "*", kind: "*" },
            ]);
            assert.deepStrictEqual(
                await violationsOf(argocdProjectScope, [release(platform)], { platformProjects: ["platform-gitops"] }),
                [],
            );
            const wild = changed(platform, "values.projects.platform-gitops.destinations", [
                { server: "*", namespace: "*" },
            ]);
            assert.strictEqual(
                (await violationsOf(argocdProjectScope, [release(wild)], { platformProjects: ["platform-gitops"] }))
                    .length,
                1,
            );
        });

        it("reads the effective values: a values file under the inline values", async () => {
            const file = {
                [SIG_KEY]: ASSET_SIG,
                text: stringify({
                    projects: {
                        rogue: { destinations: [{ server: "https://kubernetes.default.svc", namespace: "*" }] },
                    },
                }),
            };
            const v = await theViolation(argocdProjectScope, [release({ ...appsInputs, valueYamlFiles: [file] })]);
            assert.match(v.message, /project "rogue" allows namespace "\*"/);
        });

        it("refuses values it cannot read, rather than pass them", async () => {
            const v = await theViolation(argocdProjectScope, [
                release({ ...appsInputs, valueYamlFiles: [{ [SIG_KEY]: ASSET_SIG, path: "projects.yaml" }] }),
            ]);
            assert.match(
                v.message,
                /valueYamlFiles\[0\] is not a text asset .* its projects cannot be checked: pass the values inline\./,
            );
        });

        it("reads the 1.x list of projects", async () => {
            const v = await theViolation(argocdProjectScope, [
                release({
                    ...appsInputs,
                    values: { projects: [{ name: "old", destinations: [{ server: "*", namespace: "old" }] }] },
                }),
            ]);
            assert.match(v.message, /project "old" allows server "\*" in values\.projects\[0\]\.destinations\[0\]/);
        });

        it("checks AppProject resources, and AppProjects in any release's extraObjects", async () => {
            const project = resource("kubernetes:argoproj.io/v1alpha1:AppProject", "team-a", {
                metadata: { name: "team-a", namespace: "argocd" },
                spec: { destinations: [{ server: "https://kubernetes.default.svc", namespace: "*" }] },
            });
            assert.match(
                (await theViolation(argocdProjectScope, [project])).message,
                /^AppProject "team-a": project "team-a" allows namespace "\*" in spec\.destinations\[0\]/,
            );
            const argoCd = resource(RELEASE, "argocd-release", {
                chart: "argo-cd",
                values: {
                    extraObjects: [
                        {
                            apiVersion: "argoproj.io/v1alpha1",
                            kind: "AppProject",
                            metadata: { name: "sneaky" },
                            spec: { clusterResourceWhitelist: [{ group: "*", kind: "*" }] },
                        },
                    ],
                },
            });
            assert.match(
                (await theViolation(argocdProjectScope, [argoCd])).message,
                /project "sneaky" allows cluster-scoped kinds \(\*\/\*\) in values\.extraObjects\[0\]\.spec/,
            );
        });

        it("passes the emptied default project patch", async () => {
            const patch = resource("kubernetes:argoproj.io/v1alpha1:AppProjectPatch", "default-project", {
                metadata: { name: "default", namespace: "argocd" },
                spec: { sourceRepos: [], destinations: [], namespaceResourceBlacklist: [{ group: "*", kind: "*" }] },
            });
            assert.deepStrictEqual(await violationsOf(argocdProjectScope, [patch]), []);
        });
    });
});
