/**
 * `npm run cost-tracker -- --demo` from a checkout: the root launcher (tools/cost-tracker) reads
 * the prod stack and hands the service its config document as COST_TRACKER_CONFIG_JSON, the
 * variable the CostTracker component sets on Fargate; the service never reads stack files.
 * Starting and stopping the demo through npm is test/integration/cost-tracker-demo.spec.ts.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { costTrackerConfigProblems } from "@gpu-platform/catalog/contracts";
import { serviceEnvironment } from "../tools/cost-tracker/start";
import { costTrackerConfigFromStack, REPO_ROOT, StackConfigError } from "../tools/cost-tracker/stack-config";

describe("cost tracker launcher: the demo's config document", () => {
    it("reads the prod stack through the project's loaders", () => {
        const doc = costTrackerConfigFromStack("prod");
        // Pulumi.prod.yaml: three teams with these budgets, GPU pools a100-shared, a100-mig, h100 (system is CPU).
        assert.deepStrictEqual(
            doc.teams.map((t) => [t.name, t.monthlyBudgetUsd]),
            [
                ["ml-research", 120000],
                ["inference", 80000],
                ["applied-ml", 40000],
            ],
        );
        assert.deepStrictEqual(
            doc.pools.map((p) => p.name),
            ["a100-shared", "a100-mig", "h100"],
        );
        assert.deepStrictEqual(doc.pools[1].gpuSharing, {
            mode: "mig",
            layout: { "3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2 },
        });
        assert.deepStrictEqual(costTrackerConfigProblems(doc), [], "the service accepts what the launcher hands it");
    });

    it("names every bad key of an invalid stack, before the service starts", () => {
        const project = fs.mkdtempSync(path.join(os.tmpdir(), "launcher-stack-"));
        try {
            fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
            fs.writeFileSync(path.join(project, "index.ts"), "");
            const prod = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8");
            // One budget made negative: the stack schema refuses it under its key.
            const broken = prod.replace(/monthlyBudgetUsd: 120000/, "monthlyBudgetUsd: -1");
            assert.notStrictEqual(broken, prod, "Pulumi.prod.yaml has the ml-research budget this test breaks");
            fs.writeFileSync(path.join(project, "Pulumi.prod.yaml"), broken);
            assert.throws(
                () => costTrackerConfigFromStack("prod", project),
                (err: unknown) =>
                    err instanceof StackConfigError &&
                    err.lines[0] === "Pulumi.prod.yaml is invalid:" &&
                    // ml-research is the first team of Pulumi.prod.yaml.
                    err.lines.length === 2 &&
                    err.lines[1].startsWith("  - teams[0].monthlyBudgetUsd: ") &&
                    err.lines[1].endsWith("(found -1)"),
            );
        } finally {
            fs.rmSync(project, { recursive: true, force: true });
        }
    });

    it("hands the service the stack's document only for --demo, and never over the caller's own", () => {
        const stack = { teams: [] };
        const read = () => stack;
        assert.deepStrictEqual(serviceEnvironment({ PORT: "1" }, ["--demo"], read), {
            PORT: "1",
            COST_TRACKER_CONFIG_JSON: '{"teams":[]}',
        });
        assert.deepStrictEqual(serviceEnvironment({ PORT: "1" }, [], read), { PORT: "1" }, "not a demo");
        for (const own of ["COST_TRACKER_CONFIG", "COST_TRACKER_CONFIG_JSON"])
            assert.deepStrictEqual(
                serviceEnvironment({ [own]: "x" }, ["--demo"], () => assert.fail("the stack is not read")),
                { [own]: "x" },
                own,
            );
    });
});
