/**
 * Prices of the AWS services the platform pays for by the hour or month, besides instances.
 * US East (N. Virginia), read on PRICE_DATE (catalog/instances.ts). Usage-priced charges (NAT
 * and S3 data, SQS requests, CloudWatch ingestion) depend on traffic and are not estimated.
 */
export const SERVICE_PRICES = {
    /** EKS cluster in standard Kubernetes version support, per hour. Source: aws.amazon.com/eks/pricing. */
    eksClusterUsdPerHour: 0.1,
    /** EKS cluster on a version in extended support, per hour. Source: aws.amazon.com/eks/pricing. */
    eksExtendedSupportUsdPerHour: 0.6,
    /** NAT gateway, per gateway-hour (data processing extra). Source: aws.amazon.com/vpc/pricing. */
    natGatewayUsdPerHour: 0.045,
    /** Interface VPC endpoint, per endpoint per AZ-hour; gateway endpoints (S3, DynamoDB) are free. Source: aws.amazon.com/privatelink/pricing. */
    interfaceEndpointUsdPerAzHour: 0.01,
    /** Customer-managed KMS key, per month. Source: aws.amazon.com/kms/pricing. */
    kmsKeyUsdPerMonth: 1,
    /** Standard-resolution CloudWatch metric alarm, per month. Source: aws.amazon.com/cloudwatch/pricing. */
    metricAlarmUsdPerMonth: 0.1,
    /**
     * Application Load Balancer, per ALB-hour; LCUs ($0.008 per LCU-hour) are priced by traffic
     * and not estimated (an idle internal ALB uses close to none). Source:
     * aws.amazon.com/elasticloadbalancing/pricing (worked examples), read 2026-11-23.
     */
    albUsdPerHour: 0.0225,
    /**
     * Secrets Manager, per secret-month (API calls $0.05 per 10,000, not estimated). RDS-managed
     * master passwords are secrets too ("your AWS account incurs charges", RDS user guide,
     * "Password management with Amazon RDS and AWS Secrets Manager"). Source:
     * aws.amazon.com/secrets-manager/pricing (worked examples), read 2026-11-23.
     */
    secretUsdPerMonth: 0.4,
    /**
     * S3 Standard storage, per GB-month for the first 50 TB; by use (with requests), so not
     * estimated: the plan names the rate. Source: aws.amazon.com/s3/pricing, US East (N. Virginia).
     */
    s3StandardUsdPerGbMonth: 0.023,
    /**
     * ECR private repository storage, per GB-month; transfer to ECS and EKS in the same region is
     * free. By use, so not estimated. Source: aws.amazon.com/ecr/pricing, read 2026-11-23.
     */
    ecrStorageUsdPerGbMonth: 0.1,
} as const;

/**
 * AWS Fargate (Linux), per vCPU-hour and per GB-hour of memory, by CPU architecture; the first
 * 20 GB of ephemeral storage are included. Price List usage types USE1-Fargate-vCPU-Hours:perCPU,
 * USE1-Fargate-GB-Hours, USE1-Fargate-ARM-vCPU-Hours:perCPU and USE1-Fargate-ARM-GB-Hours.
 * Sources, read 2026-11-23: aws.amazon.com/fargate/pricing ($0.000011244 per vCPU-second in its
 * worked example = $0.04048/h); the Price List GetProducts record of the ARM vCPU-hour (SKU
 * XSZATS4VYMDC9CYN, $0.03238, published 2022-11-21); Vantage's Fargate price table for the
 * memory rates. Re-read with `aws pricing get-products --service-code AmazonECS --region us-east-1`.
 */
export const FARGATE_PRICES = {
    X86_64: { vcpuUsdPerHour: 0.04048, gbUsdPerHour: 0.004445 },
    ARM64: { vcpuUsdPerHour: 0.03238, gbUsdPerHour: 0.00356 },
} as const;

export type FargateArchitecture = keyof typeof FARGATE_PRICES;

/**
 * RDS for PostgreSQL on-demand instance-hours, Single-AZ and Multi-AZ (a standby in a second
 * zone doubles the price), and gp3 storage per GB-month (Multi-AZ stores twice); backup
 * storage up to the provisioned size is free. Sources, read 2026-11-23: infratally.com "AWS RDS
 * pricing explained 2026" (us-east-1 table) and a us-east-1 price fixture agreeing with it for
 * the instances; usage.ai's RDS calculator (June 2026) for storage. Only classes whose price was
 * found are listed: another class is accepted, and reported unpriced by the plan. Re-read with
 * `aws pricing get-products --service-code AmazonRDS --region us-east-1`.
 */
export const RDS_POSTGRES_PRICES = {
    instances: {
        "db.t4g.micro": { singleAzUsdPerHour: 0.016, multiAzUsdPerHour: 0.032 },
        "db.t4g.small": { singleAzUsdPerHour: 0.032, multiAzUsdPerHour: 0.064 },
        "db.t4g.medium": { singleAzUsdPerHour: 0.065, multiAzUsdPerHour: 0.13 },
    } as Readonly<Record<string, { readonly singleAzUsdPerHour: number; readonly multiAzUsdPerHour: number }>>,
    gp3: { singleAzUsdPerGbMonth: 0.115, multiAzUsdPerGbMonth: 0.23 },
} as const;

/**
 * EBS volume storage per GB-month, by volume type, and provisioned IOPS per IOPS-month where
 * the type charges for them (io2's first tier, up to 32,000; gp3 above its free 3,000).
 * Source: aws.amazon.com/ebs/pricing, US East (N. Virginia), read 2026-11-23.
 */
export const EBS_PRICES: Readonly<
    Record<
        string,
        { readonly usdPerGbMonth: number; readonly usdPerIopsMonth?: number; readonly includedIops?: number }
    >
> = {
    gp3: { usdPerGbMonth: 0.08, usdPerIopsMonth: 0.005, includedIops: 3000 },
    gp2: { usdPerGbMonth: 0.1 },
    io1: { usdPerGbMonth: 0.125, usdPerIopsMonth: 0.065 },
    io2: { usdPerGbMonth: 0.125, usdPerIopsMonth: 0.065 },
    st1: { usdPerGbMonth: 0.045 },
    sc1: { usdPerGbMonth: 0.015 },
    standard: { usdPerGbMonth: 0.05 },
};

/** EKS managed node groups without a launch template get a 20 GiB gp3 root volume (EKS API `diskSize` default, AL2023). */
export const EKS_DEFAULT_ROOT_VOLUME = { sizeGiB: 20, type: "gp3" } as const;

/**
 * Kubernetes versions EKS offers, with the day standard support ends (after it, the control
 * plane is billed at the extended-support rate). Sources: EKS user guide, "Kubernetes versions"
 * (awsdocs/amazon-eks-user-guide), and endoflife.date/amazon-eks, read 2026-11-22. 1.36 has
 * EKS AMIs since June 2026 but no published end date yet.
 */
export const EKS_VERSIONS: Readonly<Record<string, { standardSupportEnds?: string }>> = {
    "1.32": { standardSupportEnds: "2026-03-23" },
    "1.33": { standardSupportEnds: "2026-07-29" },
    "1.34": { standardSupportEnds: "2026-12-02" },
    "1.35": { standardSupportEnds: "2027-03-27" },
    "1.36": {},
};

/**
 * The Cluster Autoscaler image for each Kubernetes minor EKS offers: the newest patch release of
 * that minor, since the autoscaler's minor must match the cluster's and patches carry its fixes.
 * Source: the release tags of kubernetes/autoscaler (`cluster-autoscaler-<version>`), read at
 * commit 55c37cd5 (2026-08-22): 1.32.7 (2026-02-13); 1.33.6, 1.34.5, 1.35.2 and 1.36.1 (2026-07-22).
 * The chart's own default (9.59.0 values.yaml `image.tag`) is v1.35.0, the minor's first release.
 */
export const CLUSTER_AUTOSCALER_IMAGE_TAGS: Readonly<Record<string, string>> = {
    "1.32": "v1.32.7",
    "1.33": "v1.33.6",
    "1.34": "v1.34.5",
    "1.35": "v1.35.2",
    "1.36": "v1.36.1",
};

/** True when `version` is past standard support on `day` (YYYY-MM-DD). */
export function inExtendedSupport(version: string, day: string): boolean {
    const ends = Object.hasOwn(EKS_VERSIONS, version) ? EKS_VERSIONS[version].standardSupportEnds : undefined;
    return ends !== undefined && day > ends;
}
