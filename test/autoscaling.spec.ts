/**
 * What Cluster Autoscaler sees of the GPU pools. Where the behaviour is the autoscaler's, the
 * specs assert the setting that works and name the source (kubernetes/autoscaler 1.35.2).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { named, ofType, record, validStackConfig } from "./harness";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { buildPlatform } from "../platform";

const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const STARTUP_TAINT = "startup-taint.cluster-autoscaler.kubernetes.io/gpu-config";
const DAEMONSET = "kubernetes:apps/v1:DaemonSet";

describe("Cluster Autoscaler and the GPU pools (prod config)", () => {
    let resources: RecordedResource[];
    before(async () => {
        ({ resources } = await record(() => buildPlatform(validStackConfig("prod"))));
    });

    it("registers time-sliced and MIG nodes with a startup taint the autoscaler counts as still starting; whole-GPU nodes carry the accelerator label instead", () => {
        const taints = (pool: string) =>
            (named(resources, NODE_GROUP, `${pool}-group`).inputs.taints as any[]).map(
                (t) => `${t.key}=${t.value}:${t.effect}`,
            );
        const startup = `${STARTUP_TAINT}=pending:NO_SCHEDULE`;
        assert.deepStrictEqual(taints("a100-mig"), ["nvidia.com/gpu=true:NO_SCHEDULE", startup]);
        assert.deepStrictEqual(taints("a100-shared"), ["nvidia.com/gpu=true:NO_SCHEDULE", startup]);
        assert.deepStrictEqual(taints("h100"), ["nvidia.com/gpu=true:NO_SCHEDULE"]);
        // The key fits EKS's 63-character limit on taint keys (EKS API Taint.key).
        assert.ok(STARTUP_TAINT.length <= 63);
        // Pods need not tolerate it (the autoscaler drops startup taints from its templates), so no ASG tag names it.
        const tagKeys = ofType(resources, "aws:autoscaling/tag:Tag").map((t) => (t.inputs.tag as any).key as string);
        assert.ok(tagKeys.length > 0 && !tagKeys.some((key) => key.includes(STARTUP_TAINT)));
    });

    it("gives a configuring node 30 minutes to start before the autoscaler counts it unready", () => {
        const release = named(resources, "kubernetes:helm.sh/v3:Release", "gpu-platform-prod-autoscaler-release")
            .inputs as any;
        // flags.go l.128: max-node-startup-time, default 15m; a p4de may reboot for MIG mode.
        assert.strictEqual(release.values.extraArgs["max-node-startup-time"], "30m");
        assert.strictEqual(release.values.extraArgs["max-node-provision-time"], "20m");
    });

    it("removes the startup taint once a node offers its whole layout: one gate DaemonSet per time-sliced or MIG pool", () => {
        const gates = Object.fromEntries(
            ofType(resources, DAEMONSET).map((d) => [
                (d.inputs.metadata as any).name,
                (d.inputs as any).spec.template.spec,
            ]),
        );
        assert.deepStrictEqual(Object.keys(gates).sort(), ["gpu-config-gate-a100-mig", "gpu-config-gate-a100-shared"]);
        const mig = gates["gpu-config-gate-a100-mig"];
        assert.deepStrictEqual(mig.nodeSelector, { "gpu-platform/pool": "a100-mig" });
        assert.deepStrictEqual(
            mig.tolerations.map((t: any) => t.key),
            ["nvidia.com/gpu", STARTUP_TAINT],
        );
        // Hold (again, after a reboot), wait for each slice at its full count (8 GPUs × {1, 1, 2}), release.
        assert.deepStrictEqual(
            mig.initContainers.map((c: any) => c.args.join(" ")),
            [
                `taint node $(NODE_NAME) ${STARTUP_TAINT}=pending:NoSchedule --overwrite`,
                "wait node/$(NODE_NAME) --for=jsonpath={.status.allocatable.nvidia\\.com/mig-3g\\.40gb}=8 --timeout=-1s",
                "wait node/$(NODE_NAME) --for=jsonpath={.status.allocatable.nvidia\\.com/mig-2g\\.20gb}=8 --timeout=-1s",
                "wait node/$(NODE_NAME) --for=jsonpath={.status.allocatable.nvidia\\.com/mig-1g\\.10gb}=16 --timeout=-1s",
                `taint node $(NODE_NAME) ${STARTUP_TAINT}:NoSchedule-`,
            ],
        );
        assert.ok(
            mig.initContainers.every(
                (c: any) =>
                    c.command.join(" ") === "/bin/kubectl" && c.image.startsWith("registry.k8s.io/kubectl:v1.35."),
            ),
        );
        // 8 A100s × 3 replicas = 24 shared GPUs.
        assert.match(
            gates["gpu-config-gate-a100-shared"].initContainers[1].args[2],
            /nvidia\\\.com\/gpu\\\.shared}=24$/,
        );
        const role = ofType(resources, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole").find(
            (r) => (r.inputs.metadata as any).name === "gpu-platform:gpu-config-gate",
        )!;
        assert.deepStrictEqual((role.inputs as any).rules, [
            { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch", "patch"] },
        ]);
    });

    it("lets the node monitoring agent's DCGM server onto tainted GPU nodes, so auto repair sees GPU failures", () => {
        const agent = named(resources, "aws:eks/addon:Addon", "gpu-platform-prod-addons-node-monitoring-agent")
            .inputs as any;
        assert.strictEqual(agent.addonName, "eks-node-monitoring-agent");
        // Chart v1.7.0: dcgmAgent.tolerations defaults to [], so without these it would never run where the GPUs are.
        assert.deepStrictEqual(JSON.parse(agent.configurationValues), {
            dcgmAgent: {
                tolerations: [
                    { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
                    { key: STARTUP_TAINT, operator: "Exists", effect: "NoSchedule" },
                ],
            },
        });
        for (const group of ofType(resources, NODE_GROUP))
            assert.deepStrictEqual(group.inputs.nodeRepairConfig, { enabled: true }, group.name);
    });

    it("sets only keys the node monitoring agent add-on's configuration schema accepts (EKS refuses the add-on otherwise)", () => {
        // The add-on's schema, as `aws eks describe-addon-configuration --addon-name eks-node-monitoring-agent`
        // serves it: aws/eks-node-monitoring-agent v1.7.0 charts/configuration.schema.json (every key closed,
        // additionalProperties false; DCGMAgent has tolerations since the repository's first tag, v1.6.0).
        const schema = JSON.parse(
            fs.readFileSync(
                path.join(__dirname, "fixtures/addons/eks-node-monitoring-agent-v1.7.0.configuration.schema.json"),
                "utf8",
            ),
        ) as object;
        const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
        const agent = named(resources, "aws:eks/addon:Addon", "gpu-platform-prod-addons-node-monitoring-agent")
            .inputs as any;
        assert.ok(validate(JSON.parse(agent.configurationValues)), JSON.stringify(validate.errors));
        // The schema is closed: a key it does not list fails, as EKS fails it (aws/eks-node-monitoring-agent#241).
        assert.strictEqual(validate({ dcgmAgent: { runtimeClassName: "nvidia" } }), false);
    });
});

describe("Cluster Autoscaler (dev config)", () => {
    it("gates the dev pools too: both time-slice their GPUs", async () => {
        const { resources } = await record(() => buildPlatform(validStackConfig("dev")));
        const names = ofType(resources, DAEMONSET)
            .map((d) => (d.inputs.metadata as any).name)
            .sort();
        assert.deepStrictEqual(names, ["gpu-config-gate-a100-shared", "gpu-config-gate-gpu-dev"]);
        // One A10G × 3 replicas.
        const devGate = ofType(resources, DAEMONSET).find(
            (d) => (d.inputs.metadata as any).name === "gpu-config-gate-gpu-dev",
        )!;
        assert.match((devGate.inputs as any).spec.template.spec.initContainers[1].args[2], /gpu\\\.shared}=3$/);
    });
});
