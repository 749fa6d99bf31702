import * as assert from "assert";
import { isKnownRegion, managedPolicyArn, partitionOf } from "@gpu-platform/catalog";

describe("catalog: regions and partitions", () => {
    it("knows a region's partition, and nothing of a name shaped like a region", () => {
        // Partitions as AWS documents them: GovCloud and China have their own ARN prefixes.
        assert.strictEqual(partitionOf("us-east-1"), "aws");
        assert.strictEqual(partitionOf("us-gov-west-1"), "aws-us-gov");
        assert.strictEqual(partitionOf("cn-northwest-1"), "aws-cn");
        assert.strictEqual(partitionOf("moon-east-1"), undefined);
        assert.strictEqual(isKnownRegion("us-east-9"), false);
    });

    it("writes managed-policy ARNs in the region's partition", () => {
        assert.strictEqual(
            managedPolicyArn("aws-us-gov", "AmazonEKS_CNI_Policy"),
            "arn:aws-us-gov:iam::aws:policy/AmazonEKS_CNI_Policy",
        );
    });
});
