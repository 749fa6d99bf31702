/**
 * Where a Kubernetes object without `metadata.namespace` lands, and every pack rule that judges
 * objects by namespace reading it the same way. @pulumi/kubernetes 4.x provider.d.ts,
 * ProviderArgs.namespace: "1. `.metadata.namespace` set on the resource. 2. This `namespace`
 * parameter. 3. `namespace` set for the active context in the kubeconfig"; a Helm release with no
 * namespace takes the provider's too (pulumi-kubernetes provider/pkg/provider/helm_release.go).
 * The kubeconfig is not something a preview shows the pack, so an object with neither is judged
 * as one in a team namespace, never skipped.
 */
import * as assert from "assert";
import { gpuWorkloadTeamQuota } from "../gpu-team-quota";
import { helmReleaseNamespaces } from "../namespaces";
import { teamNamespaceAdmission } from "../team-admission";
import { objectNamespace, resolveNamespace } from "../lib/object-namespace";
import { UNKNOWN } from "../lib/values";
import type { PlanResource } from "../runner";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const TEAM = "ml-research";
const FIX = /set metadata\.namespace on the object, or namespace on its Kubernetes provider/;

const provider = (name: string, inputs: Record<string, unknown>) =>
    resource("pulumi:providers:kubernetes", name, inputs);
const teamProvider = provider("team", { namespace: TEAM });
const systemProvider = provider("system", { namespace: "kube-system" });
const bareProvider = provider("bare", { kubeconfig: "~/.kube/config" });
const through = (p: PlanResource) => ({ provider: `${p.urn}::${p.name}-id` });
const PROVIDERS = [teamProvider, systemProvider, bareProvider];

/** A ClusterIP Service with no namespace of its own, made through provider `p` (or the default one). */
const service = (p?: PlanResource) =>
    resource(
        "kubernetes:core/v1:Service",
        "api",
        { metadata: { name: "api" }, spec: { selector: { app: "api" }, ports: [{ port: 80 }] } },
        p ? through(p) : {},
    );
const loadBalancer = (p?: PlanResource) => changed(service(p), "inputs.spec.type", "LoadBalancer");

const admissionMessages = async (resources: PlanResource[]) =>
    (await violationsOf(teamNamespaceAdmission, [...PROVIDERS, ...resources])).map((v) => v.message);

describe("policies: the namespace an object lands in", () => {
    describe("resolveNamespace / objectNamespace (the provider's documented precedence)", () => {
        it("takes metadata.namespace first, then the provider's namespace, else leaves it unresolved", () => {
            assert.deepStrictEqual(resolveNamespace("a", { namespace: "b" }), {
                state: "known",
                name: "a",
                from: "metadata.namespace",
            });
            assert.deepStrictEqual(resolveNamespace(undefined, { namespace: "b" }), {
                state: "known",
                name: "b",
                from: "provider",
            });
            assert.deepStrictEqual(resolveNamespace("", { namespace: "b" }), {
                state: "known",
                name: "b",
                from: "provider",
            });
            assert.deepStrictEqual(resolveNamespace(undefined, { kubeconfig: "x" }), { state: "unresolved" });
            assert.deepStrictEqual(resolveNamespace(undefined, undefined), { state: "unresolved" });
        });

        it("waits for the update when either value is computed", () => {
            assert.deepStrictEqual(resolveNamespace(UNKNOWN, { namespace: "b" }), { state: "pending" });
            assert.deepStrictEqual(resolveNamespace(undefined, { namespace: UNKNOWN }), { state: "pending" });
        });

        it("gives cluster-scoped kinds no namespace, whatever the provider says", () => {
            const provider = { namespace: TEAM };
            const roleType = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
            assert.deepStrictEqual(objectNamespace(roleType, "ClusterRole", {}, provider), { state: "cluster-scoped" });
            const generator = { apiVersion: "generators.external-secrets.io/v1alpha1", kind: "ClusterGenerator" };
            assert.deepStrictEqual(
                objectNamespace("kubernetes:yaml/v2:ConfigGroup", "ClusterGenerator", generator, provider),
                {
                    state: "cluster-scoped",
                },
            );
            const role = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role" };
            assert.strictEqual(
                objectNamespace("kubernetes:yaml/v2:ConfigGroup", "Role", role, provider).state,
                "known",
            );
        });
    });

    describe("team-namespace-admission", () => {
        it("passes a ClusterIP Service through a team's provider, and a LoadBalancer through a system namespace's", async () => {
            assert.deepStrictEqual(await admissionMessages([service(teamProvider), loadBalancer(systemProvider)]), []);
        });

        it("refuses a LoadBalancer Service whose provider puts it in a team namespace", async () => {
            const [message, ...rest] = await admissionMessages([loadBalancer(teamProvider)]);
            assert.deepStrictEqual(rest, []);
            assert.match(
                message,
                /^Service "api" in team namespace "ml-research" \(its provider's namespace\): .*LoadBalancer/,
            );
        });

        it("judges an object with no namespace through a provider without one as in a team namespace, naming the fix", async () => {
            const [message, ...rest] = await admissionMessages([loadBalancer(bareProvider)]);
            assert.deepStrictEqual(rest, []);
            assert.match(message, /^Service "api" in no namespace the pack can see \(judged as a team namespace; /);
            assert.match(message, FIX);
            assert.match(message, /LoadBalancer/);
        });

        it("does the same for an object made through the default provider", async () => {
            const [message] = await admissionMessages([loadBalancer()]);
            assert.match(message, FIX);
        });

        it("lets metadata.namespace win over the provider's, either way", async () => {
            const intoSystem = changed(loadBalancer(teamProvider), "inputs.metadata.namespace", "kube-system");
            assert.deepStrictEqual(await admissionMessages([intoSystem]), []);
            const intoTeam = changed(loadBalancer(systemProvider), "inputs.metadata.namespace", TEAM);
            assert.match((await admissionMessages([intoTeam]))[0], /in team namespace "ml-research": /);
        });

        it("judges pod templates with no namespace too: a privileged Deployment through a provider without one", async () => {
            const deployment = resource(
                "kubernetes:apps/v1:Deployment",
                "trainer",
                {
                    metadata: { name: "trainer" },
                    spec: {
                        template: {
                            spec: { containers: [{ name: "c", image: "i", securityContext: { privileged: true } }] },
                        },
                    },
                },
                through(bareProvider),
            );
            const messages = await admissionMessages([deployment]);
            assert.ok(messages.length > 0);
            for (const m of messages) assert.match(m, FIX);
            assert.ok(
                messages.some((m) => /privileged/.test(m)),
                messages.join("\n"),
            );
        });

        it("refuses a namespaced External Secrets generator with no namespace, and leaves the cluster-scoped ClusterGenerator to other rules", async () => {
            const generator = (kind: string) =>
                resource("kubernetes:yaml/v2:ConfigGroup", `g-${kind}`, {
                    objs: [
                        {
                            apiVersion: "generators.external-secrets.io/v1alpha1",
                            kind,
                            metadata: { name: "g" },
                            spec: {},
                        },
                    ],
                });
            const [message, ...rest] = await admissionMessages([generator("Password")]);
            assert.deepStrictEqual(rest, []);
            assert.match(message, /Password "g" in no namespace the pack can see .*generator/);
            assert.deepStrictEqual(await admissionMessages([generator("ClusterGenerator")]), []);
        });

        it("leaves an object whose provider's namespace is computed to the update, as it does any computed value", async () => {
            const pending = provider("pending", { namespace: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" });
            assert.deepStrictEqual(await violationsOf(teamNamespaceAdmission, [pending, loadBalancer(pending)]), []);
        });
    });

    describe("gpu-workload-team-quota", () => {
        const quota = { teamGpuQuotas: { [TEAM]: { "nvidia.com/gpu": 4 } } };
        /** A Deployment of `replicas` pods of 1 GPU each, no namespace of its own. */
        const gpus = (replicas: number, p?: PlanResource) =>
            resource(
                "kubernetes:apps/v1:Deployment",
                "train",
                {
                    metadata: { name: "train" },
                    spec: {
                        replicas,
                        template: {
                            spec: {
                                containers: [
                                    { name: "c", image: "i", resources: { limits: { "nvidia.com/gpu": "1" } } },
                                ],
                            },
                        },
                    },
                },
                p ? through(p) : {},
            );

        it("passes 4 GPUs through the team's provider, within its quota of 4", async () => {
            assert.deepStrictEqual(
                await violationsOf(gpuWorkloadTeamQuota, [...PROVIDERS, gpus(4, teamProvider)], quota),
                [],
            );
        });

        it("counts a workload in the provider's team namespace against that team's quota: 5 > 4", async () => {
            const v = await theViolation(gpuWorkloadTeamQuota, [...PROVIDERS, gpus(5, teamProvider)], quota);
            assert.match(v.message, /^team namespace "ml-research" asks for up to 5 nvidia\.com\/gpu at once/);
        });

        it("counts the provider's namespace for autoscalers too: an HPA of max 6 through the same provider, 6 > 4", async () => {
            const hpa = resource(
                "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
                "train-hpa",
                {
                    metadata: { name: "train-hpa" },
                    spec: { scaleTargetRef: { kind: "Deployment", name: "train" }, maxReplicas: 6 },
                },
                through(teamProvider),
            );
            const v = await theViolation(gpuWorkloadTeamQuota, [...PROVIDERS, gpus(1, teamProvider), hpa], quota);
            assert.match(v.message, /asks for up to 6 nvidia\.com\/gpu/);
        });

        it("refuses a GPU workload whose namespace neither it nor its provider names, in a stack with team quotas", async () => {
            const v = await theViolation(gpuWorkloadTeamQuota, [...PROVIDERS, gpus(1, bareProvider)], quota);
            assert.match(v.message, /^Deployment "train" asks for GPUs in no namespace the pack can see/);
            assert.match(v.message, FIX);
        });
    });

    describe("helm-release-namespaces", () => {
        const release = (p?: PlanResource) =>
            resource(
                "kubernetes:helm.sh/v3:Release",
                "notebooks",
                { chart: "jupyterhub", createNamespace: true },
                p ? through(p) : {},
            );

        it("passes a release that creates the cluster's own namespace through its provider", async () => {
            assert.deepStrictEqual(
                await violationsOf(helmReleaseNamespaces, [...PROVIDERS, release(systemProvider)]),
                [],
            );
        });

        it("reports a release that creates its provider's team namespace, unlabelled", async () => {
            const v = await theViolation(helmReleaseNamespaces, [...PROVIDERS, release(teamProvider)]);
            assert.match(v.message, /creating namespace "ml-research" without the gpu-platform\/team label/);
        });

        it("reports a release that creates a namespace no one names", async () => {
            const v = await theViolation(helmReleaseNamespaces, [...PROVIDERS, release(bareProvider)]);
            assert.match(v.message, /creating no namespace the pack can see/);
            assert.match(v.message, FIX);
        });
    });
});
