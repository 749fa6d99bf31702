import * as assert from "assert";
import { FakeCloud } from "@gpu-platform/offline/fake-cloud";
import { iamDataActionsScoped, iamNoAdminGrants, iamTrustNotPublic } from "../iam";
import { resource, theViolation, violationsOf } from "./support/check";

/** The inference worker's policy: data actions on its own bucket and queue. */
const workerStatements = [
    {
        Sid: "ReadInput",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObjectTagging"],
        Resource: ["arn:aws:s3:::input/*"],
    },
    {
        Sid: "ConsumeQueue",
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
        Resource: "arn:aws:sqs:us-east-1:123456789012:jobs",
    },
];
/** The cluster autoscaler's discovery statement: read-only calls on "*", which cannot be scoped. */
const discovery = {
    Sid: "DiscoverNodeGroups",
    Effect: "Allow",
    Action: [
        "autoscaling:DescribeAutoScalingGroups",
        "ec2:DescribeInstanceTypes",
        "ec2:GetInstanceTypesFromInstanceRequirements",
        "eks:DescribeNodegroup",
    ],
    Resource: "*",
};
const document = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const rolePolicy = (policy: unknown) =>
    resource("aws:iam/rolePolicy:RolePolicy", "worker-policy", { role: "worker", policy });

describe("policies: IAM", () => {
    describe("iam-data-actions-scoped", () => {
        it("passes data actions scoped to resources, and read-only discovery on *", async () => {
            assert.deepStrictEqual(
                await violationsOf(iamDataActionsScoped, [rolePolicy(document(...workerStatements, discovery))]),
                [],
            );
        });

        it("reports a data action on Resource *, naming the statement and what to do", async () => {
            const v = await theViolation(iamDataActionsScoped, [
                rolePolicy(document({ ...workerStatements[0], Resource: "*" })),
            ]);
            assert.strictEqual(
                v.message,
                'RolePolicy "worker-policy": policy statement "ReadInput" allows data actions (s3:GetObject and s3:PutObjectTagging) on Resource "*"; ' +
                    "scope its Resource to the ARNs it needs (buckets' objects, queues, tables, keys, secrets), or split the read-only Describe/List actions into their own statement.",
            );
        });

        it("reports wildcards that include data actions", async () => {
            for (const action of [
                "*",
                "s3:*",
                "kms:GenerateDataKey*",
                "secretsmanager:GetSecretValue",
                "dynamodb:*Item",
            ]) {
                const v = await theViolation(iamDataActionsScoped, [
                    rolePolicy(document({ Effect: "Allow", Action: action, Resource: ["*"] })),
                ]);
                assert.ok(v.message.includes(`(${action})`), v.message);
            }
        });

        it("reads documents given as data, managed policies and a role's inline policies, and ignores Deny", async () => {
            const deny = { Effect: "Deny", Action: "s3:*", Resource: "*" };
            const allowAll = { Effect: "Allow", Action: "sqs:SendMessage", Resource: "*" };
            const managed = resource("aws:iam/policy:Policy", "team-policy", {
                policy: { Version: "2012-10-17", Statement: [deny, allowAll] },
            });
            const role = resource("aws:iam/role:Role", "team-role", {
                assumeRolePolicy: "{}",
                inlinePolicies: [
                    { name: "a", policy: document(deny) },
                    { name: "b", policy: document(allowAll) },
                ],
            });
            const messages = (await violationsOf(iamDataActionsScoped, [managed, role])).map(
                (v) => v.message.split(" allows")[0],
            );
            assert.deepStrictEqual(messages, [
                'Policy "team-policy": policy Statement[1]',
                'Role "team-role": inlinePolicies[1].policy Statement[0]',
            ]);
        });

        it("skips a document it cannot read (unknown during preview, or not JSON)", async () => {
            assert.deepStrictEqual(
                await violationsOf(iamDataActionsScoped, [rolePolicy(undefined), rolePolicy("{not json")]),
                [],
            );
        });
    });

    describe("iam-data-actions-scoped: named exceptions", () => {
        const costReads = { Sid: "ReadSpend", Effect: "Allow", Action: "ce:GetCostAndUsage", Resource: "*" };

        it("passes the default exception, ce:GetCostAndUsage on *, which Cost Explorer cannot scope", async () => {
            assert.deepStrictEqual(await violationsOf(iamDataActionsScoped, [rolePolicy(document(costReads))]), []);
        });

        it("reports any other cost-data read on *, a wildcard included: the exception is a name, not a pattern", async () => {
            for (const action of ["ce:Get*", "ce:GetCostAndUsageWithResources", "ce:*"]) {
                const v = await theViolation(iamDataActionsScoped, [
                    rolePolicy(document({ ...costReads, Action: action })),
                ]);
                assert.ok(
                    v.message.includes(`statement "ReadSpend" allows data actions (${action}) on Resource "*"`),
                    v.message,
                );
            }
        });

        it("reports ce:GetCostAndUsage once the stack's config drops the exception, or names it without a reason", async () => {
            assert.strictEqual(
                (await violationsOf(iamDataActionsScoped, [rolePolicy(document(costReads))], { exceptions: [] }))
                    .length,
                1,
            );
            const noReason = { exceptions: [{ action: "ce:GetCostAndUsage", resource: "*", reason: " " }] };
            assert.strictEqual(
                (await violationsOf(iamDataActionsScoped, [rolePolicy(document(costReads))], noReason)).length,
                1,
            );
        });
    });

    describe("iam-no-admin-grants", () => {
        it("passes the worker's scoped policy, read-only discovery on *, and s3:* on one bucket", async () => {
            const oneBucket = {
                Effect: "Allow",
                Action: "s3:*",
                Resource: ["arn:aws:s3:::datasets", "arn:aws:s3:::datasets/*"],
            };
            assert.deepStrictEqual(
                await violationsOf(iamNoAdminGrants, [rolePolicy(document(...workerStatements, discovery, oneBucket))]),
                [],
            );
        });

        const cases: [string, object, RegExp][] = [
            ["every action", { Action: "*", Resource: "*" }, /allows every action of every service \("\*"\)/],
            [
                "every action of every service, spelled with a service wildcard",
                { Action: "*:*", Resource: "arn:aws:s3:::datasets" },
                /allows every action of every service \("\*:\*"\)/,
            ],
            ["iam:*", { Action: "iam:*", Resource: "*" }, /allows every iam action \("iam:\*"\) on "\*"/],
            ["sts:* in capitals", { Action: "STS:*", Resource: "*" }, /allows every STS action \("STS:\*"\) on "\*"/],
            [
                "ec2:*",
                { Action: ["ec2:DescribeInstances", "ec2:*"], Resource: "*" },
                /allows every ec2 action \("ec2:\*"\) on "\*"/,
            ],
            [
                "a service wildcard on a service-wide ARN",
                { Action: "s3:*", Resource: "arn:aws:s3:::*" },
                /allows every s3 action \("s3:\*"\) on "arn:aws:s3:::\*"/,
            ],
            [
                "a service wildcard on every role",
                { Action: "iam:*", Resource: "arn:aws:iam::123456789012:role/*" },
                /allows every iam action \("iam:\*"\) on "arn:aws:iam::123456789012:role\/\*"/,
            ],
            [
                "iam:PassRole on *",
                { Action: "iam:PassRole", Resource: "*" },
                /allows "iam:PassRole" on "\*", which lets it escalate its own permissions/,
            ],
            [
                "a wildcard that covers policy writes",
                { Action: "iam:Put*", Resource: "*" },
                /allows "iam:Put\*" \(iam:PutUserPolicy, iam:PutGroupPolicy, iam:PutRolePolicy and iam:PutRolePermissionsBoundary\) on "\*"/,
            ],
            [
                "NotAction on *",
                { NotAction: "iam:*", Resource: "*" },
                /allows every action but those NotAction names \(iam:\*\) on "\*"/,
            ],
        ];
        for (const [what, statement, expected] of cases) {
            it(`reports ${what}`, async () => {
                const v = await theViolation(iamNoAdminGrants, [
                    rolePolicy(document(...workerStatements, { Sid: "Broad", Effect: "Allow", ...statement })),
                ]);
                assert.match(v.message, /^RolePolicy "worker-policy": policy statement "Broad" /);
                assert.match(v.message, expected);
            });
        }

        it("reports an attached AdministratorAccess in any partition, as a policy attachment or a role's managed policies", async () => {
            const attachment = resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "admin", {
                role: "worker",
                policyArn: "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
            });
            const role = resource("aws:iam/role:Role", "team-role", {
                assumeRolePolicy: "{}",
                managedPolicyArns: ["arn:aws-cn:iam::aws:policy/AdministratorAccess"],
            });
            const messages = (await violationsOf(iamNoAdminGrants, [attachment, role])).map((v) => v.message);
            assert.deepStrictEqual(messages, [
                'RolePolicyAttachment "admin" attaches AdministratorAccess (policyArn: arn:aws-us-gov:iam::aws:policy/AdministratorAccess), which makes its holder an administrator; attach a policy that grants only what the workload needs.',
                'Role "team-role" attaches AdministratorAccess (managedPolicyArns[0]: arn:aws-cn:iam::aws:policy/AdministratorAccess), which makes its holder an administrator; attach a policy that grants only what the workload needs.',
            ]);
        });

        it("checks a policy built with aws.iam.getPolicyDocument, as the fake cloud renders it", async () => {
            const rendered = new FakeCloud().call({
                token: "aws:iam/getPolicyDocument:getPolicyDocument",
                inputs: { statements: [{ actions: ["iam:*"], resources: ["*"] }] },
            });
            const v = await theViolation(iamNoAdminGrants, [rolePolicy(rendered.json)]);
            assert.match(v.message, /policy Statement\[0\] allows every iam action \("iam:\*"\) on "\*"/);
        });
    });

    describe("iam-trust-not-public", () => {
        const trust = (statement: object) =>
            resource("aws:iam/role:Role", "shared-role", {
                assumeRolePolicy: document({ Effect: "Allow", Action: "sts:AssumeRole", ...statement }),
            });
        const org = { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } };

        it("passes a role trusted by a named account, and one open to every principal of the organisation", async () => {
            assert.deepStrictEqual(
                await violationsOf(iamTrustNotPublic, [
                    trust({ Principal: { AWS: "arn:aws:iam::123456789012:root" } }),
                    trust({ Principal: { AWS: "*" }, Condition: org }),
                ]),
                [],
            );
        });

        for (const [what, statement] of [
            ['{"AWS": "*"}', { Principal: { AWS: "*" } }],
            ['"*"', { Principal: "*" }],
            ["a list holding *", { Principal: { AWS: ["arn:aws:iam::123456789012:root", "*"] } }],
            ["NotPrincipal", { NotPrincipal: { AWS: "arn:aws:iam::123456789012:root" } }],
            [
                "a condition that pins nothing (a wildcard)",
                { Principal: { AWS: "*" }, Condition: { StringLike: { "aws:PrincipalOrgID": "o-*" } } },
            ],
            [
                "a condition that holds when the key is absent (IfExists)",
                {
                    Principal: { AWS: "*" },
                    Condition: { StringEqualsIfExists: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
                },
            ],
        ] as const) {
            it(`reports a trust policy open to ${what}`, async () => {
                const v = await theViolation(iamTrustNotPublic, [trust(statement)]);
                assert.match(
                    v.message,
                    /^Role "shared-role": assumeRolePolicy Statement\[0\] lets anyone assume it .*; name the accounts, roles or service/,
                );
            });
        }
    });
});
