/**
 * CodeBuild projects: privileged mode (a Docker daemon with the host's kernel) only for the
 * platform's own deploy runner, no credential in plaintext environment variables or source
 * URLs, and artifacts and S3 logs encrypted (FSBP CodeBuild.1, .2, .3, .5, .7).
 */
import { resourcePolicy } from "./lib/define";
import { plaintextCredential } from "./lib/credentials";
import { asList, asRecord, asString, isTrue } from "./lib/values";

const PROJECT = "aws:codebuild/project:Project";

export const codebuildPrivilegedMode = resourcePolicy({
    name: "codebuild-privileged-mode",
    description:
        "CodeBuild projects run unprivileged (environment.privilegedMode false or unset), except the projects allowedPrivilegedProjects names (the " +
        "platform's deploy runner, which builds images): a privileged build runs a Docker daemon with root on its host.",
    enforcementLevel: "mandatory",
    config: {
        allowedPrivilegedProjects: {
            type: "array",
            items: { type: "string" },
            description: "Names (the project's name property) of the projects that may run privileged.",
            default: [] as string[],
        },
    },
    resourceTypes: [PROJECT],
    validate: ({ name, props }, { allowedPrivilegedProjects }, report) => {
        if (!isTrue(asRecord(props.environment)?.privilegedMode)) return;
        const projectName = asString(props.name);
        if (projectName !== undefined && allowedPrivilegedProjects.includes(projectName)) return;
        report(
            `CodeBuild project "${name}" runs privileged (environment.privilegedMode true), so its builds run a Docker daemon as root on their host; ` +
                "set privilegedMode: false (build images with a daemonless builder such as BuildKit rootless or Kaniko), or name the project in allowedPrivilegedProjects.",
        );
    },
});

export const codebuildNoPlaintextCredentials = resourcePolicy({
    name: "codebuild-no-plaintext-credentials",
    description:
        "CodeBuild projects hold no credential in plain text: no PLAINTEXT environment variable (the default type) whose name or value is a credential " +
        "(use type PARAMETER_STORE or SECRETS_MANAGER, whose value is a name), and no user or token in a source location URL (use a source credential).",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [PROJECT],
    validate: ({ name, props }, _config, report) => {
        asList(asRecord(props.environment)?.environmentVariables).forEach((v, i) => {
            const variable = asRecord(v) ?? {};
            if ((asString(variable.type) ?? "PLAINTEXT") !== "PLAINTEXT") return;
            const why = plaintextCredential(asString(variable.name) ?? "", variable.value);
            if (!why) return;
            report(
                `CodeBuild project "${name}": environment.environmentVariables[${i}] ${String(variable.name)} ${why}, in plain text that codebuild:BatchGetProjects shows; ` +
                    'set its type to "SECRETS_MANAGER" (or "PARAMETER_STORE") and its value to the secret\'s name or ARN.',
            );
        });
        const sources = [
            ["source", asRecord(props.source)],
            ...asList(props.secondarySources).map((s, i) => [`secondarySources[${i}]`, asRecord(s)] as const),
        ] as const;
        for (const [setting, source] of sources) {
            const location = asString(source?.location) ?? "";
            if (!/^[a-z][a-z0-9+.-]*:\/\/[^/\s@]+@/i.test(location)) continue;
            report(
                `CodeBuild project "${name}": ${setting}.location carries a user or token in its URL, in plain text; ` +
                    "remove it and connect the repository with an aws.codebuild.SourceCredential or a CodeConnections connection.",
            );
        }
    },
});

export const codebuildEncryption = resourcePolicy({
    name: "codebuild-encryption",
    description:
        "CodeBuild projects keep their artifacts and S3 logs encrypted: artifacts.encryptionDisabled, secondaryArtifacts[].encryptionDisabled and " +
        "logsConfig.s3Logs.encryptionDisabled false or unset.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [PROJECT],
    validate: ({ name, props }, _config, report) => {
        const settings = [
            ["artifacts", asRecord(props.artifacts)],
            ...asList(props.secondaryArtifacts).map((a, i) => [`secondaryArtifacts[${i}]`, asRecord(a)] as const),
            ["logsConfig.s3Logs", asRecord(asRecord(props.logsConfig)?.s3Logs)],
        ] as const;
        const disabled = settings
            .filter(([, s]) => isTrue(s?.encryptionDisabled) && s?.type !== "NO_ARTIFACTS")
            .map(([at]) => `${at}.encryptionDisabled`);
        if (disabled.length === 0) return;
        report(
            `CodeBuild project "${name}" writes ${disabled.map((d) => d.split(".")[0]).join(" and ")} to S3 unencrypted (${disabled.join(", ")} true); ` +
                "remove encryptionDisabled (CodeBuild then encrypts with the project's encryptionKey, or the AWS managed key for S3).",
        );
    },
});
