/**
 * Issue 21 item 7: the cost tracker connects as its own database user, not as the RDS master
 * user whose password RDS rotates every 7 days (RDS docs, "Password management with Amazon RDS
 * and AWS Secrets Manager": rotation every 7 days by default). ECS resolves `secrets` only when a
 * task starts (ECS docs, "Pass Secrets Manager secrets through Amazon ECS environment
 * variables"), so the service must not hold that password. The SQL itself is checked on a real
 * PostgreSQL server in test/integration/cost-tracker-database-user.spec.ts.
 */
import * as assert from "assert";
import { named, ofType, record, validStackConfig } from "./harness";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { buildPlatform } from "../platform";

type Container = {
    name: string;
    essential?: boolean;
    dependsOn?: { containerName: string; condition: string }[];
    environment: { name: string; value: string }[];
    secrets: { name: string; valueFrom: string }[];
};

const MASTER_SECRET = /secret:rds!db-/;

function containersOf(resources: RecordedResource[]): Container[] {
    const task = named(resources, "aws:ecs/taskDefinition:TaskDefinition", "cost-tracker-task");
    return JSON.parse(task.inputs.containerDefinitions as string) as Container[];
}

describe("the cost tracker's database user", function () {
    // Each builds whole platforms; the machine may be shared.
    this.timeout(120_000);
    const stacks: Record<string, RecordedResource[]> = {};
    before(async () => {
        for (const stack of ["dev", "prod"])
            stacks[stack] = (await record(() => buildPlatform(validStackConfig(stack)))).resources;
    });

    it("connects the service as its own user, with its own secret's password: the master's is not in its container", () => {
        const [service] = containersOf(stacks.prod).filter((c) => c.essential);
        const url = new URL(service.environment.find((e) => e.name === "DATABASE_URL")!.value);
        assert.strictEqual(url.username, "cost_tracker");
        assert.strictEqual(url.password, "", "no password in the URL");
        const password = service.secrets.find((s) => s.name === "DATABASE_PASSWORD")!.valueFrom;
        assert.match(password, /secret:cost-tracker-database-user-AbCdEf:password::$/);
        assert.ok(!service.secrets.some((s) => MASTER_SECRET.test(s.valueFrom)), "no master credential");
    });

    it("makes the user before the service starts, in a container that alone reads the master secret and may exit", () => {
        const containers = containersOf(stacks.prod);
        const maker = containers.find((c) => (c.secrets ?? []).some((s) => MASTER_SECRET.test(s.valueFrom)))!;
        assert.strictEqual(maker.essential, false, "it exits when done; the task goes on");
        assert.deepStrictEqual(
            maker.secrets.map((s) => s.name),
            ["PGUSER", "PGPASSWORD", "SERVICE_DATABASE_USER", "SERVICE_DATABASE_PASSWORD"],
        );
        const service = containers.find((c) => c.essential)!;
        assert.deepStrictEqual(service.dependsOn, [{ containerName: maker.name, condition: "SUCCESS" }]);
        // No credential in plain environment values.
        for (const container of containers)
            for (const { name } of container.environment) assert.doesNotMatch(name, /PASSWORD|TOKEN/, name);
    });

    it("keeps the user's secret with prod's data and deletes dev's at once, and no task starts before it has a value", () => {
        const secretOf = (stack: string) =>
            named(stacks[stack], "aws:secretsmanager/secret:Secret", "cost-tracker-database-user");
        assert.strictEqual(secretOf("dev").inputs.recoveryWindowInDays, 0);
        assert.strictEqual(secretOf("prod").retainOnDelete, true);
        const value = named(
            stacks.prod,
            "aws:secretsmanager/secretVersion:SecretVersion",
            "cost-tracker-database-user-value",
        );
        assert.strictEqual(value.inputs.secretString, undefined, "write-only: not in the resource's outputs");
        assert.strictEqual(value.inputs.secretStringWoVersion, 1);
        for (const type of ["aws:ecs/taskDefinition:TaskDefinition", "aws:ecs/service:Service"]) {
            const resource = ofType(stacks.prod, type).find((r) => r.name.startsWith("cost-tracker-"))!;
            assert.ok(resource.dependencies.includes(value.urn), `${resource.name} waits for the user's password`);
        }
    });
});
