/**
 * Issue 24: a job that reaches the deploy runner gets nothing from the runner itself. The
 * runner's CodeBuild role (which CodeBuild hands to every build container) is judged by a real
 * IAM evaluator (@cloud-copilot/iam-simulate) against what a hostile job would try; the deploy
 * role's trust policy against the tokens GitHub would mint for other branches, pull requests and
 * repositories. Token subjects follow GitHub's "OpenID Connect reference" (default
 * `repo:<repo>:pull_request`, `repo:<repo>:ref:refs/heads/<branch>`; with the subject template
 * ["repo", "context", "ref"], `repo:<repo>:environment:<env>:ref:refs/heads/<branch>`).
 */
import * as assert from "assert";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { deployRoleTrustPolicy, deployRunnerStatements } from "../components/cluster";
import { promiseOf } from "./harness";
import * as pulumi from "@pulumi/pulumi";

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const LOG_GROUP = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/codebuild/gpu-platform-prod-deploy-runner`;
const SUBNETS = ["subnet-0aaa", "subnet-0bbb"];
const RUNNER = `arn:aws:iam::${ACCOUNT}:role/gpu-platform-prod-deploy-runner-role`;
const REPO = "acme/gpu-platform";

async function runnerPolicy(connectionArn?: string) {
    const statements = deployRunnerStatements("aws", REGION, ACCOUNT, LOG_GROUP, SUBNETS, connectionArn);
    return { Version: "2012-10-17", Statement: await promiseOf(pulumi.output(statements)) };
}

async function runnerMay(action: string, resource: string, connectionArn?: string): Promise<string> {
    const result = await runSimulation(
        {
            request: { principal: RUNNER, action, resource: { resource, accountId: ACCOUNT }, contextVariables: {} },
            identityPolicies: [{ name: "runner", policy: await runnerPolicy(connectionArn) }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
        },
        {},
    );
    if (result.resultType === "error") throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
}

const ISSUER = "token.actions.githubusercontent.com";
const TRUST = deployRoleTrustPolicy({
    partition: "aws",
    accountId: ACCOUNT,
    repository: REPO,
    environment: "prod",
    branch: "main",
});

/**
 * What the deploy role's trust answers to a token with these claims. The evaluator's data (the
 * Service Authorization Reference) has GitHub's `repository`, `environment` and `ref` keys for
 * sts:AssumeRoleWithWebIdentity but not `sub` or `aud`, which it would ignore (and so refuse
 * everything); those two are held to GitHub's documented values by the test below instead, and
 * the evaluator judges the statement on the claims it knows.
 */
async function trustAnswers(claims: { repository: string; environment?: string; ref: string }): Promise<string> {
    const statement = structuredClone(TRUST.Statement[0]);
    const equals = statement.Condition.StringEquals as Record<string, string>;
    delete equals[`${ISSUER}:sub`];
    delete equals[`${ISSUER}:aud`];
    const context: Record<string, string> = {
        [`${ISSUER}:repository`]: claims.repository,
        [`${ISSUER}:ref`]: claims.ref,
    };
    if (claims.environment) context[`${ISSUER}:environment`] = claims.environment;
    const result = await runSimulation(
        {
            request: {
                principal: `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER}`,
                action: "sts:AssumeRoleWithWebIdentity",
                resource: { resource: `arn:aws:iam::${ACCOUNT}:role/platform-deployer`, accountId: ACCOUNT },
                contextVariables: context,
            },
            identityPolicies: [],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: { Version: "2012-10-17", Statement: [statement] },
        },
        {},
    );
    if (result.resultType === "error") throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
}

describe("deploy runner: what a job gets from the runner itself", () => {
    it("may write its own logs and manage its network interfaces, which is all CodeBuild needs", async () => {
        assert.strictEqual(await runnerMay("logs:PutLogEvents", `${LOG_GROUP}:log-stream:build-1`), "Allowed");
        assert.strictEqual(await runnerMay("ec2:CreateNetworkInterface", "*"), "Allowed");
    });

    const attempts: [string, string][] = [
        ["eks:DescribeCluster", `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/gpu-platform-prod`],
        ["eks:CreateAccessEntry", `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/gpu-platform-prod`],
        ["iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/gpu-platform-prod-node`],
        ["sts:AssumeRole", `arn:aws:iam::${ACCOUNT}:role/platform-deployer`],
        ["s3:PutObject", `arn:aws:s3:::acme-pulumi-state/.pulumi/stacks/gpu-platform/prod.json`],
        ["s3:GetObject", `arn:aws:s3:::acme-pulumi-state/.pulumi/stacks/gpu-platform/prod.json`],
        [
            "secretsmanager:GetSecretValue",
            `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:gpu-platform-prod/portal-AbCdEf`,
        ],
        ["kms:Decrypt", `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`],
        ["ecr:PutImage", `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/gpu-platform-prod/cost-tracker`],
        [
            "logs:PutLogEvents",
            `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/eks/gpu-platform-prod/cluster:log-stream:x`,
        ],
        ["ec2:RunInstances", `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`],
        ["codeconnections:GetConnectionToken", `arn:aws:codeconnections:${REGION}:${ACCOUNT}:connection/abc`],
    ];
    for (const [action, resource] of attempts)
        it(`cannot ${action} on ${resource.split(":").slice(2, 3).join("") || resource}`, async () => {
            assert.strictEqual(await runnerMay(action, resource), "ImplicitlyDenied");
        });

    it("attaches interfaces only in its own subnets, and only for CodeBuild", async () => {
        // The condition keys of ec2:CreateNetworkInterfacePermission are what the statement pins; without them, nothing.
        assert.strictEqual(
            await runnerMay(
                "ec2:CreateNetworkInterfacePermission",
                `arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/eni-1`,
            ),
            "ImplicitlyDenied",
        );
    });

    it("reads the GitHub connection's token only when the runner uses a connection (the remaining limit, docs/deploy-runner.md)", async () => {
        const connection = `arn:aws:codeconnections:${REGION}:${ACCOUNT}:connection/abc`;
        assert.strictEqual(await runnerMay("codeconnections:GetConnectionToken", connection), "ImplicitlyDenied");
        assert.strictEqual(await runnerMay("codeconnections:GetConnectionToken", connection, connection), "Allowed");
        const other = `arn:aws:codeconnections:${REGION}:${ACCOUNT}:connection/other`;
        assert.strictEqual(
            await runnerMay("codeconnections:GetConnectionToken", other, connection),
            "ImplicitlyDenied",
        );
    });
});

describe("deploy role: whose tokens its trust accepts", () => {
    it("trusts GitHub's provider for STS, with the default subject of a job in the prod environment", () => {
        const [statement] = TRUST.Statement;
        assert.deepStrictEqual(statement.Principal, {
            Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
        });
        assert.strictEqual(statement.Condition.StringEquals[`${ISSUER}:aud`], "sts.amazonaws.com");
        assert.strictEqual(
            statement.Condition.StringEquals[`${ISSUER}:sub`],
            "repo:acme/gpu-platform:environment:prod",
        );
    });

    it("accepts a job of the repository's prod environment on main", async () => {
        assert.strictEqual(
            await trustAnswers({ repository: REPO, environment: "prod", ref: "refs/heads/main" }),
            "Allowed",
        );
    });

    const refused: [string, { repository: string; environment?: string; ref: string }][] = [
        ["a pull request (no environment, a merge ref)", { repository: REPO, ref: "refs/pull/7/merge" }],
        [
            "a pull request that names the environment",
            { repository: REPO, environment: "prod", ref: "refs/pull/7/merge" },
        ],
        [
            "another branch that names the environment",
            { repository: REPO, environment: "prod", ref: "refs/heads/feature" },
        ],
        ["main without the environment (and its approval)", { repository: REPO, ref: "refs/heads/main" }],
        ["another environment", { repository: REPO, environment: "dev", ref: "refs/heads/main" }],
        ["a fork", { repository: "someone/gpu-platform", environment: "prod", ref: "refs/heads/main" }],
        ["a tag", { repository: REPO, environment: "prod", ref: "refs/tags/v1.0.0" }],
    ];
    for (const [what, claims] of refused)
        it(`refuses ${what}`, async () => {
            assert.strictEqual(await trustAnswers(claims), "ImplicitlyDenied");
        });
});
