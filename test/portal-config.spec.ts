import * as assert from "assert";
import { PROJECT, stackConfig } from "./harness";
import { validatePlatformConfig } from "../stacks";

/** The dev stack's config; each test changes the portal layer's keys. */
function dev(): Record<string, any> {
    return structuredClone(stackConfig("dev"));
}
function prod(): Record<string, any> {
    return structuredClone(stackConfig("prod"));
}

function problems(raw: Record<string, unknown>, stack: string): string[] {
    return validatePlatformConfig(raw, PROJECT, stack).problems.map((p) => `${p.key}: ${p.message}`);
}

describe("portal, gitops and mlflow stack config", () => {
    it("installs nothing of the portal layer when the keys are left out", () => {
        const raw = dev();
        delete raw.portal;
        delete raw.gitops;
        delete raw.mlflow;
        assert.strictEqual(validatePlatformConfig(raw, PROJECT, "dev").config!.portalLayer, undefined);
    });

    it("gives dev one replica of each part, Argo CD's local admin, and the configured hosts' domain", () => {
        const layer = validatePlatformConfig(stackConfig("dev"), PROJECT, "dev").config!.portalLayer!;
        assert.strictEqual(layer.domain, "portal.dev.example.internal");
        assert.strictEqual(layer.highAvailability, false);
        assert.strictEqual(layer.backstage!.replicas, 1);
        assert.strictEqual(layer.mlflow!.replicas, 1);
        assert.strictEqual(layer.gitops!.adminEnabled, true);
        assert.deepStrictEqual(layer.gitops!.teams, [
            { name: "ml-research", group: "ml-research" },
            { name: "applied-ml", group: "applied-ml" },
        ]);
        assert.strictEqual(layer.gitops!.path, "apps");
        assert.strictEqual(layer.gitops!.targetRevision, "dev");
    });

    it("gives prod HA, two replicas, a Multi-AZ database of its own size, no local admin", () => {
        const layer = validatePlatformConfig(stackConfig("prod"), PROJECT, "prod").config!.portalLayer!;
        assert.strictEqual(layer.highAvailability, true);
        assert.deepStrictEqual(layer.database, {
            instanceClass: "db.t4g.small",
            allocatedStorageGiB: 20,
            backupRetentionDays: 14,
        });
        assert.strictEqual(layer.backstage!.replicas, 2);
        assert.strictEqual(layer.mlflow!.replicas, 2);
        assert.strictEqual(layer.gitops!.adminEnabled, false);
    });

    it("maps a team to the SSO group teamGroups names, and the others to their own names", () => {
        const raw = prod();
        raw.gitops.teamGroups = { inference: "inference-engineers" };
        const layer = validatePlatformConfig(raw, PROJECT, "prod").config!.portalLayer!;
        assert.deepStrictEqual(
            layer.gitops!.teams.map((t) => t.group),
            ["ml-research", "inference-engineers", "applied-ml"],
        );
    });

    it("switches each part off with enabled: false", () => {
        const raw = dev();
        raw.portal.enabled = false;
        raw.mlflow.enabled = false;
        const layer = validatePlatformConfig(raw, PROJECT, "dev").config!.portalLayer!;
        assert.strictEqual(layer.backstage, undefined);
        assert.strictEqual(layer.mlflow, undefined);
        assert.ok(layer.gitops, "Argo CD stays");
        raw.gitops.enabled = false;
        assert.strictEqual(
            validatePlatformConfig(raw, PROJECT, "dev").config!.portalLayer,
            undefined,
            "nothing on: no controller, no operator",
        );
    });

    it("requires Backstage's image in prod, and names what dev does without one", () => {
        const raw = prod();
        delete raw.portal.backstage.image;
        assert.deepStrictEqual(problems(raw, "prod"), [
            "portal.backstage.image: is required in prod: the chart's default ghcr.io/backstage/backstage:latest is a demo without the plugins the GPU templates need " +
                "(dev runs it with a warning); build the platform's image (docs/portal.md) and set it here",
        ]);
        const devRaw = dev();
        delete devRaw.portal.backstage.image;
        assert.deepStrictEqual(problems(devRaw, "dev"), []);
    });

    it("requires SSO in prod, where Argo CD's local admin is off", () => {
        const raw = prod();
        delete raw.gitops.sso;
        assert.deepStrictEqual(problems(raw, "prod"), [
            "gitops.sso: is required in prod: Argo CD's local admin is disabled there, so nobody could log in without it",
        ]);
    });

    it("reports every problem at once, each naming its key", () => {
        const raw = dev();
        raw.portal.ingress = { scheme: "internet-facing", certificateArn: "not-an-arn" };
        raw.portal.backstage.image = "ghcr.io/backstage/backstage:latest";
        raw.portal.backstage.templatesUrl = "https://github.com/acme/gpu-platform";
        raw.gitops.repoUrl = "ftp://example.com/*";
        raw.gitops.credentialsSecretArn = "arn:aws:s3:::bucket";
        raw.gitops.teamGroups = { "no-such-team": "x" };
        raw.gitops.sso = {
            provider: "dex",
            clientSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
            connectors: [{ type: "github", id: "g", name: "G", config: { clientSecret: "hunter2" } }],
        };
        raw.mlflow.replicas = 0;
        raw.teams.push({ name: "argocd", costCenter: "CC-1009", monthlyBudgetUsd: 100 });
        assert.deepStrictEqual(problems(raw, "dev").sort(), [
            'gitops.credentialsSecretArn: must be a Secrets Manager secret ARN, arn:aws:secretsmanager:<region>:<account>:secret:<name> (found "arn:aws:s3:::bucket")',
            'gitops.repoUrl: must be a Git URL (https://…, ssh://… or git@…) without wildcards (found "ftp://example.com/*")',
            "gitops.sso.connectors[0].config.clientSecret: must not be in stack config: it comes from clientSecretArn, through Secrets Manager",
            'gitops.teamGroups.no-such-team: "no-such-team" is not a team; defined teams: ml-research, applied-ml, argocd',
            "mlflow.replicas: must be at least 1 (found 0)",
            'portal.backstage.image: uses the tag "latest", which moves with every push and pins nothing; pin it by tag ("registry/repo:1.4.2") or by digest ("registry/repo@sha256:<64 hex digits>")',
            'portal.backstage.templatesUrl: must be an https URL ending in /backstage/templates/*.yaml, e.g. https://github.com/acme/gpu-platform/blob/main/backstage/templates/*.yaml (found "https://github.com/acme/gpu-platform")',
            'portal.ingress.allowedCidrs: is required with scheme "internet-facing": name the source ranges that may reach the portal (an ALB on the internet admits everyone otherwise)',
            'portal.ingress.certificateArn: must be an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id> (found "not-an-arn")',
            'teams[2].name: "argocd" is a namespace the cluster or its add-ons own (default, kube-system, kube-public, kube-node-lease, keda, gpu-operator, opencost, prometheus, cert-manager, karpenter, ' +
                "amazon-cloudwatch, argocd, backstage, mlflow, external-secrets, portal-databases, openshift, or any starting with kube-, openshift-); choose another name",
        ]);
    });

    it("needs the cost tracker for Backstage", () => {
        const raw = dev();
        raw.costTracker = { enabled: false };
        assert.deepStrictEqual(problems(raw, "dev"), [
            "portal.enabled: Backstage's templates ask the cost tracker before they deploy: keep costTracker enabled, or set portal.enabled: false",
        ]);
    });

    it("needs the portal key for Argo CD and MLflow, and Argo CD and MLflow for Backstage", () => {
        const raw = dev();
        delete raw.portal;
        assert.deepStrictEqual(problems(raw, "dev"), [
            "gitops: needs the portal key, whose domain, ingress and database settings the portal layer shares; add it (portal.enabled: false keeps Backstage off)",
            "mlflow: needs the portal key, whose domain, ingress and database settings the portal layer shares; add it (portal.enabled: false keeps Backstage off)",
        ]);
        const withoutArgo = dev();
        delete withoutArgo.gitops;
        delete withoutArgo.mlflow;
        assert.deepStrictEqual(problems(withoutArgo, "dev"), [
            "portal.enabled: Backstage's templates deliver workloads through Argo CD: configure and enable gitops, or set portal.enabled: false",
            "portal.enabled: Backstage's templates serve models from MLflow's registry: configure and enable mlflow, or set portal.enabled: false",
        ]);
    });
});
