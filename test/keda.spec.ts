import * as assert from "assert";
import { named, ofType, record, validStackConfig } from "./harness";
import { buildPlatform } from "../platform";
import { KEDA_OPERATOR, Keda } from "../components/inference";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const OIDC = {
    arn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/PLACEHOLDER",
    url: "oidc.eks.us-east-1.amazonaws.com/id/PLACEHOLDER",
};

describe("KEDA", () => {
    it("installs the pinned kedacore/keda chart with its CRDs, on the CPU nodes, once per cluster", async () => {
        for (const stack of ["dev", "prod"]) {
            const { resources } = await record(() => buildPlatform(validStackConfig(stack)));
            const releases = ofType(resources, RELEASE).filter((r) => r.inputs.chart === "keda");
            assert.strictEqual(releases.length, 1, `${stack}: one KEDA however many pipelines`);
            const release = releases[0].inputs as any;
            assert.strictEqual(release.version, "2.20.2");
            assert.deepStrictEqual(release.repositoryOpts, { repo: "https://kedacore.github.io/charts" });
            assert.strictEqual(release.namespace, "keda");
            assert.strictEqual(release.createNamespace, true);
            assert.deepStrictEqual(release.values.crds, { install: true });
            assert.deepStrictEqual(release.values.nodeSelector, { "gpu-platform/node-type": "cpu" });
        }
    });

    it("gives the operator an IRSA identity with no permissions: each pipeline's scaler role holds the SQS access", async () => {
        const { resources } = await record(() => new Keda("keda", { oidc: OIDC }));
        const role = named(resources, "aws:iam/role:Role", "keda-irsa-role");
        const trust = JSON.parse(role.inputs.assumeRolePolicy as string).Statement[0];
        assert.strictEqual(trust.Action, "sts:AssumeRoleWithWebIdentity");
        assert.strictEqual(trust.Condition.StringEquals[`${OIDC.url}:sub`], "system:serviceaccount:keda:keda-operator");
        assert.deepStrictEqual(ofType(resources, "aws:iam/rolePolicy:RolePolicy"), []);
        assert.deepStrictEqual(ofType(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"), []);

        const values = (named(resources, RELEASE, "keda-release").inputs as any).values;
        assert.deepStrictEqual(values.podIdentity, { aws: { irsa: { enabled: true, roleArn: role.outputs.arn } } });
        assert.deepStrictEqual(values.serviceAccount, {
            operator: { create: true, name: KEDA_OPERATOR.serviceAccount },
        });
    });

    it("merges a caller's values last", async () => {
        const { resources } = await record(
            () =>
                new Keda("keda", {
                    oidc: OIDC,
                    values: { operator: { replicaCount: 2 }, nodeSelector: { pool: "system" } },
                }),
        );
        const values = (named(resources, RELEASE, "keda-release").inputs as any).values;
        assert.deepStrictEqual(values.operator, { replicaCount: 2 });
        assert.deepStrictEqual(values.nodeSelector, { "gpu-platform/node-type": "cpu", pool: "system" });
        assert.strictEqual(values.podIdentity.aws.irsa.enabled, true, "the component's values stay");
    });
});
