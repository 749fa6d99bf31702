/**
 * ECS baseline: a service's tasks get no public IP address. A task with one is reachable from
 * the internet wherever its security group allows, and needs none to reach AWS APIs from a
 * private subnet (NAT or VPC endpoints do that).
 */
import { resourcePolicy } from "./lib/define";
import { asRecord, isTrue, isUnknown } from "./lib/values";

export const ecsNoPublicIp = resourcePolicy({
    name: "ecs-no-public-ip",
    description:
        "ECS services and task sets do not give their tasks public IP addresses: networkConfiguration.assignPublicIp is false or unset (awsvpc tasks, Fargate included), " +
        "so tasks run in private subnets behind a load balancer.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: ["aws:ecs/service:Service", "aws:ecs/taskSet:TaskSet"],
    validate: ({ type, name, props }, _config, report) => {
        const network = asRecord(props.networkConfiguration);
        const assign = network?.assignPublicIp;
        if (isUnknown(assign) || !isTrue(assign)) return;
        report(
            `ECS ${type === "aws:ecs/taskSet:TaskSet" ? "task set" : "service"} "${name}" gives its tasks public IP addresses; set networkConfiguration.assignPublicIp to false and run them in private subnets behind a load balancer.`,
        );
    },
});
