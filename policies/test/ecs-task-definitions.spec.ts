import * as assert from "assert";
import { ecsTaskHardening, ecsTaskLogging, ecsTaskSecrets } from "../ecs-task-definitions";
import { resource, theViolation, violationsOf } from "./support/check";

const TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition";
/** As the cost tracker's: awsvpc, a non-root image, credentials from Secrets Manager, logs to CloudWatch. */
const container = {
    name: "api",
    image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/api@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    essential: true,
    environment: [
        { name: "PORT", value: "8080" },
        { name: "DATABASE_URL", value: "postgres://api@db.internal:5432/api?sslmode=verify-full" },
    ],
    secrets: [
        { name: "DATABASE_PASSWORD", valueFrom: "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf" },
    ],
    logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "api-logs" } },
};
const task = (changes: Record<string, unknown> = {}, containerChanges: Record<string, unknown> = {}) =>
    resource(TASK_DEFINITION, "api-task", {
        family: "api",
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        containerDefinitions: JSON.stringify([{ ...container, ...containerChanges }]),
        ...changes,
    });

describe("policies: ECS task definitions", () => {
    it("pass a task definition like the cost tracker's", async () => {
        for (const policy of [ecsTaskHardening, ecsTaskSecrets, ecsTaskLogging])
            assert.deepStrictEqual(await violationsOf(policy, [task()]), [], policy.name);
    });

    describe("ecs-task-hardening", () => {
        it("reports a privileged container", async () => {
            const v = await theViolation(ecsTaskHardening, [task({}, { privileged: true })]);
            assert.strictEqual(
                v.message,
                'ECS task definition "api-task": container "api" is privileged, so it has every capability and the host\'s devices; remove privileged (or set it false).',
            );
        });

        for (const mode of ["networkMode", "pidMode", "ipcMode"])
            it(`reports ${mode} "host"`, async () => {
                const v = await theViolation(ecsTaskHardening, [task({ [mode]: "host" })]);
                assert.match(v.message, new RegExp(`^ECS task definition "api-task" sets ${mode}: "host"`));
            });

        it("reports root (user unset, 0 or root) with SYS_ADMIN or NET_ADMIN added, and passes the same as a non-root user", async () => {
            const caps = { linuxParameters: { capabilities: { add: ["SYS_ADMIN", "CHOWN"] } } };
            for (const user of [undefined, "0", "root:root"]) {
                const v = await theViolation(ecsTaskHardening, [task({}, { ...caps, user })]);
                assert.match(
                    v.message,
                    /container "api" runs as root .* and adds SYS_ADMIN \(linuxParameters\.capabilities\.add\)/,
                );
            }
            assert.match(
                (
                    await theViolation(ecsTaskHardening, [
                        task({}, { linuxParameters: { capabilities: { add: ["CAP_NET_ADMIN"] } } }),
                    ])
                ).message,
                /adds NET_ADMIN/,
            );
            assert.deepStrictEqual(
                await violationsOf(ecsTaskHardening, [task({}, { ...caps, user: "1000:1000" })]),
                [],
            );
        });
    });

    describe("ecs-task-secrets", () => {
        for (const [name, value, why] of [
            ["DB_PASSWORD", "hunter2", "names a credential"],
            ["github-token", "ghp_0123456789", "names a credential"],
            ["AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "names a credential"],
            ["ECS_ENGINE_AUTH_DATA", '{"https://index.docker.io/v1/":{"auth":"..."}}', "names a credential"],
            ["UPSTREAM", "AKIAIOSFODNN7EXAMPLE", "holds an AWS access key id"],
            ["DATABASE_URL", "postgres://api:hunter2@db.internal:5432/api", "holds a URL with a password"],
        ])
            it(`reports ${name} in plain environment (${why})`, async () => {
                const v = await theViolation(ecsTaskSecrets, [task({}, { environment: [{ name, value }] })]);
                assert.strictEqual(
                    v.message,
                    `ECS task definition "api-task": container "api" environment[0] ${name} ${why}, in plain text that ecs:DescribeTaskDefinition shows; ` +
                        `move it to secrets: [{ name: "${name}", valueFrom: <a Secrets Manager secret or SSM parameter ARN> }].`,
                );
            });

        it("passes a variable that names where the credential is kept", async () => {
            const arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf";
            assert.deepStrictEqual(
                await violationsOf(ecsTaskSecrets, [
                    task({}, { environment: [{ name: "DB_PASSWORD_SECRET", value: arn }] }),
                ]),
                [],
            );
        });
    });

    describe("ecs-task-logging", () => {
        it("reports a container with no log configuration", async () => {
            const v = await theViolation(ecsTaskLogging, [task({}, { logConfiguration: undefined })]);
            assert.match(
                v.message,
                /^ECS task definition "api-task": container "api" has no logConfiguration, so its output is lost/,
            );
        });
    });
});
