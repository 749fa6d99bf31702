import * as assert from "assert";
import { helmReleaseNamespaces, teamNamespaceLabel } from "../namespaces";
import { resource, theViolation, violationsOf } from "./support/check";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const namespace = (
    labels: Record<string, string> = { "gpu-platform/team": "ml-research" },
    name = "batch-embeddings",
) => resource(NAMESPACE, name, { metadata: { name, labels } });
/** The dev stack's teams (Pulumi.dev.yaml). */
const devTeams = { teams: ["ml-research", "applied-ml"] };

describe("policies: team namespaces", () => {
    describe("team-namespace-label", () => {
        it("passes a namespace labeled with its team, and system namespaces without one", async () => {
            assert.deepStrictEqual(
                await violationsOf(teamNamespaceLabel, [namespace(), namespace({}, "keda")], devTeams),
                [],
            );
        });

        it("reports a team namespace without the team label", async () => {
            const v = await theViolation(teamNamespaceLabel, [
                namespace({ "pod-security.kubernetes.io/enforce": "restricted" }),
            ]);
            assert.strictEqual(
                v.message,
                'namespace "batch-embeddings" has no gpu-platform/team label; set metadata.labels["gpu-platform/team"] to the owning team\'s name.',
            );
        });

        it("reports a team name that is not a DNS label", async () => {
            assert.match(
                (await theViolation(teamNamespaceLabel, [namespace({ "gpu-platform/team": "ML Research" })])).message,
                /has gpu-platform\/team: "ML Research", which does not match/,
            );
        });

        it("reports a team label that names no team of the stack, listing its teams", async () => {
            const v = await theViolation(
                teamNamespaceLabel,
                [namespace({ "gpu-platform/team": "ml-reseach" })],
                devTeams,
            );
            assert.strictEqual(
                v.message,
                'namespace "batch-embeddings" has gpu-platform/team: "ml-reseach", which names no team of this stack; set metadata.labels["gpu-platform/team"] to the owning team\'s name (ml-research and applied-ml).',
            );
        });

        for (const name of ["kube-ml", "openshift-gpu", "kube-system", "default"]) {
            it(`reports a team namespace named ${name}, which the cluster owns or reserves`, async () => {
                const v = await theViolation(teamNamespaceLabel, [namespace(undefined, name)], devTeams);
                assert.match(
                    v.message,
                    new RegExp(
                        `^namespace "${name}" takes a name the cluster owns or reserves \\(.*\\) and claims it for team "ml-research"; name the namespace after its team instead\\.$`,
                    ),
                );
            });
        }

        it("reports a team label on the platform's own namespace", async () => {
            const v = await theViolation(teamNamespaceLabel, [namespace(undefined, "gpu-operator")], devTeams);
            assert.match(
                v.message,
                /^namespace "gpu-operator" is the platform's own namespace but carries gpu-platform\/team: "ml-research"/,
            );
        });

        it("judges a NamespacePatch on the labels it sets: Pod Security labels on kube-system pass, a team claim does not", async () => {
            const patch = (labels: Record<string, string>) =>
                resource("kubernetes:core/v1:NamespacePatch", "kube-system-labels", {
                    metadata: { name: "kube-system", labels },
                });
            assert.deepStrictEqual(
                await violationsOf(
                    teamNamespaceLabel,
                    [patch({ "pod-security.kubernetes.io/enforce": "privileged" })],
                    devTeams,
                ),
                [],
            );
            const v = await theViolation(teamNamespaceLabel, [patch({ "gpu-platform/team": "ml-research" })], devTeams);
            assert.match(
                v.message,
                /^namespace "kube-system" takes a name the cluster owns or reserves \(the cluster owns it\) and claims it/,
            );
        });

        it("reads Namespace objects in a yaml/v2 ConfigGroup", async () => {
            const group = resource("kubernetes:yaml/v2:ConfigGroup", "team-setup", {
                objs: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-scratch" } }],
            });
            const v = await theViolation(teamNamespaceLabel, [group], devTeams);
            assert.match(
                v.message,
                /^ConfigGroup "team-setup": Namespace "kube-scratch" \(namespace "kube-scratch"\) takes a name the cluster owns or reserves \(the prefix kube- is reserved/,
            );
        });
    });

    describe("helm-release-namespaces", () => {
        const RELEASE = "kubernetes:helm.sh/v3:Release";
        const release = (inputs: Record<string, unknown>) =>
            resource(RELEASE, "notebooks", { chart: "jupyterhub", namespace: "ml-research", ...inputs });

        it("passes a release into a namespace the stack creates, and add-ons creating their own namespaces", async () => {
            const keda = resource(RELEASE, "keda", { chart: "keda", namespace: "keda", createNamespace: true });
            assert.deepStrictEqual(
                await violationsOf(helmReleaseNamespaces, [
                    namespace(undefined, "ml-research"),
                    release({ createNamespace: true }),
                    keda,
                    release({}),
                ]),
                [],
            );
        });

        it("reports a release that creates a team namespace, unlabeled", async () => {
            const v = await theViolation(helmReleaseNamespaces, [release({ createNamespace: true })]);
            assert.strictEqual(v.urn, release({}).urn);
            assert.match(
                v.message,
                /^Helm release "notebooks" sets createNamespace, creating namespace "ml-research" without the gpu-platform\/team label; create the namespace as a kubernetes\.core\.v1\.Namespace/,
            );
        });

        it("reports a release that creates a reserved namespace", async () => {
            const v = await theViolation(helmReleaseNamespaces, [
                release({ createNamespace: "true", namespace: "kube-tools" }),
            ]);
            assert.match(
                v.message,
                /creating namespace "kube-tools", a name the cluster reserves \(the prefix kube- is reserved for system namespaces\)/,
            );
        });
    });
});
