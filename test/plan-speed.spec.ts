import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import type { AdmissionRule } from "@gpu-platform/catalog/admission";
import { evaluate, AdmissionRequest } from "gpu-dev-platform-policies/lib/admission";
import { resourcePolicy } from "gpu-dev-platform-policies/lib/define";
import { Props } from "gpu-dev-platform-policies/lib/values";
import { REPO_ROOT, record, validStackConfig } from "./harness";
import { buildPlatform } from "../platform";
import { PolicyRun, Violation, parsePackConfig, runPolicies } from "gpu-dev-platform-policies/runner";
import type { RecordedResource } from "@gpu-platform/offline/recorder";

/** What the offline plan does to be fast must not change what a program or a check sees (docs/plan-speed.md). */
describe("plan speed: what the shortcuts keep", function () {
    this.timeout(120_000);

    it("a program that touches the SDK's Automation API gets the real module, though the plan loads it late", async () => {
        const stdout = await new Promise<string>((resolve, reject) =>
            execFile(
                process.execPath,
                [
                    path.join(REPO_ROOT, "tools/plan/bin.js"),
                    "--program",
                    path.join(REPO_ROOT, "test/fixtures/automation-stack"),
                    "--stack",
                    "dev",
                    "--json",
                ],
                { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
                (error, out, err) => (error && error.code !== 1 ? reject(new Error(err)) : resolve(out)),
            ),
        );
        const outputs = (JSON.parse(stdout) as { outputs: Record<string, unknown> }).outputs;
        // fullyQualifiedStackName joins org/project/stack (@pulumi/pulumi automation/stack.d.ts).
        assert.deepStrictEqual(outputs, {
            bucketName: "reports",
            stackName: "acme/vision/dev",
            workspaceKind: "function",
            automationKeys: true,
        });
    });

    it("provider namespaces and function serialization's package normalizer load on first use, and work", async () => {
        // Run as the plan runs a program: under its preload, in a folder of a team's project.
        const script = [
            "const pulumi = require('@pulumi/pulumi');",
            "const aws = require('@pulumi/aws');",
            "const loaded = (file) => Object.keys(require.cache).some((k) => k.includes(file));",
            "const before = { ec2: loaded('@pulumi/aws/ec2/index.js'), normalizer: loaded('normalize-package-data') };",
            "const vpc = typeof aws.ec2.Vpc, listed = Object.keys(aws.ec2).includes('Vpc');",
            "pulumi.runtime.computeCodePaths().then((paths) => console.log(JSON.stringify({ before, vpc, listed,",
            "  after: { ec2: loaded('@pulumi/aws/ec2/index.js'), normalizer: loaded('normalize-package-data') },",
            "  paths: paths instanceof Map })));",
        ].join("\n");
        const stdout = await new Promise<string>((resolve, reject) =>
            execFile(
                process.execPath,
                ["-r", path.join(REPO_ROOT, "tools/plan/program-host.js"), "-e", script],
                { cwd: path.join(REPO_ROOT, "test/fixtures/automation-stack") },
                (error, out, err) => (error ? reject(new Error(err)) : resolve(out)),
            ),
        );
        assert.deepStrictEqual(JSON.parse(stdout), {
            before: { ec2: false, normalizer: false },
            vpc: "function",
            listed: true,
            after: { ec2: true, normalizer: true },
            paths: true,
        });
    });

    describe("a resource's properties, copied once for every check", () => {
        const seen: Props[] = [];
        const check = (name: string, mutate: boolean) =>
            resourcePolicy({
                name,
                description: "records what it reads",
                enforcementLevel: "advisory",
                config: {},
                resourceTypes: ["aws:s3/bucket:Bucket"],
                validate: ({ props }) => {
                    seen.push(props);
                    if (mutate) (props.tags as Record<string, string>).team = "someone-else";
                },
            });
        const validate = (policy: ReturnType<typeof check>, a: ResourceValidationArgs) =>
            (policy.validateResource as ResourceValidation)(a, () => undefined);
        const args = (props: Record<string, unknown>) =>
            ({
                type: "aws:s3/bucket:Bucket",
                urn: "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b",
                name: "b",
                props,
                getConfig: () => ({}),
                notApplicable: () => {
                    throw new Error("not applicable");
                },
            }) as unknown as ResourceValidationArgs;

        it("hands every check the same copy, frozen to the bottom", async () => {
            seen.length = 0;
            const props = { bucket: "b", tags: { team: "vision" }, rules: [{ days: 30 }] };
            await validate(check("first", false), args(props));
            await validate(check("second", false), args(props));
            assert.strictEqual(seen[0], seen[1]);
            assert.deepStrictEqual(seen[0], props);
            assert.ok(Object.isFrozen(seen[0].tags) && Object.isFrozen((seen[0].rules as object[])[0]));
        });

        it("keeps a check from changing what the next check reads", async () => {
            seen.length = 0;
            const props = { bucket: "b", tags: { team: "vision" } };
            try {
                await validate(check("mutating", true), args(props));
            } catch (err) {
                // Strict-mode code (the pack as tsc builds it) fails on the frozen copy; sloppy code is ignored.
                assert.ok(err instanceof TypeError, String(err));
            }
            await validate(check("after", false), args(props));
            assert.deepStrictEqual(seen[1].tags, { team: "vision" });
            assert.deepStrictEqual(props.tags, { team: "vision" });
        });

        it("copies a changed properties object afresh", async () => {
            seen.length = 0;
            await validate(check("one", false), args({ bucket: "a" }));
            await validate(check("two", false), args({ bucket: "b" }));
            assert.deepStrictEqual(
                seen.map((p) => p.bucket),
                ["a", "b"],
            );
        });
    });

    describe("CEL expressions, parsed once", () => {
        const rule = (expression: string): AdmissionRule => ({
            name: "gpu-platform-test",
            description: "a test rule",
            scope: "namespaced" as AdmissionRule["scope"],
            resourceRules: [
                { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"] },
            ],
            validations: [{ expression, messageExpression: "'refused ' + object.metadata.name" }],
        });
        const request = (name: string): AdmissionRequest => ({
            operation: "CREATE",
            group: "",
            version: "v1",
            kind: "ConfigMap",
            resource: "configmaps",
            namespace: "vision",
            name,
            userInfo: { username: "someone" },
            object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "vision" } },
        });

        it("judges each request by its own bindings, not the first one's", () => {
            const startsWithOk = rule("object.metadata.name.startsWith('ok')");
            assert.deepStrictEqual(evaluate(startsWithOk, request("ok-1")), { applies: true, refusals: [] });
            assert.deepStrictEqual(evaluate(startsWithOk, request("bad-1")), {
                applies: true,
                refusals: ["refused bad-1"],
            });
            assert.deepStrictEqual(evaluate(startsWithOk, request("ok-2")), { applies: true, refusals: [] });
        });

        it("reports an expression that does not parse every time it is asked, as run() did", () => {
            const broken = rule("object.metadata.name.startsWith(");
            const first = evaluate(broken, request("a"));
            const second = evaluate(broken, request("b"));
            assert.ok(
                "error" in first && first.error.startsWith("object.metadata.name.startsWith(: "),
                JSON.stringify(first),
            );
            assert.deepStrictEqual(second, first);
        });
    });
});

describe("plan speed: resource policies judged while the program runs", function () {
    this.timeout(120_000);
    let recorded: RecordedResource[];
    before(async () => {
        ({ resources: recorded } = await record(() => buildPlatform(validStackConfig("dev"))));
    });

    /** dev's pack config with the stack budget at $1, so the stack policies have something to say too. */
    const tightConfig = () => {
        const document = JSON.parse(
            fs.readFileSync(path.join(REPO_ROOT, "policies/config.dev.json"), "utf8"),
        ) as Record<string, unknown>;
        return parsePackConfig(
            JSON.stringify({
                ...document,
                "stack-monthly-budget": { enforcementLevel: "mandatory", monthlyBudgetUsd: 1 },
            }),
            "spec",
        );
    };

    it("reports what judging everything at the end reports, in the same order, when a judged resource changes", async () => {
        const resources = structuredClone(recorded);
        const rolePolicy = resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
        assert.ok(rolePolicy, "dev has an inline role policy");
        const run = new PolicyRun(tightConfig());
        for (const resource of resources) {
            run.add(resource);
            await new Promise((resolve) => setImmediate(resolve)); // as the engine's answers interleave
        }
        // After it was judged, the role policy's recorded document changes to grant everything.
        const everything = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
        rolePolicy.inputs.policy = JSON.stringify(everything);
        rolePolicy.outputs.policy = JSON.stringify(everything);
        run.changed(rolePolicy.urn);
        const incremental = await run.finish(resources);
        const atTheEnd = await runPolicies(resources, tightConfig());
        assert.deepStrictEqual(incremental, atTheEnd);
        assert.ok(
            incremental.some((v) => v.urn === rolePolicy.urn && v.level === "mandatory"),
            show(incremental),
        );
        assert.ok(
            incremental.some((v) => v.policy === "stack-monthly-budget"),
            show(incremental),
        );
    });

    it("judges at the end what arrived before the pack loaded, and never judges a read", async () => {
        const resources = structuredClone(recorded);
        const run = new PolicyRun(tightConfig());
        run.add({ ...resources[0], read: true, custom: true });
        assert.deepStrictEqual(await run.finish(resources), await runPolicies(resources, tightConfig()));
    });
});

function show(violations: Violation[]): string {
    return violations.map((v) => `${v.policy} ${v.urn ?? "(stack)"}: ${v.message}`).join("\n");
}
