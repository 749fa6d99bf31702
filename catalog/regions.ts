/**
 * AWS regions and the partitions they belong to: which regions a stack may name, and the ARN
 * prefix (`arn:<partition>:`) of AWS-managed policies and role ARNs there.
 * Source: the AWS SDK for JavaScript v3's endpoint partitions (@aws-sdk/core 3.981.0,
 * util-endpoints/lib/aws/partitions.js), read 2026-11-23. The isolated partitions (aws-iso*)
 * are left out: the platform's EKS AMIs and prices are not published there.
 */
export const REGIONS_BY_PARTITION = {
    aws: [
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "me-west-1",
        "mx-central-1",
        "sa-east-1",
        "sa-west-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    ],
    "aws-cn": ["cn-north-1", "cn-northwest-1"],
    "aws-us-gov": ["us-gov-east-1", "us-gov-west-1"],
    "aws-eusc": ["eusc-de-east-1"],
} as const satisfies Record<string, readonly string[]>;

export type Partition = keyof typeof REGIONS_BY_PARTITION;
export type Region = (typeof REGIONS_BY_PARTITION)[Partition][number];

export const REGIONS: readonly Region[] = Object.values(REGIONS_BY_PARTITION).flat();

export function isKnownRegion(name: string): name is Region {
    return (REGIONS as readonly string[]).includes(name);
}

/** The partition a known region belongs to; undefined for a name that is not a known region. */
export function partitionOf(region: string): Partition | undefined {
    for (const [partition, regions] of Object.entries(REGIONS_BY_PARTITION) as [Partition, readonly string[]][]) {
        if (regions.includes(region)) return partition;
    }
    return undefined;
}

/**
 * The domain of AWS service endpoints in each partition, as aws-iam-authenticator checks the STS
 * host of an EKS token per partition (v0.7.18 pkg/endpoints/partitions.go, GetSTSPartitionDomain):
 * `sts.cn-north-1.amazonaws.com.cn` in China, not `….amazonaws.com`.
 */
export const PARTITION_DNS_SUFFIX: Readonly<Record<Partition, string>> = {
    aws: "amazonaws.com",
    "aws-cn": "amazonaws.com.cn",
    "aws-us-gov": "amazonaws.com",
    "aws-eusc": "amazonaws.eu",
};

/** The regional STS host of a region, in its partition's domain (a region this catalog does not know: amazonaws.com). */
export function stsHostname(region: string): string {
    return `sts.${region}.${PARTITION_DNS_SUFFIX[partitionOf(region) ?? "aws"]}`;
}

/** The ARN of an AWS-managed IAM policy in a partition: `arn:<partition>:iam::aws:policy/<name>`. */
export function managedPolicyArn(partition: Partition, name: string): string {
    return `arn:${partition}:iam::aws:policy/${name}`;
}
