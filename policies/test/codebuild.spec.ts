import * as assert from "assert";
import { codebuildEncryption, codebuildNoPlaintextCredentials, codebuildPrivilegedMode } from "../codebuild";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const PROJECT = "aws:codebuild/project:Project";
/** A team's build: unprivileged, its token from Secrets Manager, artifacts encrypted. */
const project = {
    name: "team-build",
    serviceRole: "arn:aws:iam::111122223333:role/team-build",
    artifacts: { type: "S3", location: "team-artifacts" },
    environment: {
        computeType: "BUILD_GENERAL1_SMALL",
        image: "aws/codebuild/amazonlinux-x86_64-standard:5.0",
        type: "LINUX_CONTAINER",
        environmentVariables: [
            { name: "STAGE", value: "dev" },
            { name: "GITHUB_TOKEN", value: "team/github-token", type: "SECRETS_MANAGER" },
        ],
    },
    source: { type: "GITHUB", location: "https://github.com/acme/models.git" },
};
const build = (inputs: Record<string, unknown>) => resource(PROJECT, "team-build", inputs);

describe("policies: CodeBuild", () => {
    it("pass a team's build", async () => {
        for (const policy of [codebuildPrivilegedMode, codebuildNoPlaintextCredentials, codebuildEncryption])
            assert.deepStrictEqual(await violationsOf(policy, [build(project)]), [], policy.name);
    });

    describe("codebuild-privileged-mode", () => {
        const privileged = changed(project, "environment.privilegedMode", true);
        it("reports a privileged project", async () => {
            const v = await theViolation(codebuildPrivilegedMode, [build(privileged)]);
            assert.match(
                v.message,
                /^CodeBuild project "team-build" runs privileged \(environment\.privilegedMode true\)/,
            );
        });
        it("passes the platform's runner, named in allowedPrivilegedProjects, and nothing else by that config", async () => {
            const runner = { ...privileged, name: "gpu-platform-dev-deploy-runner" };
            const config = { allowedPrivilegedProjects: ["gpu-platform-dev-deploy-runner"] };
            assert.deepStrictEqual(await violationsOf(codebuildPrivilegedMode, [build(runner)], config), []);
            assert.strictEqual((await violationsOf(codebuildPrivilegedMode, [build(privileged)], config)).length, 1);
        });
    });

    describe("codebuild-no-plaintext-credentials", () => {
        it("reports a credential in a PLAINTEXT variable, the default type", async () => {
            const plain = changed(project, "environment.environmentVariables.1", {
                name: "GITHUB_TOKEN",
                value: "ghp_0123456789",
            });
            const v = await theViolation(codebuildNoPlaintextCredentials, [build(plain)]);
            assert.strictEqual(
                v.message,
                'CodeBuild project "team-build": environment.environmentVariables[1] GITHUB_TOKEN names a credential, in plain text that codebuild:BatchGetProjects shows; ' +
                    'set its type to "SECRETS_MANAGER" (or "PARAMETER_STORE") and its value to the secret\'s name or ARN.',
            );
        });
        it("reports an access key id under any name", async () => {
            const plain = changed(project, "environment.environmentVariables.0", {
                name: "UPLOAD",
                value: "AKIAIOSFODNN7EXAMPLE",
                type: "PLAINTEXT",
            });
            assert.match(
                (await theViolation(codebuildNoPlaintextCredentials, [build(plain)])).message,
                /UPLOAD holds an AWS access key id/,
            );
        });
        it("reports a token in the source URL", async () => {
            const v = await theViolation(codebuildNoPlaintextCredentials, [
                build(
                    changed(project, "source.location", "https://x-access-token:ghp_0123@github.com/acme/models.git"),
                ),
            ]);
            assert.match(
                v.message,
                /^CodeBuild project "team-build": source\.location carries a user or token in its URL/,
            );
        });
    });

    describe("codebuild-encryption", () => {
        it("reports artifacts and S3 logs written unencrypted", async () => {
            const unencrypted = {
                ...changed(project, "artifacts.encryptionDisabled", true),
                logsConfig: { s3Logs: { status: "ENABLED", location: "team-logs/build", encryptionDisabled: true } },
            };
            const v = await theViolation(codebuildEncryption, [build(unencrypted)]);
            assert.strictEqual(
                v.message,
                'CodeBuild project "team-build" writes artifacts and logsConfig to S3 unencrypted (artifacts.encryptionDisabled, logsConfig.s3Logs.encryptionDisabled true); ' +
                    "remove encryptionDisabled (CodeBuild then encrypts with the project's encryptionKey, or the AWS managed key for S3).",
            );
        });
        it("reports a secondary artifact", async () => {
            const v = await theViolation(codebuildEncryption, [
                build({
                    ...project,
                    secondaryArtifacts: [{ artifactIdentifier: "model", type: "S3", encryptionDisabled: true }],
                }),
            ]);
            assert.match(v.message, /secondaryArtifacts\[0\]\.encryptionDisabled/);
        });
    });
});
