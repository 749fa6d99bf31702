import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "./harness";
import { main } from "@gpu-platform/plan/cli";
import { PlanInputError, parseOptions } from "@gpu-platform/plan/options";
import { readProject, resolveStackConfig } from "@gpu-platform/plan/stack-config";
import { FAKE_CREDENTIALS } from "@gpu-platform/offline/fake-cloud";

interface Run {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs the plan as a user would (`npx gpu-platform-plan …`), in its own process. */
function plan(...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            [path.join(REPO_ROOT, "tools/plan/bin.js"), ...args],
            { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 },
            (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
    });
}

function inputErrors(fn: () => unknown): string[] {
    try {
        fn();
    } catch (err) {
        if (err instanceof PlanInputError) return err.lines;
        throw err;
    }
    assert.fail("expected a PlanInputError");
}

const fixture = (name: string) => path.join(REPO_ROOT, "test/fixtures", name);

/**
 * The CLI's `main` in this process, for input it refuses before running a program (running
 * one would install its own mocks over the harness's). Captures what it writes to stderr.
 */
async function mainInProcess(...args: string[]): Promise<{ code: number; stderr: string[] }> {
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string) => lines.push(...String(chunk).trimEnd().split("\n")) > 0;
    try {
        return { code: await main(args), stderr: lines };
    } finally {
        process.stderr.write = write;
    }
}

describe("offline plan", function () {
    // Each run starts a Node process that loads the Pulumi SDKs; they run side by side.
    this.timeout(120_000);
    const runs: Record<string, Promise<Run>> = {};
    before(() => {
        runs.prodJson = plan("--stack", "prod", "--json");
        runs.devTree = plan("--stack", "dev");
        runs.devMermaid = plan("--stack", "dev", "--format", "mermaid");
        runs.invalidConfig = plan(
            "--stack",
            "dev",
            "--set",
            "nodePools.system.minSize=5",
            "--set",
            "gpu-platform:region=moon-1",
        );
        runs.teamStack = plan("--stack", "dev", "--program", fixture("team-stack"), "--json");
        runs.override = plan("--stack", "dev", "--config-file", fixture("dev-override.yaml"), "--json");
        runs.broken = plan("--stack", "dev", "--program", fixture("broken-stack"));
        runs.exportedFunction = plan("--stack", "dev", "--program", fixture("exported-function-stack"));
        runs.exportedFunctionJson = plan("--stack", "dev", "--program", fixture("exported-function-stack"), "--json");
        runs.failingAsync = plan("--stack", "dev", "--program", fixture("failing-async-stack"));
        runs.empty = plan("--stack", "dev", "--program", fixture("empty-stack"));
        runs.tampering = plan("--stack", "dev", "--program", fixture("tampering-stack"), "--json");
    });

    describe("--json", () => {
        let doc: any;
        before(async () => {
            const run = await runs.prodJson;
            assert.strictEqual(run.code, 0, run.stderr);
            doc = JSON.parse(run.stdout);
        });

        it("prints one JSON document with exactly the documented keys", () => {
            assert.deepStrictEqual(Object.keys(doc), [
                "stack",
                "program",
                "resources",
                "outputs",
                "violations",
                "cost",
            ]);
            assert.strictEqual(doc.stack, "prod");
            assert.strictEqual(doc.program, "index.ts");
            for (const r of doc.resources)
                assert.deepStrictEqual(Object.keys(r), ["urn", "type", "name", "parent", "inputs"]);
            assert.deepStrictEqual(Object.keys(doc.cost), [
                "currency",
                "region",
                "priceDate",
                "monthlyIdle",
                "monthlyMax",
                "gpuMonthlyIdle",
                "gpuMonthlyMax",
                "items",
            ]);
        });

        it("records parents as urns of recorded resources, or null at the root", () => {
            const urns = new Set(doc.resources.map((r: any) => r.urn));
            const roots = doc.resources.filter((r: any) => r.parent === null).map((r: any) => r.type);
            assert.ok(roots.includes("gpu-platform:network:Network") && roots.includes("pulumi:providers:aws"));
            for (const r of doc.resources)
                assert.ok(r.parent === null || urns.has(r.parent), `${r.urn} has a recorded parent`);
            const h100 = doc.resources.find(
                (r: any) => r.type === "aws:eks/nodeGroup:NodeGroup" && r.name === "h100-group",
            );
            assert.match(h100.parent, /gpu-platform:cluster:NodePool::h100$/);
            assert.strictEqual(h100.inputs.scalingConfig.maxSize, 4);
        });

        it("prices prod: items add up to the totals, GPUs cost nothing idle, and each item names its resource", () => {
            const { cost } = doc;
            assert.strictEqual(cost.currency, "USD");
            assert.strictEqual(cost.region, "us-east-1");
            assert.match(cost.priceDate, /^\d{4}-\d{2}-\d{2}$/);
            const sum = (key: string) =>
                Math.round(cost.items.reduce((t: number, i: any) => t + i[key], 0) * 100) / 100;
            assert.strictEqual(sum("monthlyIdle"), cost.monthlyIdle);
            assert.strictEqual(sum("monthlyMax"), cost.monthlyMax);
            assert.strictEqual(cost.gpuMonthlyIdle, 0, "GPU pools sit at zero nodes when idle");
            // 4 × p4d + 4 × p4de + 4 × p5 at catalog prices, 730 h.
            assert.strictEqual(
                cost.gpuMonthlyMax,
                Math.round((4 * 21.957642 + 4 * 27.44705 + 4 * 55.04) * 730 * 100) / 100,
            );
            const urns = new Set(doc.resources.map((r: any) => r.urn));
            for (const item of cost.items) assert.ok(urns.has(item.urn), item.description);
            const system = cost.items.find((i: any) => i.description.startsWith("node group system-group"));
            assert.strictEqual(system.monthlyIdle, Math.round(3 * 0.4032 * 730 * 100) / 100);
        });

        it("shows the cost tracker (image build, ECR, ECS, ALB, RDS, secrets, roles, OpenCost, Prometheus), checked and priced", () => {
            const types = new Set(doc.resources.map((r: any) => r.type));
            for (const type of [
                "docker-build:index:Image",
                "aws:ecr/repository:Repository",
                "aws:ecs/service:Service",
                "aws:lb/loadBalancer:LoadBalancer",
                "aws:rds/instance:Instance",
                "aws:secretsmanager/secret:Secret",
                "aws:iam/role:Role",
                "gpu-platform:costs:ClusterCostData",
            ]) {
                assert.ok(types.has(type), type);
            }
            const charts = doc.resources
                .filter((r: any) => r.type === "kubernetes:helm.sh/v3:Release")
                .map((r: any) => r.inputs.chart);
            assert.ok(charts.includes("opencost") && charts.includes("prometheus"));
            const priced = (prefix: string) =>
                doc.cost.items.filter((i: any) => i.description.startsWith(prefix) && i.monthlyMax > 0).length;
            for (const prefix of [
                "ECS service cost-tracker-service",
                "RDS instance cost-tracker-db-instance",
                "load balancer cost-tracker-alb",
                "secret cost-tracker-api-token",
            ]) {
                assert.ok(priced(prefix) > 0, prefix);
            }
            assert.strictEqual(
                priced("Helm release gpu-platform-prod-cost-data-"),
                5,
                "OpenCost, Prometheus, kube-state-metrics, node-exporter and the volume",
            );
            assert.ok(
                doc.outputs.costTracker.apiTokenSecretArn.startsWith("arn:aws:secretsmanager:"),
                "the token's ARN is a stack output",
            );
        });

        it("records no credential in plain text: the generated API token and the registry password appear only as secrets", () => {
            const text = JSON.stringify(doc);
            for (const credential of Object.values(FAKE_CREDENTIALS))
                assert.ok(!text.includes(credential), `${credential} is in the plan's JSON`);
            const version = doc.resources.find(
                (r: any) =>
                    r.type === "aws:secretsmanager/secretVersion:SecretVersion" &&
                    r.name === "cost-tracker-api-token-value",
            );
            assert.deepStrictEqual(
                [version.inputs.secretStringWo, version.inputs.secretString],
                ["[secret]", undefined],
            );
            const image = doc.resources.find((r: any) => r.type === "docker-build:index:Image");
            assert.strictEqual(image.inputs.registries[0].password, "[secret]", "the ECR token");
        });

        it("reports violations in the documented shape", () => {
            for (const v of doc.violations) {
                assert.deepStrictEqual(Object.keys(v), ["policy", "level", "urn", "message"]);
                assert.ok(v.level === "mandatory" || v.level === "advisory");
            }
            assert.ok(
                !doc.violations.some((v: any) => v.level === "mandatory"),
                "the prod program passes its own policies",
            );
        });
    });

    describe("runs a program as Pulumi's language host does", () => {
        it("calls an exported async function: its resources are planned and judged, its result is the stack's outputs", async () => {
            const run = await runs.exportedFunctionJson;
            assert.strictEqual(run.code, 1, "the untagged bucket breaks a mandatory policy");
            const doc = JSON.parse(run.stdout);
            const bucket = doc.resources.find((r: any) => r.type === "aws:s3/bucket:Bucket");
            assert.ok(bucket, "the bucket the function creates is recorded");
            assert.ok(
                doc.violations.some(
                    (v: any) => v.urn === bucket.urn && v.policy === "budget-tags" && v.level === "mandatory",
                ),
            );
            assert.deepStrictEqual(doc.outputs, {
                apiToken: "[secret]",
                bucketName: "vision-bucket",
                databasePassword: "[secret]",
                vpcId: "vpc-0123456789abcdef0",
            });
        });

        it("records a read (Resource.get) under the component that made it, and counts it apart", async () => {
            const doc = JSON.parse((await runs.exportedFunctionJson).stdout);
            const component = doc.resources.find((r: any) => r.type === "team:data:Datasets");
            const vpc = doc.resources.find((r: any) => r.type === "aws:ec2/vpc:Vpc");
            assert.strictEqual(vpc.read, true);
            assert.strictEqual(vpc.parent, component.urn);
            const text = (await runs.exportedFunction).stdout;
            assert.match(text, /^ > {6}├─ aws:ec2\/vpc:Vpc +vision-shared-vpc$/m);
            assert.match(text, /^ {4}> 1 to read$/m);
        });

        it("shows the outputs as pulumi preview does, and never a secret's value", async () => {
            const text = (await runs.exportedFunction).stdout;
            assert.match(text, /^Outputs:\n {4}apiToken {8}: "\[secret\]"\n {4}bucketName {6}: "vision-bucket"\n/m);
            for (const run of [await runs.exportedFunction, await runs.exportedFunctionJson]) {
                assert.doesNotMatch(run.stdout + run.stderr, /token-that-must-not-be-printed/);
            }
        });

        it("fails with one line when an async program throws, exit 2", async () => {
            const run = await runs.failingAsync;
            assert.strictEqual(run.code, 2);
            assert.strictEqual(run.stdout, "");
            assert.deepStrictEqual(
                run.stderr
                    .trim()
                    .split("\n")
                    .filter((l) => l.startsWith("error:")),
                [
                    `error: program ${path.join("test", "fixtures", "failing-async-stack", "index.ts")} failed: could not find the platform's VPC`,
                ],
            );
        });

        it("says so when a program registers nothing, never a silent green", async () => {
            const run = await runs.empty;
            assert.strictEqual(run.code, 2);
            assert.match(run.stderr, /registered no resources: there is nothing to plan/);
        });

        it("judges a program that tries to disable the pack from inside its own process", async () => {
            const run = await runs.tampering;
            assert.strictEqual(run.code, 1);
            const doc = JSON.parse(run.stdout);
            const named = (name: string) => doc.resources.find((r: any) => r.name === name).urn;
            const policiesOn = (urn: string) =>
                doc.violations.filter((v: any) => v.urn === urn && v.level === "mandatory").map((v: any) => v.policy);
            assert.ok(policiesOn(named("wide-open")).includes("no-public-ingress"));
            assert.ok(policiesOn(named("leaky")).includes("budget-tags"));
        });
    });

    it("prints a preview-like tree, the policy report and the cost table by default", async () => {
        const run = await runs.devTree;
        assert.strictEqual(run.code, 0, run.stderr);
        assert.match(run.stdout, /^ \+ {3}pulumi:pulumi:Stack +gpu-platform-dev$/m);
        assert.match(run.stdout, /^ \+ {3}├─ gpu-platform:cluster:Cluster +gpu-platform-dev$/m);
        assert.match(run.stdout, /^ \+ {3}│ {2}│ {2}├─ aws:eks\/nodeGroup:NodeGroup +gpu-dev-group$/m);
        assert.match(run.stdout, /placeholders/);
        assert.match(run.stdout, /^Policies \(config: policies\/config\.dev\.json\):$/m);
        assert.match(run.stdout, /^ {4}Total +[\d,.]+ +[\d,.]+$/m);
        // The budget shows beside the total, not only in a violation: dev's maximum is $18,283.27
        // (policies/README.md, "dev" arithmetic) against the $20,000 of policies/config.dev.json: $1,716.73 to spare.
        assert.match(
            run.stdout,
            /^ {4}monthly max \$18,283\.27 of budget \$20,000\.00 \(stack-monthly-budget, advisory\): \$1,716\.73 to spare$/m,
        );
        // The cost tracker's 1–2 tasks of 0.5 vCPU / 1 GB: on Fargate ARM64 0.5 × $0.03238 + 1 × $0.00356 = $0.01975/h,
        // 730 h → $14.42 and $28.84; on dev's m7i.xlarge pool (4 vCPU, 16 GiB, $0.2016/h) max(0.5/4, 1/16) = 12.5% → $0.0252/h,
        // $18.40 and $36.79; 1 − 0.01975 / 0.0252 = 21.6% less.
        assert.match(run.stdout, /^ {4}on Fargate ARM64 \(\$0\.01975\/h a task\) +14\.42 +28\.84$/m);
        assert.match(
            run.stdout,
            /^ {4}on the CPU pool: 12\.50% of one m7i\.xlarge a task \(\$0\.02520\/h\) +18\.40 +36\.79$/m,
        );
        assert.match(run.stdout, /^ {4}Fargate costs 21\.6% less than the pool's share for the same requests/m);
        for (const line of run.stdout.split("\n")) assert.ok(line.length <= 120, line);
    });

    it("prints its flags with --help and exits 0, whatever else the command line holds", async () => {
        const run = await plan("--help", "--stack", "no-such-stack", "--bogus");
        assert.strictEqual(run.code, 0, run.stderr);
        assert.strictEqual(run.stderr, "");
        for (const flag of [
            "--stack NAME",
            "--config-file FILE",
            "--set KEY=VALUE",
            "--program DIR",
            "--ts-node",
            "--json",
            "--format FORMAT",
            "--help, -h",
        ])
            assert.match(run.stdout, new RegExp(`^  ${flag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `, "m"), flag);
        assert.match(run.stdout, /^exit codes: 0 no mandatory policy violation; 1 a mandatory violation; 2 bad input/m);
        assert.strictEqual((await plan("-h")).stdout, run.stdout);
    });

    it("says how far over budget the maximum is, from the total it prints", async () => {
        // One more p5.48xlarge ($55.04/h × 730 = $40,179.20 with its disk, policies/README.md) takes prod past $325,000.
        const run = await plan("--stack", "prod", "--set", "nodePools.h100.maxSize=5");
        assert.strictEqual(run.code, 1, "a mandatory budget violation");
        const total = /^ {4}Total +[\d,.]+ +([\d,.]+)$/m.exec(run.stdout)![1];
        const max = Number(total.replace(/,/g, ""));
        assert.ok(max > 309_023.65 + 40_179.2 - 0.01, `${max}`);
        const over = (max - 325_000).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
        assert.ok(
            run.stdout.includes(
                `    monthly max $${total} of budget $325,000.00 (stack-monthly-budget, mandatory): $${over} over\n`,
            ),
            run.stdout
                .split("\n")
                .filter((l) => l.includes("monthly max"))
                .join("\n"),
        );
    });

    it("draws the components and how they connect as a Mermaid flowchart", async () => {
        const run = await runs.devMermaid;
        assert.strictEqual(run.code, 0, run.stderr);
        const lines = run.stdout.trim().split("\n");
        assert.strictEqual(lines[0], "flowchart TD");
        const id = (name: string, type: string) =>
            lines
                .find((l) => l.includes(`["${name}<br/><small>${type}</small>"]`))!
                .trim()
                .split("[")[0];
        const cluster = id("gpu-platform-dev", "gpu-platform:cluster:Cluster");
        const pool = id("gpu-dev", "gpu-platform:cluster:NodePool");
        const vpc = id("gpu-platform-dev-vpc", "awsx:ec2:Vpc");
        assert.ok(lines.includes(`    ${cluster} --> ${pool}`), "the cluster contains its pools");
        assert.ok(lines.includes(`    ${pool} -. uses .-> ${vpc}`), "pools use the VPC's subnets");
    });

    it("runs another Pulumi program with --program, resolving its packages and stack reference", async () => {
        const run = await runs.teamStack;
        const doc = JSON.parse(run.stdout);
        assert.strictEqual(doc.stack, "dev");
        assert.strictEqual(doc.program, path.join("test", "fixtures", "team-stack", "index.ts"));
        const group = doc.resources.find((r: any) => r.type === "aws:eks/nodeGroup:NodeGroup");
        assert.strictEqual(
            group.inputs.clusterName,
            "gpu-platform-dev",
            "read from the (placeholder) platform stack outputs",
        );
        assert.strictEqual(group.inputs.scalingConfig.maxSize, 2, "team-vision:maxNodes from its Pulumi.dev.yaml");
        const bucket = doc.resources.find((r: any) => r.type === "aws:s3/bucket:Bucket");
        const bucketViolations = doc.violations.filter((v: any) => v.urn === bucket.urn && v.level === "mandatory");
        assert.ok(bucketViolations.length > 0, "the untagged bucket breaks a mandatory policy");
        assert.strictEqual(run.code, 1, "a mandatory violation exits 1");
    });

    it("judges a team's stack with the policy config of the platform stack it deploys to (--policy-config)", async () => {
        const own = await runs.teamStack;
        // Started here, not with the others: one more plan at once slows every run of the block.
        const onProd = await plan(
            "--stack",
            "dev",
            "--program",
            fixture("team-stack"),
            "--policy-config",
            "prod",
            "--json",
        );
        const allowlistOf = (run: Run) =>
            (JSON.parse(run.stdout) as { violations: { policy: string; message: string }[] }).violations
                .filter((v) => v.policy === "gpu-instance-type-allowed")
                .map((v) => /\(allowed here: ([^)]*)\)/.exec(v.message)?.[1]);
        // The allowlists of policies/config.dev.json and config.prod.json, as the files state them.
        assert.deepStrictEqual(allowlistOf(own), ["g5.xlarge, p4d.24xlarge"]);
        assert.deepStrictEqual(allowlistOf(onProd), ["p4d.24xlarge, p4de.24xlarge, p5.48xlarge"]);
        // And prod's environment: the team's dev-tagged resources are judged by the prod cluster's rules.
        const tags = (JSON.parse(onProd.stdout) as { violations: { policy: string; message: string }[] }).violations
            .filter((v) => v.policy === "budget-tags")
            .map((v) => v.message);
        assert.ok(
            tags.some((m) =>
                /^NodeGroup "vision-l40s-group" tag environment is "dev"; this stack allows prod;/.test(m),
            ),
            tags.join("\n"),
        );
        assert.deepStrictEqual(
            inputErrors(() => parseOptions(["--stack", "dev", "--policy-config", "staging"], REPO_ROOT)).slice(0, 1),
            [
                '--policy-config: "staging" is no platform stack with a policy config (policies/config.<stack>.json: dev, prod)',
            ],
        );
        assert.strictEqual(parseOptions(["--stack", "dev", "--policy-config=prod"], REPO_ROOT).policyStack, "prod");
    });

    it("applies --config-file values over the stack's", async () => {
        const run = await runs.override;
        assert.strictEqual(run.code, 0, run.stderr);
        const doc = JSON.parse(run.stdout);
        const groups = doc.resources
            .filter((r: any) => r.type === "aws:eks/nodeGroup:NodeGroup")
            .map((r: any) => r.name)
            .sort();
        assert.deepStrictEqual(
            groups,
            ["a100-shared-group", "a10g-group", "system-group"],
            "nodePools replaced as a whole key (gpu-dev gone)",
        );
        const provider = doc.resources.find((r: any) => r.type === "pulumi:providers:aws");
        assert.strictEqual(provider.inputs.region, "us-west-2");
    });

    describe("bad input exits 2 with one line per problem and no stack trace", () => {
        it("invalid config", async () => {
            const run = await runs.invalidConfig;
            assert.strictEqual(run.code, 2);
            assert.strictEqual(run.stdout, "");
            assert.deepStrictEqual(run.stderr.trim().split("\n"), [
                "error: Invalid stack config (2 problems):",
                'error:   - region: must be an AWS region such as us-east-1 (found "moon-1")',
                "error:   - nodePools.system.minSize: is 5, above maxSize 3; minSize must be at most maxSize",
            ]);
        });

        it("a program that fails to load", async () => {
            const run = await runs.broken;
            assert.strictEqual(run.code, 2);
            assert.match(
                run.stderr,
                /^error: program .*broken-stack\/index\.ts failed: Cannot find module '\.\/no-such-module'/,
            );
            assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
        });

        it("a config larger than an environment variable may hold reaches the program and is judged, not a crash", async () => {
            // 3,000 teams: about 230 KB of YAML, over Linux's 128 KiB limit on one environment variable.
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-big-config-"));
            const file = path.join(dir, "big.yaml");
            const teams = Array.from(
                { length: 3000 },
                (_, i) => `    - name: team-${i}\n      costCenter: CC-${1000 + i}\n      monthlyBudgetUsd: 1000`,
            ).join("\n");
            fs.writeFileSync(file, `config:\n  gpu-platform:teams:\n${teams}\n`);
            const run = await plan("--stack", "dev", "--config-file", file);
            assert.strictEqual(run.code, 2, run.stderr);
            assert.match(
                run.stderr,
                /^error: {3}- inferencePipelines\[0\]\.team: "ml-research" is not a team; defined teams: team-0, .* and 2992 more$/m,
            );
        });

        it("a config file that repeats a key, and a --set path whose key holds a colon", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-config-"));
            const file = path.join(dir, "dup.yaml");
            fs.writeFileSync(file, "config:\n  gpu-platform:region: us-east-1\n  gpu-platform:region: us-east-2\n");
            assert.deepStrictEqual(
                inputErrors(() => resolveStackConfig(readProject(REPO_ROOT), "dev", file, [])),
                [
                    `--config-file ${file}: does not parse as YAML: the key "gpu-platform:region" appears twice in one mapping`,
                ],
            );
            const budget = resolveStackConfig(readProject(REPO_ROOT), "dev", undefined, [
                "teams[0].monthlyBudgetUsd=9000.5",
            ]);
            assert.strictEqual(
                JSON.parse(budget["gpu-platform:teams"])[0].monthlyBudgetUsd,
                9000.5,
                "a decimal is a number, as in a config file",
            );
            const config = resolveStackConfig(readProject(REPO_ROOT), "dev", undefined, ["tags.owner:team=vision"]);
            assert.strictEqual(JSON.parse(config["gpu-platform:tags"])["owner:team"], "vision");
        });

        it("exits 2 for an unknown stack, an unknown flag and a config file that does not parse, before running anything", async () => {
            assert.deepStrictEqual(await mainInProcess("--stack", "staging"), {
                code: 2,
                stderr: [`error: unknown stack "staging": no Pulumi.staging.yaml in ${REPO_ROOT} (stacks: dev, prod)`],
            });
            const unknownFlag = await mainInProcess("--stack", "dev", "--verbose");
            assert.strictEqual(unknownFlag.code, 2);
            assert.strictEqual(unknownFlag.stderr[0], 'error: unknown flag "--verbose"');
            const badFile = await mainInProcess("--stack", "dev", "--config-file", path.join(REPO_ROOT, "README.md"));
            assert.strictEqual(badFile.code, 2);
            assert.match(badFile.stderr.join("\n"), /^error: .*README\.md: (does not parse as YAML|must be a mapping)/);
            assert.strictEqual(badFile.stderr.length, 1);
        });

        it("an unknown stack, flag or format", () => {
            assert.deepStrictEqual(
                inputErrors(() => resolveStackConfig(readProject(REPO_ROOT), "staging", undefined, [])),
                [`unknown stack "staging": no Pulumi.staging.yaml in ${REPO_ROOT} (stacks: dev, prod)`],
            );
            const lines = inputErrors(() =>
                parseOptions(["--stack", "dev", "--verbose", "--format", "svg", "--set", "region"], REPO_ROOT),
            );
            assert.deepStrictEqual(lines.slice(0, 3), [
                'unknown flag "--verbose"',
                '--format must be one of tree, json, mermaid (found "svg")',
                '--set takes KEY=VALUE (found "region")',
            ]);
            assert.match(lines[3], /^usage: npx gpu-platform-plan --stack <name>/);
            assert.deepStrictEqual(inputErrors(() => parseOptions([], REPO_ROOT)).slice(0, 1), [
                "--stack is required, e.g. --stack dev",
            ]);
            assert.deepStrictEqual(
                inputErrors(() => parseOptions(["--stack", "dev", "--stack", "prod"], REPO_ROOT)).slice(0, 1),
                ['--stack given twice ("dev" and "prod"); plan one stack at a time'],
            );
            assert.deepStrictEqual(
                inputErrors(() =>
                    parseOptions(["--stack", "dev", "--format", "json", "--format", "mermaid"], REPO_ROOT),
                ).slice(0, 1),
                ["choose one output format: json conflicts with mermaid"],
            );
        });

        it("a config file that does not parse", () => {
            const lines = inputErrors(() =>
                resolveStackConfig(readProject(REPO_ROOT), "dev", path.join(REPO_ROOT, "README.md"), []),
            );
            assert.strictEqual(lines.length, 1);
            assert.match(lines[0], /README\.md: (does not parse as YAML|must be a mapping)/);
        });
    });

    describe("config resolution", () => {
        const project = () => readProject(REPO_ROOT);

        it("hands the program Pulumi's namespaced keys, structured values as JSON", () => {
            const config = resolveStackConfig(project(), "dev", undefined, []);
            assert.strictEqual(config["gpu-platform:environment"], "dev");
            assert.strictEqual(JSON.parse(config["gpu-platform:nodePools"]).system.instanceType, "m7i.xlarge");
        });

        it("applies --set in Pulumi's key syntax, with paths into structured values", () => {
            const config = resolveStackConfig(project(), "dev", undefined, [
                "region=eu-west-1",
                "gpu-platform:nodePools.a100-shared.maxSize=3",
                "aws:profile=platform",
            ]);
            assert.strictEqual(config["gpu-platform:region"], "eu-west-1");
            assert.strictEqual(JSON.parse(config["gpu-platform:nodePools"])["a100-shared"].maxSize, 3);
            assert.strictEqual(config["aws:profile"], "platform");
        });
    });
});
