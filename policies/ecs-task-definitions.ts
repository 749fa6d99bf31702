/**
 * ECS task definitions: containers do not get the host (privileged mode, the host's network,
 * process or IPC namespace, or root with capabilities that reach the kernel), keep credentials
 * in `secrets` (injected from Secrets Manager or Parameter Store at start) rather than in plain
 * `environment`, which anyone allowed ecs:DescribeTaskDefinition reads, and send their logs
 * somewhere (FSBP ECS.1, ECS.4, ECS.8, ECS.9, ECS.17).
 */
import { resourcePolicy } from "./lib/define";
import { plaintextCredential } from "./lib/credentials";
import { Props, asList, asRecord, asString, isUnknown, parseJsonish } from "./lib/values";

const TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition";

/** Capabilities that let a root container act on the host's kernel, devices or other processes (capabilities(7)). */
const HOST_CAPABILITIES = [
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "SYS_TIME",
    "NET_ADMIN",
    "DAC_READ_SEARCH",
    "BPF",
    "PERFMON",
    "MAC_ADMIN",
];

/** The containers of a task definition, each with its name; none when the definitions are unknown or do not parse. */
function containersOf(props: Props): { name: string; container: Props }[] {
    return asList(parseJsonish(props.containerDefinitions))
        .map(asRecord)
        .filter((c): c is Props => c !== undefined)
        .map((container, i) => ({ name: asString(container.name) ?? `containerDefinitions[${i}]`, container }));
}

/** Root unless a non-root user is named (the image's USER cannot be seen; Docker's default is root). */
function runsAsRoot(container: Props): boolean {
    const user = asString(container.user)?.trim();
    if (user === undefined || user === "") return !isUnknown(container.user);
    const who = user.split(":")[0];
    return who === "0" || who === "root";
}

export const ecsTaskHardening = resourcePolicy({
    name: "ecs-task-hardening",
    description:
        'ECS task definitions keep containers off the host: no privileged container, networkMode, pidMode and ipcMode not "host", and no container ' +
        "running as root (user unset, 0 or root) that adds a capability reaching the host (SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, ALL, ...).",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [TASK_DEFINITION],
    validate: ({ name, props }, _config, report) => {
        for (const mode of ["networkMode", "pidMode", "ipcMode"] as const)
            if (props[mode] === "host")
                report(
                    `ECS task definition "${name}" sets ${mode}: "host", so its containers share the host's ${mode.replace("Mode", "")} namespace ` +
                        `(and, with networkMode, its ports and the instance role's metadata endpoint); ${mode === "networkMode" ? 'set networkMode: "awsvpc"' : `remove ${mode}`}.`,
                );
        for (const { name: container, container: c } of containersOf(props)) {
            if (c.privileged === true)
                report(
                    `ECS task definition "${name}": container "${container}" is privileged, so it has every capability and the host's devices; remove privileged (or set it false).`,
                );
            const added = asList(asRecord(asRecord(c.linuxParameters)?.capabilities)?.add).map((cap) =>
                String(cap).toUpperCase().replace(/^CAP_/, ""),
            );
            const reaching = added.filter((cap) => HOST_CAPABILITIES.includes(cap));
            if (reaching.length > 0 && runsAsRoot(c))
                report(
                    `ECS task definition "${name}": container "${container}" runs as root (user ${JSON.stringify(c.user ?? "unset")}) and adds ${reaching.join(", ")} ` +
                        '(linuxParameters.capabilities.add), which reach the host\'s kernel; drop them, or run as a non-root user (user: "1000").',
                );
        }
    },
});

export const ecsTaskSecrets = resourcePolicy({
    name: "ecs-task-secrets",
    description:
        "ECS task definitions pass no credential in a container's plain environment: a variable whose name names one (PASSWORD, TOKEN, SECRET, API_KEY, " +
        "AWS_SECRET_ACCESS_KEY, ECS_ENGINE_AUTH_DATA, ...) or whose value is one (an AWS access key id, a URL with a password) belongs in secrets " +
        "(valueFrom a Secrets Manager secret or SSM parameter), which ECS injects at start and never shows in the task definition.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [TASK_DEFINITION],
    validate: ({ name, props }, _config, report) => {
        for (const { name: container, container: c } of containersOf(props)) {
            asList(c.environment).forEach((entry, i) => {
                const variable = asString(asRecord(entry)?.name) ?? "";
                const why = plaintextCredential(variable, asRecord(entry)?.value);
                if (!why) return;
                report(
                    `ECS task definition "${name}": container "${container}" environment[${i}] ${variable} ${why}, in plain text that ecs:DescribeTaskDefinition shows; ` +
                        `move it to secrets: [{ name: "${variable}", valueFrom: <a Secrets Manager secret or SSM parameter ARN> }].`,
                );
            });
        }
    },
});

export const ecsTaskLogging = resourcePolicy({
    name: "ecs-task-logging",
    description:
        "Every container of an ECS task definition sends its logs somewhere: logConfiguration with a logDriver (awslogs, awsfirelens, ...); without " +
        "one, its output is lost when the task stops.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [TASK_DEFINITION],
    validate: ({ name, props }, _config, report) => {
        for (const { name: container, container: c } of containersOf(props)) {
            const driver = asRecord(c.logConfiguration)?.logDriver;
            if (isUnknown(c.logConfiguration) || isUnknown(driver) || asString(driver)) continue;
            report(
                `ECS task definition "${name}": container "${container}" has no logConfiguration, so its output is lost when the task stops; ` +
                    'set logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": <a log group with retention>, "awslogs-region": ..., "awslogs-stream-prefix": ... } }.',
            );
        }
    },
});
