import { partitionOf } from "./regions";

/**
 * Where RDS publishes the certificate authorities of a region's database servers, as PEM: what a
 * client needs to verify the server (`sslmode=verify-full`). Sources: Amazon RDS user guide,
 * "Using SSL/TLS to encrypt a connection to a DB instance or cluster", certificate bundles for
 * specific AWS Regions and for AWS GovCloud (US) Regions; its China edition
 * (docs.amazonaws.cn, same page) for the China Regions. Read 2026-12-07, and the same three
 * templates in Teleport (gravitational/teleport, lib/srv/db/ca.go).
 */
export function rdsCaBundleUrl(region: string): string {
    switch (partitionOf(region)) {
        case "aws-us-gov":
            return `https://truststore.pki.us-gov-west-1.rds.amazonaws.com/${region}/${region}-bundle.pem`;
        case "aws-cn":
            return `https://rds-truststore.s3.cn-north-1.amazonaws.com.cn/${region}/${region}-bundle.pem`;
        default:
            return `https://truststore.pki.rds.amazonaws.com/${region}/${region}-bundle.pem`;
    }
}
