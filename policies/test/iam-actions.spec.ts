import * as assert from "assert";
import { iamActionsValid } from "../iam-actions";
import { resourcePatternsOverlap } from "../lib/iam-actions";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const BUCKET = "arn:aws:s3:::team-results";
const LOG_GROUP = "arn:aws:logs:us-east-1:111122223333:log-group:/team/app";
/**
 * Each action on a resource the Service Authorization Reference says it takes: s3:GetObject an
 * object (arn:${Partition}:s3:::${BucketName}/${ObjectName}), s3:ListBucket a bucket,
 * logs:PutLogEvents a log stream (...:log-group:${LogGroupName}:log-stream:${LogStreamName}),
 * ec2:DescribeInstances only "*" (no resource-level permissions).
 */
const document = {
    Version: "2012-10-17",
    Statement: [
        { Sid: "Objects", Effect: "Allow", Action: ["s3:GetObject", "s3:Put*"], Resource: `${BUCKET}/*` },
        { Sid: "Listing", Effect: "Allow", Action: "s3:ListBucket", Resource: BUCKET },
        { Sid: "Logs", Effect: "Allow", Action: ["logs:PutLogEvents"], Resource: `${LOG_GROUP}:*` },
        { Sid: "Discovery", Effect: "Allow", Action: "ec2:DescribeInstances", Resource: "*" },
        { Sid: "Own", Effect: "Allow", Action: "S3:getobject", Resource: `${BUCKET}/home/\${aws:username}/*` },
        { Sid: "NoDelete", Effect: "Deny", Action: "s3:Delete*", Resource: `${BUCKET}/*` },
    ],
};
const rolePolicy = (doc: unknown) =>
    resource("aws:iam/rolePolicy:RolePolicy", "worker", { role: "worker", policy: JSON.stringify(doc) });
const message = async (doc: unknown) => (await theViolation(iamActionsValid, [rolePolicy(doc)])).message;

describe("policies: iam-actions-valid", () => {
    it("passes actions that exist on resources they take, wildcards, policy variables and any case", async () => {
        assert.deepStrictEqual(await violationsOf(iamActionsValid, [rolePolicy(document)]), []);
    });

    it("reports an action that does not exist, naming the statement (a typo grants nothing)", async () => {
        assert.strictEqual(
            await message(changed(document, "Statement.0.Action.0", "s3:GetObjects")),
            'RolePolicy "worker": policy statement "Objects" names "s3:GetObjects", which is no s3 action, so IAM ignores it and the statement grants nothing by it; ' +
                "set Action to the action's exact name (IAM Service Authorization Reference).",
        );
    });

    it("reports a service prefix IAM does not have, a malformed action and a wildcard that matches nothing", async () => {
        assert.match(
            await message(changed(document, "Statement.1.Action", "s4:ListBucket")),
            /names "s4:ListBucket", whose prefix "s4" is no IAM service/,
        );
        assert.match(
            await message(changed(document, "Statement.1.Action", "s3ListBucket")),
            /names "s3ListBucket", which is not an action \(service:Action\)/,
        );
        assert.match(
            await message(changed(document, "Statement.0.Action.1", "s3:Fetch*")),
            /names "s3:Fetch\*", which matches no s3 action/,
        );
    });

    it("reports a typo in a Deny and in NotAction: the statement denies nothing by it", async () => {
        assert.match(
            await message(changed(document, "Statement.5.Action", "s3:DeleteObjekt")),
            /statement "NoDelete" names "s3:DeleteObjekt", which is no s3 action, so IAM ignores it and the statement denies nothing by it/,
        );
        const notAction = changed(document, "Statement.5", {
            Effect: "Deny",
            NotAction: ["iam:Get*", "iam:ListRolez"],
            Resource: "*",
        });
        assert.match(await message(notAction), /names "iam:ListRolez", which is no iam action.*set NotAction/);
    });

    it("reports s3:GetObject granted on the bucket rather than its objects", async () => {
        assert.strictEqual(
            await message(changed(document, "Statement.4.Resource", BUCKET)),
            `RolePolicy "worker": policy statement "Own" allows S3:getobject on "${BUCKET}", which it cannot take ` +
                "(it takes arn:*:s3:*:*:accesspoint/*/object/*, arn:*:s3:::*/*), so the statement grants nothing for it; set Resource to ARNs of the shape it takes, " +
                "or move the action to a statement whose resources it can take.",
        );
    });

    it("reports logs:PutLogEvents on a log group (it takes the group's streams)", async () => {
        assert.match(
            await message(changed(document, "Statement.2.Resource", LOG_GROUP)),
            /allows logs:PutLogEvents on ".*log-group:\/team\/app", which it cannot take \(it takes arn:\*:logs:\*:\*:log-group:\*:log-stream:\*\)/,
        );
    });

    it('reports an action without resource-level permissions on an ARN (it takes only "*"), each such action', async () => {
        const instance = "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0";
        assert.match(
            await message(changed(document, "Statement.3.Resource", instance)),
            /allows ec2:DescribeInstances on ".*instance\/i-0123456789abcdef0", which it cannot take \(it takes "\*"\).*move the action to a statement with Resource "\*"/,
        );
        // ec2:DescribeRegions and ec2:DescribeAvailabilityZones: neither takes a resource ARN.
        const regions = changed(document, "Statement.3", {
            Effect: "Allow",
            Action: ["ec2:DescribeRegions", "ec2:DescribeAvailabilityZones"],
            Resource: "arn:aws:ec2:us-east-1:111122223333:*",
        });
        assert.strictEqual((await violationsOf(iamActionsValid, [rolePolicy(regions)])).length, 2);
    });

    it("reports a wildcard when none of its actions takes the resource (s3:GetObject* on a bucket)", async () => {
        assert.match(
            await message(changed(document, "Statement.1.Action", "s3:GetObject*")),
            /statement "Listing" allows s3:GetObject\* on "arn:aws:s3:::team-results", which it cannot take/,
        );
    });

    it("passes a wildcard when one of its actions takes the resource (s3:* on a bucket)", async () => {
        assert.deepStrictEqual(
            await violationsOf(iamActionsValid, [rolePolicy(changed(document, "Statement.1.Action", "s3:*"))]),
            [],
        );
    });

    it("reads trust policies, role inline policies, managed policies and resource policies alike", async () => {
        const trust = {
            Statement: [
                {
                    Effect: "Allow",
                    Principal: { Federated: "arn:aws:iam::111122223333:oidc-provider/oidc.eks.amazonaws.com/id/X" },
                    Action: "sts:AssumeRoleWithWebIdenty",
                },
            ],
        };
        const role = resource("aws:iam/role:Role", "irsa", { assumeRolePolicy: JSON.stringify(trust) });
        assert.match(
            (await theViolation(iamActionsValid, [role])).message,
            /^Role "irsa": assumeRolePolicy Statement\[0\] names "sts:AssumeRoleWithWebIdenty", which is no sts action/,
        );
        const inline = resource("aws:iam/role:Role", "task", {
            assumeRolePolicy: JSON.stringify({ Statement: [] }),
            inlinePolicies: [
                { name: "read", policy: JSON.stringify(changed(document, "Statement.4.Resource", BUCKET)) },
            ],
        });
        assert.match(
            (await theViolation(iamActionsValid, [inline])).message,
            /^Role "task": inlinePolicies\[0\]\.policy/,
        );
        const bucketPolicy = resource("aws:s3/bucketPolicy:BucketPolicy", "results", {
            bucket: "team-results",
            policy: JSON.stringify({
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { AWS: "arn:aws:iam::111122223333:root" },
                        Action: "s3:GetObject",
                        Resource: BUCKET,
                    },
                ],
            }),
        });
        assert.match(
            (await theViolation(iamActionsValid, [bucketPolicy])).message,
            /^BucketPolicy "results": policy Statement\[0\] allows s3:GetObject on "arn:aws:s3:::team-results", which it cannot take/,
        );
    });

    it("reads the other resource policies written as JSON: an OpenSearch domain's, a DynamoDB table's", async () => {
        const domain = resource("aws:opensearch/domain:Domain", "search", {
            accessPolicies: JSON.stringify({
                Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "es:ESHttpGett", Resource: "*" }],
            }),
        });
        assert.match(
            (await theViolation(iamActionsValid, [domain])).message,
            /^Domain "search": accessPolicies Statement\[0\] names "es:ESHttpGett", which is no es action/,
        );
        // dynamodb:GetItem takes a table (arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}), not a bucket.
        const table = resource("aws:dynamodb/resourcePolicy:ResourcePolicy", "orders", {
            resourceArn: "arn:aws:dynamodb:us-east-1:111122223333:table/orders",
            policy: JSON.stringify({
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { AWS: "111122223333" },
                        Action: "dynamodb:GetItem",
                        Resource: BUCKET,
                    },
                ],
            }),
        });
        assert.match(
            (await theViolation(iamActionsValid, [table])).message,
            /allows dynamodb:GetItem on "arn:aws:s3:::team-results", which it cannot take \(it takes arn:\*:dynamodb:\*:\*:table\/\*\)/,
        );
    });

    it("takes actions newer than its data from knownActions", async () => {
        const newer = changed(document, "Statement.3.Action", "ec2:DescribeSomethingReleasedTomorrow");
        assert.deepStrictEqual(
            await violationsOf(iamActionsValid, [rolePolicy(newer)], {
                knownActions: ["ec2:DescribeSomethingReleasedTomorrow"],
            }),
            [],
        );
    });

    it("matches resource patterns as sets of ARNs, wildcards on either side", () => {
        assert.ok(resourcePatternsOverlap("arn:*:s3:::*/*", "arn:aws:s3:::bucket/*"));
        assert.ok(resourcePatternsOverlap("arn:*:s3:::*/*", "arn:aws:s3:::b*"), "b* covers b/key");
        assert.ok(!resourcePatternsOverlap("arn:*:s3:::*/*", "arn:aws:s3:::bucket"));
        assert.ok(resourcePatternsOverlap("arn:*:logs:*:*:log-group:*:log-stream:*", "arn:aws:logs:*:*:log-group:a:*"));
        assert.ok(!resourcePatternsOverlap("arn:*:sqs:*:*:*", "arn:aws:sns:us-east-1:1:topic"));
        assert.ok(resourcePatternsOverlap("arn:*:iam::*:role/*", "arn:aws:iam::11112222333?:role/x"));
    });
});
