import * as assert from "assert";
import { FakeCloud } from "@gpu-platform/offline/fake-cloud";

describe("fake cloud", () => {
    it("renders aws.iam.getPolicyDocument as the AWS provider does, so such policies are checked like literal ones", () => {
        const result = new FakeCloud().call({
            token: "aws:iam/getPolicyDocument:getPolicyDocument",
            inputs: {
                statements: [
                    { actions: ["s3:GetObject"], resources: ["arn:aws:s3:::data/*", "arn:aws:s3:::data"] },
                    {
                        sid: "AssumeFromAnyone",
                        effect: "Allow",
                        actions: ["sts:AssumeRole"],
                        principals: [{ type: "AWS", identifiers: ["*"] }],
                        conditions: [{ test: "StringEquals", variable: "aws:PrincipalOrgID", values: ["o-123"] }],
                    },
                    {
                        effect: "Deny",
                        notActions: ["iam:*"],
                        resources: ["*"],
                        principals: [{ type: "*", identifiers: ["*"] }],
                    },
                ],
            },
        });
        // Written by hand from the provider's documented rendering: one-item lists become strings.
        assert.deepStrictEqual(JSON.parse(String(result.json)), {
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Action: "s3:GetObject", Resource: ["arn:aws:s3:::data/*", "arn:aws:s3:::data"] },
                {
                    Sid: "AssumeFromAnyone",
                    Effect: "Allow",
                    Action: "sts:AssumeRole",
                    Principal: { AWS: "*" },
                    Condition: { StringEquals: { "aws:PrincipalOrgID": "o-123" } },
                },
                { Effect: "Deny", NotAction: "iam:*", Resource: "*", Principal: "*" },
            ],
        });
        assert.deepStrictEqual(JSON.parse(String(result.minifiedJson)), JSON.parse(String(result.json)));
    });

    it("decodes YAML for yaml.ConfigFile and ConfigGroup (v1) as the Kubernetes provider does: one object per document, empty ones left out", () => {
        const text =
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: b}\n";
        const { result } = new FakeCloud().call({ token: "kubernetes:yaml:decode", inputs: { text } });
        assert.deepStrictEqual(result, [
            { apiVersion: "v1", kind: "Namespace", metadata: { name: "a" } },
            { apiVersion: "batch/v1", kind: "Job", metadata: { name: "b" } },
        ]);
        assert.throws(
            () => new FakeCloud().call({ token: "kubernetes:yaml:decode", inputs: { text: "kind: [unclosed" } }),
            /^Error: yaml: /,
        );
    });
});
