import * as assert from "assert";
import { budgetTags } from "../tags";
import { AWS_PROVIDER_REF, awsProvider, changed, resource, theViolation, violationsOf } from "./support/check";

const BUCKET = "aws:s3/bucket:Bucket";
const platformTags = { team: "platform", "cost-center": "CC-0001", environment: "dev", budget: "platform-dev" };

/** A bucket that carries the budget tags through its provider's default tags only, as the platform's resources do. */
const bucket = (inputs: Record<string, unknown> = {}, provider: string | undefined = AWS_PROVIDER_REF) =>
    resource(BUCKET, "datasets", inputs, { provider });

describe("policies: budget tags", () => {
    describe("budget-tags", () => {
        it("passes a resource whose provider's default tags (a JSON string) carry all four", async () => {
            assert.deepStrictEqual(await violationsOf(budgetTags, [awsProvider, bucket()]), []);
        });

        it("passes default tags given as an object, and tags set on the resource itself", async () => {
            const objectProvider = changed(awsProvider, "inputs.defaultTags", { tags: platformTags });
            assert.deepStrictEqual(await violationsOf(budgetTags, [objectProvider, bucket()]), []);
            assert.deepStrictEqual(await violationsOf(budgetTags, [bucket({ tags: platformTags }, undefined)]), []);
        });

        it("passes resources that take no tags", async () => {
            const attachment = resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {
                role: "r",
                policyArn: "arn:aws:iam::aws:policy/X",
            });
            assert.deepStrictEqual(await violationsOf(budgetTags, [attachment]), []);
        });

        it("reports a resource with no tags and no default tags, naming every missing tag and where to set them", async () => {
            const v = await theViolation(budgetTags, [bucket({}, undefined)]);
            assert.strictEqual(v.urn, bucket().urn);
            assert.strictEqual(
                v.message,
                'Bucket "datasets" lacks the tags team, cost-center, environment and budget (neither in tags nor in its AWS provider\'s defaultTags); ' +
                    "set team, cost-center, environment and budget once in the AWS provider's defaultTags.tags (the platform sets them from Pulumi.<stack>.yaml tags) or in the resource's tags.",
            );
        });

        it("reports one tag missing from the default tags", async () => {
            const withoutBudget: Partial<typeof platformTags> = { ...platformTags };
            delete withoutBudget.budget;
            const provider = changed(awsProvider, "inputs.defaultTags", JSON.stringify({ tags: withoutBudget }));
            assert.match((await theViolation(budgetTags, [provider, bucket()])).message, /lacks the tag budget \(/);
        });

        it("lets the resource's own tag win over the default, as the AWS provider merges them", async () => {
            const v = await theViolation(budgetTags, [
                awsProvider,
                bucket({ tags: { "cost-center": "finance dept" } }),
            ]);
            assert.match(v.message, /tag cost-center is "finance dept", which does not match \^\[A-Za-z0-9\]/);
        });

        it("reports an empty value on the resource, which overrides the default tag", async () => {
            assert.match(
                (await theViolation(budgetTags, [awsProvider, bucket({ tags: { team: "" } })])).message,
                /"datasets" tag team is empty;/,
            );
        });

        it("counts a tagsAll the provider already computed", async () => {
            assert.deepStrictEqual(await violationsOf(budgetTags, [bucket({ tagsAll: platformTags }, undefined)]), []);
        });

        it("allows only the stack's own environment when its config says so", async () => {
            const v = await theViolation(budgetTags, [awsProvider, bucket()], { allowedEnvironments: ["prod"] });
            assert.match(v.message, /tag environment is "dev"; this stack allows prod;/);
        });
    });
});
