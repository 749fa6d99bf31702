/**
 * Pod Security "restricted" in the pack (team-namespace-admission, rule gpu-platform-team-pod-security):
 * a restricted pod passes in every kind that holds a pod template, and each control of the
 * Pod Security Standards (v1.35) breaks it, one mutation per case, in containers, init containers
 * and ephemeral containers alike. Each mutation is also held against test/pod-security.ts, a
 * separate reading of the standard, so the CEL and the standard agree on what is refused.
 */
import * as assert from "assert";
import { stringify } from "yaml";
import { teamNamespaceAdmission } from "../team-admission";
import { changed, resource, violationsOf } from "./support/check";
import { restrictedViolations } from "../../test/pod-security";

const NS = "ml-research";
const RULE = "(admission rule gpu-platform-team-pod-security)";

/** A pod spec that meets "restricted": the passing case every test starts from. */
const POD = {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    initContainers: [
        {
            name: "fetch",
            image: "ghcr.io/acme/fetch:1.0",
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
    ],
    containers: [
        {
            name: "main",
            image: "ghcr.io/acme/trainer:1.0",
            ports: [{ containerPort: 8080 }],
            securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
                runAsUser: 1000,
            },
            livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
        },
    ],
    volumes: [
        { name: "data", persistentVolumeClaim: { claimName: "data" } },
        { name: "scratch", emptyDir: {} },
        { name: "config", configMap: { name: "trainer" } },
    ],
};

const meta = (name: string) => ({ name, namespace: NS });
const template = (spec = POD) => ({ metadata: { labels: { app: "x" } }, spec });

/** Every kind the repository knows to hold a pod template, with where it sits. */
const KINDS: { type: string; inputs: (spec: typeof POD) => Record<string, unknown>; path: string }[] = [
    { type: "kubernetes:core/v1:Pod", inputs: (spec) => ({ metadata: meta("p"), spec }), path: "spec" },
    ...["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"].map((kind) => ({
        type: `kubernetes:apps/v1:${kind}`,
        inputs: (spec: typeof POD) => ({ metadata: meta("w"), spec: { template: template(spec) } }),
        path: "spec.template.spec",
    })),
    {
        type: "kubernetes:batch/v1:Job",
        inputs: (spec) => ({ metadata: meta("j"), spec: { template: template(spec) } }),
        path: "spec.template.spec",
    },
    {
        type: "kubernetes:batch/v1:CronJob",
        inputs: (spec) => ({
            metadata: meta("c"),
            spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: template(spec) } } },
        }),
        path: "spec.jobTemplate.spec.template.spec",
    },
    {
        type: "kubernetes:kubeflow.org/v1:PyTorchJob",
        inputs: (spec) => ({
            metadata: meta("t"),
            spec: { pytorchReplicaSpecs: { Worker: { replicas: 2, template: template(spec) } } },
        }),
        path: "spec.pytorchReplicaSpecs.Worker.template.spec",
    },
    {
        type: "kubernetes:ray.io/v1:RayJob",
        inputs: (spec) => ({
            metadata: meta("r"),
            spec: {
                rayClusterSpec: { workerGroupSpecs: [{ groupName: "gpu", replicas: 1, template: template(spec) }] },
            },
        }),
        path: "spec.rayClusterSpec.workerGroupSpecs[0].template.spec",
    },
    {
        type: "kubernetes:keda.sh/v1alpha1:ScaledJob",
        inputs: (spec) => ({ metadata: meta("s"), spec: { jobTargetRef: { template: template(spec) } } }),
        path: "spec.jobTargetRef.template.spec",
    },
    {
        type: "kubernetes:jobset.x-k8s.io/v1alpha2:JobSet",
        inputs: (spec) => ({
            metadata: meta("js"),
            spec: { replicatedJobs: [{ name: "w", replicas: 2, template: { spec: { template: template(spec) } } }] },
        }),
        path: "spec.replicatedJobs[0].template.spec.template.spec",
    },
];

const podOf = (mutate: (pod: typeof POD) => void) => {
    const pod = structuredClone(POD);
    mutate(pod);
    return pod;
};
const deployment = (spec: typeof POD) => resource(KINDS[1].type, "w", KINDS[1].inputs(spec));
async function messages(spec: typeof POD, config: Record<string, unknown> = {}): Promise<string[]> {
    return (await violationsOf(teamNamespaceAdmission, [deployment(spec)], config)).map((v) => v.message);
}

/** One mutation per control, the words its refusal carries, and whether the independent reading refuses it too. */
const MUTATIONS: { what: string; mutate: (pod: typeof POD) => void; says: RegExp }[] = [
    {
        what: "a nfs volume",
        mutate: (p) => p.volumes.push({ name: "share", nfs: { server: "10.0.0.5", path: "/" } } as never),
        says: /volumes of types the restricted profile refuses: share \(nfs\)/,
    },
    {
        what: "a gitRepo volume",
        mutate: (p) => p.volumes.push({ name: "src", gitRepo: { repository: "x" } } as never),
        says: /src \(gitRepo\)/,
    },
    {
        what: "allowPrivilegeEscalation unset",
        mutate: (p) => delete (p.containers[0].securityContext as Record<string, unknown>).allowPrivilegeEscalation,
        says: /lets containers gain privileges: main/,
    },
    {
        what: "allowPrivilegeEscalation true on an init container",
        mutate: (p) => (p.initContainers[0].securityContext.allowPrivilegeEscalation = true),
        says: /lets containers gain privileges: fetch/,
    },
    {
        what: 'allowPrivilegeEscalation as the string "false"',
        mutate: (p) =>
            ((p.containers[0].securityContext as Record<string, unknown>).allowPrivilegeEscalation = "false"),
        says: /lets containers gain privileges: main/,
    },
    {
        what: "runAsNonRoot unset on the pod",
        mutate: (p) => delete (p.securityContext as Record<string, unknown>).runAsNonRoot,
        says: /may run as root: main, fetch/,
    },
    {
        what: "runAsNonRoot false on a container",
        mutate: (p) => ((p.containers[0].securityContext as Record<string, unknown>).runAsNonRoot = false),
        says: /may run as root: main/,
    },
    {
        what: "runAsUser 0",
        mutate: (p) => (p.containers[0].securityContext.runAsUser = 0),
        says: /runs as UID 0: main/,
    },
    {
        what: "seccomp Unconfined on a container",
        mutate: (p) =>
            ((p.containers[0].securityContext as Record<string, unknown>).seccompProfile = { type: "Unconfined" }),
        says: /no RuntimeDefault or Localhost seccomp profile: main/,
    },
    {
        what: "no seccomp profile anywhere",
        mutate: (p) => delete (p.securityContext as Record<string, unknown>).seccompProfile,
        says: /no RuntimeDefault or Localhost seccomp profile: main, fetch/,
    },
    {
        what: "capabilities not dropped",
        mutate: (p) => (p.containers[0].securityContext.capabilities.drop = []),
        says: /keeps Linux capabilities: main/,
    },
    {
        what: 'drop ["all"] in lower case (Pod Security compares exactly)',
        mutate: (p) => (p.containers[0].securityContext.capabilities.drop = ["all"]),
        says: /keeps Linux capabilities: main/,
    },
    {
        what: "SYS_ADMIN added",
        mutate: (p) => p.containers[0].securityContext.capabilities.add.push("SYS_ADMIN"),
        says: /adds capabilities beyond NET_BIND_SERVICE: main \(SYS_ADMIN\)/,
    },
    {
        what: "CAP_NET_RAW added, spelt with its prefix",
        mutate: (p) => (p.containers[0].securityContext.capabilities.add = ["CAP_NET_RAW"]),
        says: /main \(CAP_NET_RAW\)/,
    },
];

/** Baseline controls beyond host access, which test/pod-security.ts does not read: only the CEL is held to them. */
const BASELINE: { what: string; mutate: (pod: typeof POD) => void; says: RegExp }[] = [
    {
        what: "an Unconfined AppArmor profile",
        mutate: (p) =>
            ((p.containers[0].securityContext as Record<string, unknown>).appArmorProfile = { type: "Unconfined" }),
        says: /sets an unconfined AppArmor profile/,
    },
    {
        what: "a custom SELinux user",
        mutate: (p) => ((p.securityContext as Record<string, unknown>).seLinuxOptions = { user: "system_u" }),
        says: /sets custom SELinux options/,
    },
    {
        what: "an SELinux type outside the container types",
        mutate: (p) => ((p.securityContext as Record<string, unknown>).seLinuxOptions = { type: "spc_t" }),
        says: /sets custom SELinux options/,
    },
    {
        what: "an Unmasked /proc",
        mutate: (p) => ((p.containers[0].securityContext as Record<string, unknown>).procMount = "Unmasked"),
        says: /sets an unmasked \/proc mount/,
    },
    {
        what: "an unsafe sysctl",
        mutate: (p) =>
            ((p.securityContext as Record<string, unknown>).sysctls = [{ name: "kernel.msgmax", value: "1" }]),
        says: /sets sysctl kernel\.msgmax/,
    },
    {
        what: "a Windows host process",
        mutate: (p) =>
            ((p.containers[0].securityContext as Record<string, unknown>).windowsOptions = { hostProcess: true }),
        says: /sets a Windows host process/,
    },
    {
        what: "a probe aimed at another host",
        mutate: (p) =>
            (p.containers[0].livenessProbe.httpGet = { path: "/", port: 80, host: "169.254.169.254" } as never),
        says: /sets a probe or lifecycle hook aimed at another host/,
    },
];

describe("policies: Pod Security restricted for team workloads (team-namespace-admission)", () => {
    it("passes a restricted pod in every kind that holds a pod template", async () => {
        assert.deepStrictEqual(restrictedViolations(POD), [], "the fixture itself meets the standard");
        for (const kind of KINDS) {
            const found = await violationsOf(teamNamespaceAdmission, [resource(kind.type, "x", kind.inputs(POD))]);
            assert.deepStrictEqual(found, [], kind.type);
        }
    });

    it("refuses a broken pod in every kind, naming the kind, where its template sits and the rule", async () => {
        const broken = podOf((p) => delete (p.securityContext as Record<string, unknown>).seccompProfile);
        for (const kind of KINDS) {
            const found = await violationsOf(teamNamespaceAdmission, [resource(kind.type, "x", kind.inputs(broken))]);
            assert.strictEqual(found.length, 1, kind.type);
            const label = kind.type.split(":").pop()!;
            const builtIn = !kind.type.includes(".org/") && !/ray|keda|jobset/.test(kind.type);
            assert.ok(
                found[0].message.startsWith(
                    `${label} "x"${builtIn ? "" : ` (${kind.path})`} in team namespace "${NS}": `,
                ),
                found[0].message,
            );
            assert.ok(found[0].message.endsWith(RULE), found[0].message);
        }
    });

    for (const { what, mutate, says } of MUTATIONS)
        it(`refuses ${what}, as the standard does`, async () => {
            const pod = podOf(mutate);
            assert.notDeepStrictEqual(restrictedViolations(pod), [], "the independent reading refuses it too");
            const found = await messages(pod);
            assert.strictEqual(found.length, 1, found.join("\n"));
            assert.match(found[0], says);
        });

    for (const { what, mutate, says } of BASELINE)
        it(`refuses ${what} (a baseline control)`, async () => {
            const found = await messages(podOf(mutate));
            assert.strictEqual(found.length, 1, found.join("\n"));
            assert.match(found[0], says);
        });

    it("reads ephemeral containers too", async () => {
        const pod = podOf((p) =>
            Object.assign(p, { ephemeralContainers: [{ name: "debug", image: "busybox", securityContext: {} }] }),
        );
        const found = (await messages(pod)).join("\n");
        assert.match(found, /lets containers gain privileges: debug/);
        assert.match(found, /keeps Linux capabilities: debug/);
    });

    it("refuses an explicit runAsNonRoot: false on the pod even when every container says true", async () => {
        const pod = podOf((p) => {
            (p.securityContext as Record<string, unknown>).runAsNonRoot = false;
            for (const c of [...p.containers, ...p.initContainers])
                (c.securityContext as Record<string, unknown>).runAsNonRoot = true;
        });
        assert.match((await messages(pod)).join("\n"), /may run as root: the pod/);
    });

    it("takes container settings over the pod's: a container's own seccomp and runAsNonRoot suffice", async () => {
        const pod = podOf((p) => {
            p.securityContext = {} as never;
            for (const c of [...p.containers, ...p.initContainers])
                Object.assign(c.securityContext, {
                    runAsNonRoot: true,
                    seccompProfile: { type: "Localhost", localhostProfile: "p.json" },
                });
        });
        assert.deepStrictEqual(await messages(pod), []);
    });

    it("refuses an AppArmor annotation other than runtime/default or localhost/* on the template", async () => {
        const spec = POD;
        const broken = resource(KINDS[1].type, "w", {
            metadata: meta("w"),
            spec: {
                template: {
                    metadata: { annotations: { "container.apparmor.security.beta.kubernetes.io/main": "unconfined" } },
                    spec,
                },
            },
        });
        const found = await violationsOf(teamNamespaceAdmission, [broken]);
        assert.strictEqual(found.length, 1);
        assert.match(found[0].message, /unconfined AppArmor profile/);
        const fine = changed(broken, "inputs.spec.template.metadata.annotations", {
            "container.apparmor.security.beta.kubernetes.io/main": "localhost/k8s-apparmor-example",
        });
        assert.deepStrictEqual(await violationsOf(teamNamespaceAdmission, [fine]), []);
    });

    it("judges pods inside yaml/v2 ConfigGroups", async () => {
        const pod = podOf((p) => (p.containers[0].securityContext.capabilities.add = ["SYS_PTRACE"]));
        const group = resource("kubernetes:yaml/v2:ConfigGroup", "apps", {
            yaml: stringify({
                apiVersion: "batch/v1",
                kind: "Job",
                metadata: meta("j"),
                spec: { template: { spec: pod } },
            }),
        });
        const found = await violationsOf(teamNamespaceAdmission, [group]);
        assert.strictEqual(found.length, 1);
        assert.match(found[0].message, /^ConfigGroup "apps": Job "j" in team namespace/);
        assert.match(found[0].message, /SYS_PTRACE/);
    });

    it("admits net.ipv4.tcp_rmem, safe since Kubernetes 1.32 (pod-security-admission v0.32.0 check_sysctls.go), on the stack's 1.35 cluster", async () => {
        const pod = podOf((p) =>
            Object.assign(p.securityContext, { sysctls: [{ name: "net.ipv4.tcp_rmem", value: "4096 87380 6291456" }] }),
        );
        assert.deepStrictEqual(await messages(pod, { kubernetesVersion: "1.35" }), []);
        const unsafe = podOf((p) =>
            Object.assign(p.securityContext, { sysctls: [{ name: "kernel.msgmax", value: "1" }] }),
        );
        assert.match((await messages(unsafe, { kubernetesVersion: "1.35" })).join("\n"), /sets sysctl kernel\.msgmax/);
    });

    it("refuses a kubernetesVersion EKS does not offer in the policy config", async () => {
        await assert.rejects(
            messages(
                podOf(() => undefined),
                { kubernetesVersion: "1.29" },
            ),
            /team-namespace-admission.*kubernetesVersion/s,
        );
    });

    it("holds a namespace the platform set to baseline to host access only", async () => {
        const pod = podOf((p) => delete (p.securityContext as Record<string, unknown>).seccompProfile);
        assert.deepStrictEqual(await messages(pod, { baselineNamespaces: [NS] }), []);
        const hostNetwork = podOf((p) => Object.assign(p, { hostNetwork: true }));
        assert.match((await messages(hostNetwork, { baselineNamespaces: [NS] })).join("\n"), /hostNetwork/);
    });

    it("leaves the platform's own namespaces to their own rules", async () => {
        const pod = podOf((p) => delete (p.securityContext as Record<string, unknown>).seccompProfile);
        const system = resource(KINDS[1].type, "w", {
            metadata: { name: "w", namespace: "kube-system" },
            spec: { template: template(pod) },
        });
        assert.deepStrictEqual(await violationsOf(teamNamespaceAdmission, [system]), []);
    });
});
