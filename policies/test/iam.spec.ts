import * as assert from "assert";
import { iamDataActionsScoped } from "../iam";
import { resource, theViolation, violationsOf } from "./support/check";

/** The inference worker's policy: data actions on its own bucket and queue. */
const workerStatements = [
    { Sid: "ReadInput", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObjectTagging"], Resource: ["arn:aws:s3:::input/*"] },
    { Sid: "ConsumeQueue", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage"], Resource: "arn:aws:sqs:us-east-1:123456789012:jobs" },
];
/** The cluster autoscaler's discovery statement: read-only calls on "*", which cannot be scoped. */
const discovery = {
    Sid: "DiscoverNodeGroups",
    Effect: "Allow",
    Action: ["autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstanceTypes", "ec2:GetInstanceTypesFromInstanceRequirements", "eks:DescribeNodegroup"],
    Resource: "*",
};
const document = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const rolePolicy = (policy: unknown) => resource("aws:iam/rolePolicy:RolePolicy", "worker-policy", { role: "worker", policy });

describe("policies: IAM", () => {
    describe("iam-data-actions-scoped", () => {
        it("passes data actions scoped to resources, and read-only discovery on *", async () => {
            assert.deepStrictEqual(await violationsOf(iamDataActionsScoped, [rolePolicy(document(...workerStatements, discovery))]), []);
        });

        it("reports a data action on Resource *, naming the statement and what to do", async () => {
            const v = await theViolation(iamDataActionsScoped, [rolePolicy(document({ ...workerStatements[0], Resource: "*" }))]);
            assert.strictEqual(
                v.message,
                'RolePolicy "worker-policy": policy statement "ReadInput" allows data actions (s3:GetObject and s3:PutObjectTagging) on Resource "*"; ' +
                    "scope its Resource to the ARNs it needs (buckets' objects, queues, tables, keys, secrets), or split the read-only Describe/List actions into their own statement.",
            );
        });

        it("reports wildcards that include data actions", async () => {
            for (const action of ["*", "s3:*", "kms:GenerateDataKey*", "secretsmanager:GetSecretValue", "dynamodb:*Item"]) {
                const v = await theViolation(iamDataActionsScoped, [rolePolicy(document({ Effect: "Allow", Action: action, Resource: ["*"] }))]);
                assert.ok(v.message.includes(`(${action})`), v.message);
            }
        });

        it("reads documents given as data, managed policies and a role's inline policies, and ignores Deny", async () => {
            const deny = { Effect: "Deny", Action: "s3:*", Resource: "*" };
            const allowAll = { Effect: "Allow", Action: "sqs:SendMessage", Resource: "*" };
            const managed = resource("aws:iam/policy:Policy", "team-policy", { policy: { Version: "2012-10-17", Statement: [deny, allowAll] } });
            const role = resource("aws:iam/role:Role", "team-role", { assumeRolePolicy: "{}", inlinePolicies: [{ name: "a", policy: document(deny) }, { name: "b", policy: document(allowAll) }] });
            const messages = (await violationsOf(iamDataActionsScoped, [managed, role])).map((v) => v.message.split(" allows")[0]);
            assert.deepStrictEqual(messages, ['Policy "team-policy": policy Statement[1]', 'Role "team-role": inlinePolicies[1].policy Statement[0]']);
        });

        it("skips a document it cannot read (unknown during preview, or not JSON)", async () => {
            assert.deepStrictEqual(await violationsOf(iamDataActionsScoped, [rolePolicy(undefined), rolePolicy("{not json")]), []);
        });
    });
});
