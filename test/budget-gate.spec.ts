/**
 * The BudgetGate component under Pulumi's mocks: RBAC to the letter of the calls the gate makes
 * (services/budget-gate/src/kube.ts: list/watch Workloads, server-side apply of workloads/status,
 * merge patch of workloads for spec.active and finalizers, get Pods and ReplicaSets, create
 * Events, get/create/update its Lease), IRSA scoped to the tracker's token secret, and the pod's
 * placement on the CPU pool, hardened.
 */
import * as assert from "assert";
import { PROJECT, configProblems, named, ofType, promiseOf, record, stackConfig, validStackConfig } from "./harness";
import { kueueSchemaErrors } from "@gpu-platform/kueue-schemas";
import type { PlatformConfig } from "../stacks";
import { buildPlatform } from "../platform";
import { buildCostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { BudgetGate, buildBudgetGateConfig } from "../components/scheduling";
import { CPU_NODE_SELECTOR, GPU_TAINT } from "@gpu-platform/catalog";

const TOKEN_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cost-tracker-api-token-AbCdEf";
const tracker = buildCostTrackerConfig({
    teams: [
        { name: "ml-research", costCenter: "CC-1001", monthlyBudgetUsd: 1000 },
        { name: "inference", costCenter: "CC-1003", monthlyBudgetUsd: 500 },
    ],
    nodePools: [{ name: "h100", instanceType: "p5.48xlarge", maxSize: 2, gpuSharing: { mode: "exclusive" } }],
});
const config = buildBudgetGateConfig({
    tracker,
    classes: [
        { name: "production-inference", value: 1000 },
        { name: "training", value: 500 },
    ],
    admissionCheck: "budget",
    namespace: "budget-gate",
});
const args = {
    image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/budget-gate:abc@sha256:0123",
    config,
    trackerUrl: "http://internal-cost-tracker-123.us-east-1.elb.amazonaws.com",
    tokenSecretArn: TOKEN_ARN,
    oidc: {
        arn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
        url: "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
    },
    region: "us-east-1",
    teamNamespaces: ["ml-research", "inference"],
};

describe("BudgetGate component", () => {
    let resources: Awaited<ReturnType<typeof record>>["resources"];
    before(async () => {
        ({ resources } = await record(() => new BudgetGate("gate", args)));
    });

    it("cluster-wide RBAC is exactly list/watch/patch Workloads, patch their status, get Pods and ReplicaSets", () => {
        const role = named(resources, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "gate-workloads");
        assert.deepStrictEqual(role.inputs.rules, [
            { apiGroups: ["kueue.x-k8s.io"], resources: ["workloads"], verbs: ["list", "watch", "patch"] },
            { apiGroups: ["kueue.x-k8s.io"], resources: ["workloads/status"], verbs: ["patch"] },
            { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
            { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get"] },
        ]);
        const binding = named(
            resources,
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
            "gate-workloads",
        );
        assert.deepStrictEqual((binding.inputs as any).subjects, [
            { kind: "ServiceAccount", name: "budget-gate", namespace: "budget-gate" },
        ]);
    });

    it("Events only in team namespaces (RoleBindings, no cluster-wide grant), its Lease only in its namespace", () => {
        // A Role in each team namespace (team namespaces admit bindings to their own Roles, not to other ClusterRoles).
        for (const team of ["inference", "ml-research"]) {
            const events = named(resources, "kubernetes:rbac.authorization.k8s.io/v1:Role", `gate-events-${team}`);
            assert.deepStrictEqual((events.inputs as any).metadata, { name: "budget-gate-events", namespace: team });
            assert.deepStrictEqual(events.inputs.rules, [
                { apiGroups: [""], resources: ["events"], verbs: ["create"] },
            ]);
        }
        const bindings = ofType(resources, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
        const eventBindings = bindings.filter((b) => (b.inputs as any).metadata.name === "budget-gate-events");
        assert.deepStrictEqual(eventBindings.map((b) => (b.inputs as any).metadata.namespace).sort(), [
            "inference",
            "ml-research",
        ]);
        for (const binding of eventBindings)
            assert.deepStrictEqual((binding.inputs as any).roleRef, {
                apiGroup: "rbac.authorization.k8s.io",
                kind: "Role",
                name: "budget-gate-events",
            });
        assert.deepStrictEqual(
            ofType(resources, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole").map((r) => r.name),
            ["gate-workloads"],
            "no cluster-wide role for Events",
        );
        const clusterBindings = ofType(resources, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding");
        assert.strictEqual(clusterBindings.length, 1, "only the workloads ClusterRole is bound cluster-wide");
        const lease = named(resources, "kubernetes:rbac.authorization.k8s.io/v1:Role", "gate-lease");
        assert.strictEqual((lease.inputs as any).metadata.namespace, "budget-gate");
        assert.deepStrictEqual(lease.inputs.rules, [
            { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
            {
                apiGroups: ["coordination.k8s.io"],
                resources: ["leases"],
                resourceNames: ["budget-gate"],
                verbs: ["get", "update"],
            },
        ]);
        // The name the RBAC allows is the name the gate's config elects on.
        assert.deepStrictEqual(config.lease, { namespace: "budget-gate", name: "budget-gate" });
    });

    it("IRSA: only the gate's service account assumes the role; it reads only the token secret", async () => {
        const policy = named(resources, "aws:iam/rolePolicy:RolePolicy", "gate-irsa-policy");
        const document = JSON.parse(await promiseOf(policy.inputs.policy as string));
        assert.deepStrictEqual(document.Statement, [
            { Sid: "ReadTrackerToken", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: TOKEN_ARN },
        ]);
        const role = named(resources, "aws:iam/role:Role", "gate-irsa-role");
        const trust = JSON.parse(await promiseOf(role.inputs.assumeRolePolicy as string));
        assert.strictEqual(
            trust.Statement[0].Condition.StringEquals["oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE:sub"],
            "system:serviceaccount:budget-gate:budget-gate",
        );
        const sa = named(resources, "kubernetes:core/v1:ServiceAccount", "gate-sa");
        assert.ok((sa.inputs as any).metadata.annotations["eks.amazonaws.com/role-arn"]);
    });

    it("the pod: on the CPU pool, no GPU toleration, non-root and read-only, probes, resources, the token by ARN only", () => {
        const deployment = named(resources, "kubernetes:apps/v1:Deployment", "gate-deployment").inputs as any;
        const pod = deployment.spec.template.spec;
        assert.deepStrictEqual(pod.nodeSelector, { ...CPU_NODE_SELECTOR });
        assert.ok(
            !(pod.tolerations ?? []).some((t: { key: string }) => t.key === GPU_TAINT.key),
            "the gate never runs on a GPU node",
        );
        assert.strictEqual(deployment.spec.replicas, 2);
        assert.deepStrictEqual(pod.securityContext, {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            seccompProfile: { type: "RuntimeDefault" },
        });
        const [container] = pod.containers;
        assert.deepStrictEqual(container.securityContext, {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        });
        assert.deepStrictEqual(
            [container.livenessProbe.httpGet.path, container.readinessProbe.httpGet.path],
            ["/healthz", "/readyz"],
        );
        assert.deepStrictEqual(container.resources, {
            requests: { cpu: "50m", memory: "128Mi" },
            limits: { memory: "256Mi" },
        });
        const env = Object.fromEntries(
            container.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [
                e.name,
                e.value ?? e.valueFrom,
            ]),
        );
        assert.strictEqual(env.COST_TRACKER_TOKEN_SECRET_ARN, TOKEN_ARN);
        assert.strictEqual(env.COST_TRACKER_TOKEN, undefined, "no token in the pod spec, only its secret's ARN");
        assert.deepStrictEqual(env.POD_NAME, { fieldRef: { fieldPath: "metadata.name" } });
        assert.deepStrictEqual(JSON.parse(env.BUDGET_GATE_CONFIG_JSON), config);
        const service = named(resources, "kubernetes:core/v1:Service", "gate-service").inputs as any;
        assert.deepStrictEqual(service.spec.ports, [{ name: "http", port: 8080, targetPort: "http" }]);
    });

    it("refuses a config the RBAC would not let run, one line per problem, before creating anything", async () => {
        const bad = {
            ...args,
            config: { ...config, lease: { namespace: "kube-system", name: "other" } },
            replicas: 0,
            teamNamespaces: ["ml-research", "nobody"],
        };
        let error: Error | undefined;
        const { resources: made } = await record(() => {
            try {
                new BudgetGate("bad", bad);
            } catch (err) {
                error = err as Error;
            }
        });
        assert.deepStrictEqual(error?.message.split("\n"), [
            "BudgetGate bad:",
            '  - config.lease.namespace: must be "budget-gate", where the gate runs and may write its Lease (found "kube-system")',
            '  - config.lease.name: must be "budget-gate", the Lease its RBAC names (found "other")',
            "  - replicas: must be a whole number from 1 to 5 (found 0)",
            "  - teamNamespaces: nobody not among the config's teams (ml-research, inference)",
        ]);
        assert.deepStrictEqual(
            made.filter((r) => r.custom),
            [],
        );
    });
});

describe("scheduling in the platform (stack key `scheduling`)", () => {
    it("the dev stack installs Kueue, the queues with the budget check, and the gate, wired to the cost tracker", async () => {
        const { result, resources } = await record(() => buildPlatform(validStackConfig("dev")));
        assert.ok(result.kueue && result.kueueQueues && result.budgetGate);
        const check = named(
            resources,
            "kubernetes:kueue.x-k8s.io/v1beta2:AdmissionCheck",
            "gpu-platform-dev-queues-admissioncheck-budget",
        ).inputs as any;
        assert.strictEqual(check.spec.controllerName, "gpu-platform.io/budget-gate");
        const deployment = named(resources, "kubernetes:apps/v1:Deployment", "gpu-platform-dev-budget-gate-deployment")
            .inputs as any;
        const env = Object.fromEntries(
            deployment.spec.template.spec.containers[0].env.map((e: { name: string; value?: unknown }) => [
                e.name,
                e.value,
            ]),
        );
        const gateConfig = JSON.parse(env.BUDGET_GATE_CONFIG_JSON as string);
        // The gate answers the check the queues name, for the stack's teams (Pulumi.dev.yaml: ml-research, applied-ml).
        assert.strictEqual(gateConfig.admissionCheck, check.metadata.name);
        assert.deepStrictEqual(gateConfig.teams, ["ml-research", "applied-ml"]);
        assert.strictEqual(env.COST_TRACKER_URL, await promiseOf(result.costTracker!.url));
        // The platform's own credential, never the admin's.
        assert.strictEqual(
            env.COST_TRACKER_TOKEN_SECRET_ARN,
            await promiseOf(result.costTracker!.callerTokenSecrets.platform.arn),
        );
    });

    it("off with scheduling.enabled: false, and with the cost tracker off", async () => {
        const off = validStackConfig("dev");
        const { result } = await record(() => buildPlatform({ ...off, scheduling: undefined }));
        assert.deepStrictEqual([result.kueue, result.budgetGate], [undefined, undefined]);
        assert.deepStrictEqual(
            configProblems("dev", (raw) => {
                raw.scheduling = { enabled: true };
                raw.costTracker = { enabled: false };
            }).filter((line) => line.startsWith("scheduling.")),
            [
                "scheduling.enabled: needs the cost tracker (costTracker.enabled): the budget gate asks it for every GPU workload",
            ],
        );
    });

    /** The dev stack with `edit` applied to its raw config, which must stay valid. */
    function devStackWith(edit: (raw: any) => void): PlatformConfig {
        const { validatePlatformConfig } = require("../stacks") as typeof import("../stacks");
        const raw = stackConfig("dev");
        edit(raw);
        const { config, problems } = validatePlatformConfig(raw, PROJECT, "dev");
        assert.deepStrictEqual(problems, []);
        return config!;
    }

    it("scheduling.teamQueues: each team's borrowing and lending limits reach its ClusterQueue, valid against Kueue v0.19.2's schema", async () => {
        const stack = devStackWith((raw) => {
            raw.teams[0].quota = { cpu: "40", memory: "320Gi", sharedGpus: 12 };
            raw.scheduling = {
                teamQueues: { "ml-research": { borrowingLimitPercent: 50, lendingLimitPercent: 25 } },
            };
        });
        const { resources } = await record(() => buildPlatform(stack));
        const queues = ofType(resources, "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue").map((r) => r.inputs as any);
        for (const queue of queues) assert.deepStrictEqual(kueueSchemaErrors(queue), [], queue.metadata.name);
        const byTeam = Object.fromEntries(queues.map((q) => [q.metadata.name, q.spec]));
        const resourcesOf = (team: string, flavor: string) =>
            byTeam[team].resourceGroups
                .flatMap((g: any) => g.flavors)
                .find((f: any) => f.name === flavor)
                .resources.filter((r: any) => r.nominalQuota !== "0");
        // 40 CPUs = 40000m: borrow 50 % = 20000m, lend 25 % = 10000m; 320 GiB = 327680 MiB: 163840 and 81920.
        assert.deepStrictEqual(resourcesOf("ml-research", "any-node"), [
            { name: "cpu", nominalQuota: "40000m", borrowingLimit: "20000m", lendingLimit: "10000m" },
            { name: "memory", nominalQuota: "327680Mi", borrowingLimit: "163840Mi", lendingLimit: "81920Mi" },
        ]);
        // 12 time-sliced shares in each pool that offers them: borrow 6, lend 3.
        for (const pool of ["gpu-dev", "a100-shared"])
            assert.deepStrictEqual(resourcesOf("ml-research", pool), [
                { name: "nvidia.com/gpu.shared", nominalQuota: "12", borrowingLimit: "6", lendingLimit: "3" },
            ]);
        // applied-ml is not named: no limits, it borrows and lends without bound.
        const appliedMl = byTeam["applied-ml"].resourceGroups.flatMap((g: any) =>
            g.flavors.flatMap((f: any) => f.resources),
        );
        assert.ok(appliedMl.length > 0);
        assert.ok(appliedMl.every((r: any) => r.borrowingLimit === undefined && r.lendingLimit === undefined));
        assert.ok(Object.values(byTeam).every((spec: any) => spec.cohortName === "gpu-platform"));
    });

    it("scheduling.teamQueues: an unknown team, a percentage out of range, a fraction, an unknown key: one line each", () => {
        // A setting of the wrong shape is reported first, as every key's are; the ranges once the shapes are right.
        assert.deepStrictEqual(
            configProblems("dev", (raw) => {
                raw.scheduling = {
                    teamQueues: {
                        "ml-research": { borrowingLimitPercent: 1500, lendingLimitPercent: 101 },
                        "applied-ml": { lendingLimitPercent: 12.5, borrowLimit: 10 },
                        finance: { borrowingLimitPercent: 10 },
                    },
                };
            }),
            [
                "scheduling.teamQueues.applied-ml.lendingLimitPercent: must be a whole number (found 12.5)",
                "scheduling.teamQueues.applied-ml.borrowLimit: is not a known key; check its spelling against Pulumi.yaml",
            ],
        );
        assert.deepStrictEqual(
            configProblems("dev", (raw) => {
                raw.scheduling = {
                    teamQueues: {
                        "ml-research": { borrowingLimitPercent: 1500, lendingLimitPercent: 101 },
                        finance: { borrowingLimitPercent: 10 },
                    },
                };
            }),
            [
                "scheduling.teamQueues.ml-research.borrowingLimitPercent: must be a whole percentage from 0 to 1000 (of the team's quota it may borrow beyond it; found 1500)",
                "scheduling.teamQueues.ml-research.lendingLimitPercent: must be a whole percentage from 0 to 100 (of the team's idle quota others may borrow; found 101)",
                "scheduling.teamQueues.finance: is not one of the stack's teams (ml-research, applied-ml)",
            ],
        );
    });

    it("bad settings: one line per problem, naming the key", () => {
        assert.deepStrictEqual(
            configProblems("dev", (raw) => {
                raw.scheduling = { breakerMode: "stop", retryAfterSeconds: 5, defaultRunHours: { nightly: 8 } };
            }),
            [
                'scheduling.breakerMode: must be "queue" or "suspend" (found "stop")',
                "scheduling.retryAfterSeconds: must be a whole number of seconds from 10 to 3600 (found 5)",
                "scheduling.defaultRunHours.nightly: is not one of the stack's priority classes (production-inference, critical-agents, training, research, development)",
            ],
        );
    });
});
