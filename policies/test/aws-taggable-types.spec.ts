import * as assert from "assert";
import * as fs from "fs";
import { AWS_TAGGABLE_TYPES } from "../lib/aws-taggable-types";
import { GENERATED_FILE, readTaggableTypes, renderTaggableTypes } from "../scripts/generate-aws-taggable-types";

describe("policies: the list of taggable AWS types", () => {
    it("matches the installed @pulumi/aws (regenerate with policies/scripts/generate-aws-taggable-types.ts after a bump)", () => {
        const { version, types } = readTaggableTypes();
        assert.ok(
            fs.readFileSync(GENERATED_FILE, "utf8") === renderTaggableTypes(version, types),
            `policies/lib/aws-taggable-types.ts is not from @pulumi/aws ${version}`,
        );
    });

    it("holds what takes default tags and leaves out what does not", () => {
        for (const taggable of [
            "aws:s3/bucket:Bucket",
            "aws:eks/nodeGroup:NodeGroup",
            "aws:ec2/launchTemplate:LaunchTemplate",
            "aws:sqs/queue:Queue",
        ]) {
            assert.ok(AWS_TAGGABLE_TYPES.includes(taggable), taggable);
        }
        for (const untaggable of [
            "aws:autoscaling/tag:Tag",
            "aws:iam/rolePolicy:RolePolicy",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        ]) {
            assert.ok(!AWS_TAGGABLE_TYPES.includes(untaggable), untaggable);
        }
    });
});
