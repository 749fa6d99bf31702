import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { iamLeastPrivilege } from "../iam-least-privilege";
import { WORKLOAD_ACTIONS } from "../lib/workload-actions";
import { actionProblem } from "../lib/iam-actions";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const POLICY = "aws:iam/rolePolicy:RolePolicy";
/** A RolePolicy as a component creates it: its URN carries the component's type before its own. */
const componentPolicy = (component: string, name: string, document: unknown) =>
    resource(
        POLICY,
        name,
        { role: `${name}-role`, policy: JSON.stringify(document) },
        { urn: `urn:pulumi:test::policy-spec::${component}$${POLICY}::${name}` },
    );

const TOPIC = "arn:aws:sns:us-east-1:111122223333:cost-tracker-alerts";
/** The cost tracker's task policy as components/costs/cost-tracker.ts writes it. */
const taskPolicy = {
    Version: "2012-10-17",
    Statement: [
        { Sid: "CostExplorer", Effect: "Allow", Action: ["ce:GetCostAndUsage"], Resource: "*" },
        { Sid: "PublishAlerts", Effect: "Allow", Action: ["sns:Publish"], Resource: [TOPIC] },
    ],
};
const tracker = (doc: unknown) => componentPolicy("gpu-platform:costs:CostTracker", "cost-tracker-task-policy", doc);

describe("policies: iam-least-privilege", () => {
    it("passes a platform role that grants what its workload calls, and a Deny of anything", async () => {
        const withDeny = changed(taskPolicy, "Statement.2", { Effect: "Deny", Action: "*", Resource: "*" });
        assert.deepStrictEqual(await violationsOf(iamLeastPrivilege, [tracker(withDeny)]), []);
    });

    it("names a grant the workload never calls, and the fix", async () => {
        const v = await theViolation(iamLeastPrivilege, [
            tracker(changed(taskPolicy, "Statement.1.Action", ["sns:Publish", "sns:Subscribe"])),
        ]);
        assert.strictEqual(v.level, "mandatory", "the spec runs it mandatory; its default is advisory");
        assert.match(
            v.message,
            /^RolePolicy "cost-tracker-task-policy": policy statement "PublishAlerts" grants sns:Subscribe, which the cost tracker service never calls \(it calls ce:GetCostAndUsage, cloudwatch:GetMetricData and sns:Publish, per .*\); remove sns:Subscribe\.$/,
        );
    });

    it("names a wildcard that reaches past the calls, and passes one that does not", async () => {
        assert.match(
            (await theViolation(iamLeastPrivilege, [tracker(changed(taskPolicy, "Statement.1.Action", "sns:*"))]))
                .message,
            /grants sns:\*: \d+ actions the cost tracker service never calls/,
        );
        assert.match(
            (await theViolation(iamLeastPrivilege, [tracker(changed(taskPolicy, "Statement.1.Action", "*"))])).message,
            /grants \*: every action the cost tracker service never calls/,
        );
        // sns:Publis? matches sns:Publish alone.
        assert.deepStrictEqual(
            await violationsOf(iamLeastPrivilege, [tracker(changed(taskPolicy, "Statement.1.Action", "sns:Publis?"))]),
            [],
        );
    });

    it("names NotAction, which grants everything else", async () => {
        const notAction = changed(taskPolicy, "Statement.1", { Effect: "Allow", NotAction: "iam:*", Resource: "*" });
        assert.match(
            (await theViolation(iamLeastPrivilege, [tracker(notAction)])).message,
            /Statement\[1\] grants every action its NotAction does not name/,
        );
    });

    it("knows each platform role by its component and name, and judges no other role", async () => {
        const extra = changed(taskPolicy, "Statement.1.Action", ["sns:Publish", "sns:Subscribe"]);
        const elsewhere = [
            componentPolicy("gpu-platform:costs:CostTracker", "cost-tracker-other-policy", extra),
            componentPolicy("team:apps:Tracker", "cost-tracker-task-policy", extra),
            resource(POLICY, "cost-tracker-task-policy", { role: "r", policy: JSON.stringify(extra) }),
        ];
        assert.deepStrictEqual(await violationsOf(iamLeastPrivilege, elsewhere), []);
        const scaler = componentPolicy("gpu-platform:inference:InferencePipeline", "batch-scaler-irsa-policy", {
            Statement: [{ Effect: "Allow", Action: ["sqs:GetQueueAttributes", "sqs:ReceiveMessage"], Resource: "*" }],
        });
        assert.match(
            (await theViolation(iamLeastPrivilege, [scaler])).message,
            /grants sqs:ReceiveMessage, which KEDA's aws-sqs-queue scaler never calls/,
        );
    });

    it("reads a role's inline policies too", async () => {
        const role = resource(
            "aws:iam/role:Role",
            "cost-tracker-task-policy",
            {
                inlinePolicies: [
                    { name: "x", policy: JSON.stringify(changed(taskPolicy, "Statement.0.Action", "ce:*")) },
                ],
            },
            {
                urn: `urn:pulumi:test::policy-spec::gpu-platform:costs:CostTracker$aws:iam/role:Role::cost-tracker-task-policy`,
            },
        );
        assert.match(
            (await theViolation(iamLeastPrivilege, [role])).message,
            /inlinePolicies\[0\]\.policy .*grants ce:\*/,
        );
    });
});

describe("policies: the platform's workload actions (lib/workload-actions.ts)", () => {
    it("name only actions IAM has", async () => {
        for (const workload of WORKLOAD_ACTIONS)
            for (const action of workload.actions)
                assert.strictEqual(await actionProblem(action), undefined, `${workload.workload}: ${action}`);
    });

    it("list for the load balancer controller exactly the actions of its documented policy (v3.5.0)", () => {
        // A copy of kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json at tag v3.5.0.
        const file = path.join(__dirname, "fixtures", "aws-load-balancer-controller-v3.5.0-iam_policy.json");
        const documented = JSON.parse(fs.readFileSync(file, "utf8")) as { Statement: { Action: string | string[] }[] };
        const actions = new Set(documented.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
        const controller = WORKLOAD_ACTIONS.find((w) => w.component === "gpu-platform:portal:LoadBalancerController")!;
        assert.deepStrictEqual([...controller.actions].sort(), [...actions].sort());
    });

    it("list for the cost tracker's task role exactly the AWS SDK commands its code sends", () => {
        // The IAM prefix of each SDK client the service may import (Service Authorization Reference).
        const PREFIX: Record<string, string> = { "cost-explorer": "ce", cloudwatch: "cloudwatch", sns: "sns" };
        const sent = new Set<string>();
        for (const file of sourceFiles(path.join(__dirname, "..", "..", "services", "cost-tracker", "src"))) {
            const text = fs.readFileSync(file, "utf8");
            for (const [, names, client] of text.matchAll(
                /import\s*\{([^}]*)\}\s*from\s*"@aws-sdk\/client-([a-z0-9-]+)"/g,
            )) {
                assert.ok(PREFIX[client], `${file} imports @aws-sdk/client-${client}: add its IAM prefix here`);
                for (const name of names.split(",").map((n) => n.trim()))
                    if (/^\w+Command$/.test(name)) sent.add(`${PREFIX[client]}:${name.replace(/Command$/, "")}`);
            }
        }
        const task = WORKLOAD_ACTIONS.find((w) => w.policyNameEnd === "-task-policy")!;
        assert.deepStrictEqual([...sent].sort(), [...task.actions].sort());
    });
});

function sourceFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return sourceFiles(full);
        return entry.name.endsWith(".ts") ? [full] : [];
    });
}
