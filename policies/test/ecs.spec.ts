import * as assert from "assert";
import { ecsNoPublicIp } from "../ecs";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const SERVICE = "aws:ecs/service:Service";
const service = {
    launchType: "FARGATE",
    networkConfiguration: { subnets: ["subnet-a", "subnet-b"], securityGroups: ["sg-tasks"], assignPublicIp: false },
};

describe("policies: ecs", () => {
    describe("ecs-no-public-ip", () => {
        it("passes a service whose tasks get no public IP, or that leaves it unset (ECS's default is none)", async () => {
            assert.deepStrictEqual(await violationsOf(ecsNoPublicIp, [resource(SERVICE, "api", service)]), []);
            assert.deepStrictEqual(
                await violationsOf(ecsNoPublicIp, [
                    resource(SERVICE, "api", changed(service, "networkConfiguration.assignPublicIp", undefined)),
                ]),
                [],
            );
        });

        it("reports a service that gives its tasks public IPs, saying what to set", async () => {
            const v = await theViolation(ecsNoPublicIp, [
                resource(SERVICE, "api", changed(service, "networkConfiguration.assignPublicIp", true)),
            ]);
            assert.strictEqual(
                v.message,
                'ECS service "api" gives its tasks public IP addresses; set networkConfiguration.assignPublicIp to false and run them in private subnets behind a load balancer.',
            );
        });

        it("checks task sets (external deployments) the same way", async () => {
            const taskSet = {
                cluster: "c",
                service: "api",
                taskDefinition: "td",
                networkConfiguration: service.networkConfiguration,
            };
            assert.deepStrictEqual(
                await violationsOf(ecsNoPublicIp, [resource("aws:ecs/taskSet:TaskSet", "blue", taskSet)]),
                [],
            );
            const v = await theViolation(ecsNoPublicIp, [
                resource(
                    "aws:ecs/taskSet:TaskSet",
                    "blue",
                    changed(taskSet, "networkConfiguration.assignPublicIp", true),
                ),
            ]);
            assert.match(v.message, /^ECS task set "blue" gives its tasks public IP addresses/);
        });
    });
});
