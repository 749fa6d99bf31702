/**
 * Prices of the AWS services the platform pays for by the hour or month, besides instances.
 * US East (N. Virginia), read on PRICE_DATE (catalog/instances.ts). Usage-priced charges (NAT
 * and S3 data, SQS requests, CloudWatch ingestion) depend on traffic and are not estimated.
 */
export const SERVICE_PRICES = {
    /** EKS cluster in standard Kubernetes version support, per hour. Source: aws.amazon.com/eks/pricing. */
    eksClusterUsdPerHour: 0.1,
    /** NAT gateway, per gateway-hour (data processing extra). Source: aws.amazon.com/vpc/pricing. */
    natGatewayUsdPerHour: 0.045,
    /** Interface VPC endpoint, per endpoint per AZ-hour; gateway endpoints (S3, DynamoDB) are free. Source: aws.amazon.com/privatelink/pricing. */
    interfaceEndpointUsdPerAzHour: 0.01,
    /** Customer-managed KMS key, per month. Source: aws.amazon.com/kms/pricing. */
    kmsKeyUsdPerMonth: 1,
    /** Standard-resolution CloudWatch metric alarm, per month. Source: aws.amazon.com/cloudwatch/pricing. */
    metricAlarmUsdPerMonth: 0.1,
} as const;
