import * as assert from "assert";
import { ecrNoPublicRepositories, lambdaFunctionUrlAuth, resourcePoliciesNotPublic } from "../resource-policies";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const OWN = "111122223333";
const OTHER = "444455556666";
const TOPIC_ARN = `arn:aws:sns:us-east-1:${OWN}:alerts`;

const policy = (...statements: Record<string, unknown>[]) =>
    JSON.stringify({ Version: "2012-10-17", Statement: statements });
/** What CloudWatch alarms of this account need: the service, pinned to the account. */
const alarmsPublish = {
    Sid: "AlarmsPublish",
    Effect: "Allow",
    Principal: { Service: "cloudwatch.amazonaws.com" },
    Action: "sns:Publish",
    Resource: TOPIC_ARN,
    Condition: { StringEquals: { "aws:SourceAccount": OWN } },
};
const topic = (name: string, ...statements: Record<string, unknown>[]) =>
    resource("aws:sns/topic:Topic", name, { policy: policy(...statements) }, { outputs: { arn: TOPIC_ARN } });
const open = (extra: Record<string, unknown> = {}) => ({
    Effect: "Allow",
    Principal: "*",
    Action: "sns:Publish",
    Resource: TOPIC_ARN,
    ...extra,
});

describe("policies: resource policies", () => {
    describe("resource-policies-not-public", () => {
        it("passes a topic policy that lets only this account's alarms publish", async () => {
            assert.deepStrictEqual(await violationsOf(resourcePoliciesNotPublic, [topic("alerts", alarmsPublish)]), []);
        });

        it('reports Principal "*" with no condition, naming the statement, who and what', async () => {
            const v = await theViolation(resourcePoliciesNotPublic, [topic("alerts", { Sid: "Open", ...open() })]);
            assert.strictEqual(
                v.message,
                'SNS topic "alerts": policy statement "Open" lets any AWS account call sns:Publish; name this stack\'s principals in Principal, ' +
                    "or add a condition AWS checks on the caller (aws:PrincipalOrgID, aws:PrincipalAccount, aws:SourceVpce), so no one outside the stack's accounts can.",
            );
        });

        for (const [how, principal] of [
            ['{"AWS": "*"}', { AWS: "*" }],
            ['["*"] under AWS', { AWS: ["*"] }],
            ["another account's root", { AWS: `arn:aws:iam::${OTHER}:root` }],
            ["another account's bare id", { AWS: OTHER }],
        ] as const) {
            it(`reports the same grant written as ${how}`, async () => {
                const v = await theViolation(resourcePoliciesNotPublic, [
                    topic("alerts", open({ Principal: principal })),
                ]);
                assert.match(
                    v.message,
                    /^SNS topic "alerts": policy Statement\[0\] lets (any AWS account|account 444455556666)/,
                );
            });
        }

        it("reports NotPrincipal, which lets in everyone it does not name", async () => {
            const notPrincipal = changed(open(), "Principal", undefined);
            const v = await theViolation(resourcePoliciesNotPublic, [
                topic("alerts", { ...notPrincipal, NotPrincipal: { AWS: `arn:aws:iam::${OWN}:root` } }),
            ]);
            assert.match(v.message, /lets any AWS account call sns:Publish/);
        });

        it("passes Principal * bound to the organisation, the account, the VPC or VPC endpoint, as AWS reads those keys", async () => {
            for (const condition of [
                { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
                { StringEquals: { "aws:PrincipalAccount": OWN } },
                { StringEquals: { "aws:SourceVpc": "vpc-0123456789abcdef0" } },
                { StringEquals: { "aws:SourceVpce": "vpce-0123456789abcdef0" } },
                { IpAddress: { "aws:SourceIp": "203.0.113.0/24" } },
            ])
                assert.deepStrictEqual(
                    await violationsOf(resourcePoliciesNotPublic, [topic("alerts", open({ Condition: condition }))]),
                    [],
                    JSON.stringify(condition),
                );
        });

        it("passes an open Allow that a Deny closes to everyone outside the organisation", async () => {
            const deny = {
                Effect: "Deny",
                Principal: "*",
                Action: "sns:*",
                Resource: TOPIC_ARN,
                Condition: { StringNotEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
            };
            assert.deepStrictEqual(await violationsOf(resourcePoliciesNotPublic, [topic("alerts", open(), deny)]), []);
        });

        for (const [how, condition] of [
            ["IfExists, which holds when the key is absent", { StringEqualsIfExists: { "aws:SourceVpc": "vpc-1" } }],
            ["a negated operator", { StringNotEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } }],
            ["a key the caller chooses (aws:UserAgent)", { StringLike: { "aws:UserAgent": "internal-*" } }],
            [
                "ForAllValues over an absent key",
                { "ForAllValues:StringEquals": { "aws:PrincipalOrgPaths": "o-1/r-1/" } },
            ],
            ["source addresses that are the internet", { IpAddress: { "aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"] } }],
        ] as const) {
            it(`reports a condition that does not really restrict: ${how}`, async () => {
                const v = await theViolation(resourcePoliciesNotPublic, [
                    topic("alerts", open({ Condition: condition })),
                ]);
                assert.match(v.message, /lets any AWS account call sns:Publish/);
            });
        }

        it("reports a service principal with no source condition: any account's resources may use it", async () => {
            const unpinned = changed(alarmsPublish, "Condition", undefined);
            const v = await theViolation(resourcePoliciesNotPublic, [topic("alerts", unpinned)]);
            assert.match(
                v.message,
                /lets cloudwatch\.amazonaws\.com acting for a resource of any account call sns:Publish; add conditions on aws:SourceAccount and aws:SourceArn/,
            );
        });

        it("reports the same exposure through a separate TopicPolicy", async () => {
            const separate = resource("aws:sns/topicPolicy:TopicPolicy", "alerts-policy", {
                arn: TOPIC_ARN,
                policy: policy(open({ Principal: { AWS: "*" } })),
            });
            const v = await theViolation(resourcePoliciesNotPublic, [separate]);
            assert.match(v.message, /^SNS topic policy "alerts-policy": policy Statement\[0\] lets any AWS account/);
        });

        it("lists each action a wildcard grants, as IAM knows them", async () => {
            const v = await theViolation(resourcePoliciesNotPublic, [topic("alerts", open({ Action: "sns:Get*" }))]);
            // sns:GetTopicAttributes, sns:GetDataProtectionPolicy, sns:GetSubscriptionAttributes: the Get actions on a topic.
            assert.match(v.message, /sns:GetTopicAttributes/);
            assert.doesNotMatch(v.message, /sns:Publish/);
        });

        describe("each kind of resource policy", () => {
            const cases: [string, string, Record<string, unknown>, string][] = [
                [
                    "aws:secretsmanager/secret:Secret",
                    "token",
                    {
                        policy: policy({
                            Effect: "Allow",
                            Principal: { AWS: "*" },
                            Action: "secretsmanager:GetSecretValue",
                            Resource: "*",
                        }),
                    },
                    "secretsmanager:GetSecretValue",
                ],
                [
                    "aws:secretsmanager/secretPolicy:SecretPolicy",
                    "token-policy",
                    {
                        secretArn: `arn:aws:secretsmanager:us-east-1:${OWN}:secret:token-AbCdEf`,
                        policy: policy({ Effect: "Allow", Principal: "*", Action: "secretsmanager:*", Resource: "*" }),
                    },
                    "secretsmanager:*",
                ],
                [
                    "aws:kms/key:Key",
                    "data-key",
                    {
                        policy: policy({
                            Effect: "Allow",
                            Principal: { AWS: "*" },
                            Action: "kms:Decrypt",
                            Resource: "*",
                        }),
                    },
                    "kms:Decrypt",
                ],
                [
                    "aws:kms/keyPolicy:KeyPolicy",
                    "data-key-policy",
                    {
                        keyId: `arn:aws:kms:us-east-1:${OWN}:key/0f8e5a4b-1c2d-4e3f-9a8b-7c6d5e4f3a2b`,
                        policy: policy({
                            Effect: "Allow",
                            Principal: { AWS: `arn:aws:iam::${OTHER}:root` },
                            Action: "kms:*",
                            Resource: "*",
                        }),
                    },
                    "kms:*",
                ],
                [
                    "aws:ecr/repositoryPolicy:RepositoryPolicy",
                    "images-policy",
                    {
                        repository: "images",
                        policy: policy({
                            Effect: "Allow",
                            Principal: "*",
                            Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                        }),
                    },
                    "ecr:BatchGetImage",
                ],
                [
                    "aws:ecrpublic/repositoryPolicy:RepositoryPolicy",
                    "public-images-policy",
                    {
                        repositoryName: "images",
                        policy: policy({ Effect: "Allow", Principal: "*", Action: "ecr-public:PutImage" }),
                    },
                    "ecr-public:PutImage",
                ],
                [
                    "aws:lambda/permission:Permission",
                    "invoke-anyone",
                    { function: "handler", action: "lambda:InvokeFunction", principal: "*" },
                    "lambda:InvokeFunction",
                ],
                [
                    "aws:lambda/resourcePolicy:ResourcePolicy",
                    "handler-policy",
                    {
                        resourceArn: `arn:aws:lambda:us-east-1:${OWN}:function:handler`,
                        policy: policy({
                            Effect: "Allow",
                            Principal: { AWS: OTHER },
                            Action: "lambda:InvokeFunction",
                            Resource: "*",
                        }),
                    },
                    "lambda:InvokeFunction",
                ],
                [
                    "aws:efs/fileSystemPolicy:FileSystemPolicy",
                    "shared-fs-policy",
                    {
                        fileSystemId: "fs-0123",
                        policy: policy({
                            Effect: "Allow",
                            Principal: { AWS: "*" },
                            Action: "elasticfilesystem:ClientMount",
                            Resource: "*",
                        }),
                    },
                    "elasticfilesystem:ClientMount",
                ],
                [
                    "aws:dynamodb/resourcePolicy:ResourcePolicy",
                    "jobs-policy",
                    {
                        resourceArn: `arn:aws:dynamodb:us-east-1:${OWN}:table/jobs`,
                        policy: policy({ Effect: "Allow", Principal: "*", Action: "dynamodb:GetItem", Resource: "*" }),
                    },
                    "dynamodb:GetItem",
                ],
            ];
            for (const [type, name, inputs, action] of cases) {
                it(`${type.split(":").pop()}: reports an open one (${action}), passes one pinned to the organisation`, async () => {
                    const v = await theViolation(resourcePoliciesNotPublic, [resource(type, name, inputs)]);
                    assert.ok(v.message.includes(`"${name}"`) && v.message.includes(action), v.message);
                    if (type === "aws:lambda/permission:Permission") {
                        const pinned = { ...inputs, principalOrgId: "o-a1b2c3d4e5" };
                        assert.deepStrictEqual(
                            await violationsOf(resourcePoliciesNotPublic, [resource(type, name, pinned)]),
                            [],
                        );
                        return;
                    }
                    const document = JSON.parse(inputs.policy as string) as { Statement: Record<string, unknown>[] };
                    document.Statement[0].Condition = { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } };
                    if (
                        document.Statement[0].Principal !== "*" &&
                        !JSON.stringify(document.Statement[0].Principal).includes('"*"')
                    )
                        return; // another account's grant stays outside, whatever the organisation says
                    assert.deepStrictEqual(
                        await violationsOf(resourcePoliciesNotPublic, [
                            resource(type, name, { ...inputs, policy: JSON.stringify(document) }),
                        ]),
                        [],
                    );
                });
            }

            it("lambda.Permission: an S3 trigger without sourceAccount lets any account's bucket invoke the function", async () => {
                const trigger = {
                    function: "handler",
                    action: "lambda:InvokeFunction",
                    principal: "s3.amazonaws.com",
                    sourceArn: "arn:aws:s3:::uploads",
                };
                // Bucket ARNs carry no account: another account can own a bucket of that name (Lambda Developer Guide; FSBP Lambda.1).
                const v = await theViolation(resourcePoliciesNotPublic, [
                    resource("aws:lambda/permission:Permission", "from-s3", trigger),
                ]);
                assert.match(
                    v.message,
                    /^Lambda permission "from-s3": principal lets s3\.amazonaws\.com acting for a resource of any account/,
                );
                assert.deepStrictEqual(
                    await violationsOf(resourcePoliciesNotPublic, [
                        resource("aws:lambda/permission:Permission", "from-s3", { ...trigger, sourceAccount: OWN }),
                    ]),
                    [],
                );
            });

            it("a key policy naming this account's root (the default) and another account listed as trusted passes", async () => {
                const keyPolicy = policy(
                    { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${OWN}:root` }, Action: "kms:*", Resource: "*" },
                    {
                        Effect: "Allow",
                        Principal: { AWS: `arn:aws:iam::${OTHER}:root` },
                        Action: "kms:Decrypt",
                        Resource: "*",
                    },
                );
                const key = resource(
                    "aws:kms/key:Key",
                    "data-key",
                    { policy: keyPolicy },
                    {
                        outputs: { arn: `arn:aws:kms:us-east-1:${OWN}:key/0f8e5a4b-1c2d-4e3f-9a8b-7c6d5e4f3a2b` },
                    },
                );
                assert.deepStrictEqual(
                    await violationsOf(resourcePoliciesNotPublic, [key], { trustedAccounts: [OTHER] }),
                    [],
                );
                const v = await theViolation(resourcePoliciesNotPublic, [key]);
                assert.match(
                    v.message,
                    /^KMS key "data-key": policy Statement\[1\] lets account 444455556666 \(not this stack's\) call kms:Decrypt;/,
                );
            });

            it("a key policy open to * but bound to the calling account with kms:CallerAccount passes", async () => {
                const keyPolicy = policy({
                    Effect: "Allow",
                    Principal: { AWS: "*" },
                    Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                    Resource: "*",
                    Condition: {
                        StringEquals: { "kms:CallerAccount": OWN, "kms:ViaService": "sns.us-east-1.amazonaws.com" },
                    },
                });
                assert.deepStrictEqual(
                    await violationsOf(resourcePoliciesNotPublic, [
                        resource("aws:kms/key:Key", "k", { policy: keyPolicy }),
                    ]),
                    [],
                );
            });
        });
    });

    describe("lambda-function-url-auth", () => {
        const url = (authorizationType?: string) =>
            resource("aws:lambda/functionUrl:FunctionUrl", "handler-url", {
                functionName: "handler",
                authorizationType,
            });

        it("passes an IAM-authenticated URL", async () => {
            assert.deepStrictEqual(await violationsOf(lambdaFunctionUrlAuth, [url("AWS_IAM")]), []);
        });

        it("reports a URL anyone can call", async () => {
            const v = await theViolation(lambdaFunctionUrlAuth, [url("NONE")]);
            assert.strictEqual(
                v.message,
                'Lambda function URL "handler-url" has authorizationType "NONE", so anyone on the internet can invoke it; set authorizationType: "AWS_IAM" and grant lambda:InvokeFunctionUrl to the principals that call it.',
            );
        });
    });

    describe("ecr-no-public-repositories", () => {
        const repo = resource("aws:ecrpublic/repository:Repository", "models", { repositoryName: "models" });

        it("reports an ECR Public repository", async () => {
            const v = await theViolation(ecrNoPublicRepositories, [repo]);
            assert.match(
                v.message,
                /^ECR Public repository "models" \(models\) serves every image pushed to it to anyone on the internet; use a private aws\.ecr\.Repository/,
            );
        });

        it("passes it where the stack allows published images, and passes private repositories", async () => {
            assert.deepStrictEqual(
                await violationsOf(ecrNoPublicRepositories, [repo], { allowPublicRepositories: true }),
                [],
            );
            assert.deepStrictEqual(
                await violationsOf(ecrNoPublicRepositories, [resource("aws:ecr/repository:Repository", "models", {})]),
                [],
            );
        });
    });
});
