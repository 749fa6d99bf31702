/**
 * Issue 21 item 2: Backstage's first prod run must not wait for an Argo CD token that can exist
 * only after Argo CD runs, and a later run must pick the token up. The backstage chart 2.8.2
 * renders each `backstage.extraEnvVarsSecrets` entry as an `envFrom` secretRef without
 * `optional` (templates/backstage-deployment.yaml at that tag), so a listed Secret that never
 * syncs keeps the pod from starting and the release times out. A Secrets Manager secret created
 * empty has no version; the first put makes one staged AWSCURRENT (Secrets Manager API
 * reference, ListSecretVersionIds and PutSecretValue).
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { named, record, validStackConfig } from "./harness";
import { buildPlatform } from "../platform";
import { currentSecretVersion } from "../components/portal/external-secrets";
import { FakeCloud } from "@gpu-platform/offline/fake-cloud";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const LIST_VERSIONS = "aws:secretsmanager/getSecretVersions:getSecretVersions";
const TOKEN_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gpu-platform-prod/portal/argocd-token-AbCdEf";

/** Builds prod while Secrets Manager answers ListSecretVersionIds for the Argo CD token with `versions`. */
async function prodWithTokenVersions(versions: { versionId: string; versionStages: string[] }[] | undefined) {
    const prototype = FakeCloud.prototype;
    const original = Object.getOwnPropertyDescriptor(prototype, "call")!;
    const asked: unknown[] = [];
    const warnings: string[] = [];
    const warn = pulumi.log.warn;
    (pulumi.log as any).warn = (message: string) => warnings.push(message);
    prototype.call = function (this: FakeCloud, args) {
        if (args.token !== LIST_VERSIONS) return (original.value as FakeCloud["call"]).call(this, args);
        asked.push(args.inputs.secretId);
        return versions === undefined ? {} : { versions };
    };
    try {
        const { resources } = await record(() => buildPlatform(validStackConfig("prod")));
        const values = (named(resources, RELEASE, "gpu-platform-prod-backstage-release").inputs as any).values;
        const externalSecret = resources.find(
            (r) => r.type.endsWith(":ExternalSecret") && (r.inputs as any).metadata.name === "backstage-argocd",
        )!;
        const tokenWarnings = warnings.filter((w) => w.includes("Argo CD token"));
        return { values, externalSecret: externalSecret.inputs as any, asked, tokenWarnings };
    } finally {
        (pulumi.log as any).warn = warn;
        Object.defineProperty(prototype, "call", original);
    }
}

describe("Backstage and the Argo CD token", function () {
    // Each builds whole platforms; the machine may be shared.
    this.timeout(120_000);
    it("starts on the first run, before the token has a value: no required Secret that cannot sync yet", async () => {
        const { values, externalSecret, asked, tokenWarnings } = await prodWithTokenVersions(undefined);
        assert.strictEqual(tokenWarnings.length, 1, "says what to do next");
        assert.match(tokenWarnings[0], /run pulumi up again/);
        assert.deepStrictEqual(asked, [TOKEN_ARN], "it asks Secrets Manager about the configured token");
        assert.ok(!values.backstage.extraEnvVarsSecrets.includes("backstage-argocd"), "not a required envFrom");
        assert.ok(!JSON.stringify(values).includes("ARGOCD_AUTH_TOKEN"), "app-config does not read it either");
        assert.strictEqual(values.backstage.podAnnotations, undefined);
        // The ExternalSecret is there already, so the token syncs as soon as it is put.
        assert.strictEqual(externalSecret.metadata.annotations["force-sync"], "none");
    });

    it("picks the token up on a later run, and rolls the pods when it changes", async () => {
        const later = await prodWithTokenVersions([
            { versionId: "a1b2c3d4-0000-4000-8000-000000000002", versionStages: ["AWSCURRENT"] },
            { versionId: "a1b2c3d4-0000-4000-8000-000000000001", versionStages: ["AWSPREVIOUS"] },
        ]);
        assert.ok(later.values.backstage.extraEnvVarsSecrets.includes("backstage-argocd"));
        assert.deepStrictEqual(later.tokenWarnings, []);
        assert.deepStrictEqual(later.values.backstage.appConfig.proxy.endpoints["/argocd"].headers, {
            Cookie: "argocd.token=${ARGOCD_AUTH_TOKEN}",
        });
        assert.deepStrictEqual(later.values.backstage.podAnnotations, {
            "gpu-platform/argocd-token-version": "a1b2c3d4-0000-4000-8000-000000000002",
        });
        // A changed annotation makes ESO re-read at once (external-secrets.io FAQ), before the new pods start.
        assert.strictEqual(
            later.externalSecret.metadata.annotations["force-sync"],
            "a1b2c3d4-0000-4000-8000-000000000002",
        );
    });

    it("reads the version readers get: AWSCURRENT, not a pending or previous one", () => {
        assert.strictEqual(currentSecretVersion(undefined), undefined);
        assert.strictEqual(currentSecretVersion([]), undefined);
        assert.strictEqual(currentSecretVersion([{ versionId: "p", versionStages: ["AWSPENDING"] }]), undefined);
        assert.strictEqual(
            currentSecretVersion([
                { versionId: "old", versionStages: ["AWSPREVIOUS"] },
                { versionId: "new", versionStages: ["AWSPENDING", "AWSCURRENT"] },
            ]),
            "new",
        );
    });
});
