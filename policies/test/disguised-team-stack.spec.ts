import * as assert from "assert";
import * as path from "path";
import { plan } from "@gpu-platform/plan/plan";
import type { PlanResult } from "@gpu-platform/plan/render";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * Plans test/fixtures/disguised-team-stack (dev) as a reviewer does: the program in its own
 * process against the offline engine (YAML decoded and getPolicyDocument rendered by the fake
 * cloud), then the pack with policies/config.dev.json. Each rule break is in disguise; each
 * must be reported against the resource that carries it.
 */
describe("policies on a team stack that breaks them in disguise (test/fixtures/disguised-team-stack)", function () {
    this.timeout(60_000);
    let planned: PlanResult;
    before(async () => {
        planned = await plan({
            programDir: path.join(REPO_ROOT, "test", "fixtures", "disguised-team-stack"),
            stack: "dev",
        });
    });

    it("reports each disguised break, against the resource that carries it", () => {
        const nameOf = (urn: string | null) => planned.resources.find((r) => r.urn === urn)?.name ?? "(stack)";
        const reported = planned.violations
            .filter((v) => v.level === "mandatory")
            .map((v) => `${v.policy}: ${nameOf(v.urn)}`);
        assert.deepStrictEqual(reported.sort(), [
            "ebs-encrypted: gpu-boxes", // the launch template maps no volume: the AMI's root, unencrypted
            "gpu-instance-type-allowed: gpu-boxes", // p5 in the Auto Scaling group's launch template
            "gpu-operator-install: gpu-operator", // a local chart path
            "gpu-operator-install: gpu-operator", // driver left to the chart's default (on)
            "gpu-workload-class-limit: ml-research/finetune", // "16000m" GPUs in a v1 ConfigGroup's YAML
            "gpu-workload-class-limit: pretrain", // a PyTorchJob's sidecar GPU
            "helm-release-namespaces: notebook-hub", // createNamespace
            "iam-no-admin-grants: team-admin", // iam:* on *, through getPolicyDocument
            "no-public-ingress: ssh-lower", // 0.0.0.0/1
            "no-public-ingress: ssh-upper", // 128.0.0.0/1
            "s3-default-encryption: shared-results",
            "s3-no-public-grants: shared-results-acl", // a public-read ACL resource
            "s3-public-access-blocked: shared-results", // the account block is another account's
            // Pod Security restricted, each pod template with no securityContext: privilege escalation, root, seccomp, capabilities.
            ...Array<string>(4).fill("team-namespace-admission: ml-research/finetune"),
            ...Array<string>(4).fill("team-namespace-admission: pretrain"),
        ]);
    });
});
