import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import { PACKAGE } from "../shared/tokens";

export const NETWORK_TYPE = `${PACKAGE}:network:Network`;

export interface NetworkArgs {
    /** The VPC's IPv4 range. Default `10.0.0.0/16`. */
    cidr?: string;
    /** Availability zones to spread subnets over; EKS needs at least 2. Default 2. */
    availabilityZones?: number;
    /**
     * `"single"`: one NAT gateway for the whole VPC (about $33/month plus data); egress stops if
     * its zone fails. `"one-per-az"`: one per zone, zone-redundant. Default `"single"`.
     */
    natGateways?: "single" | "one-per-az";
    /** VPC flow logs (all traffic) to a CloudWatch log group. Default false. */
    flowLogs?: boolean;
    /** Days the flow logs are kept. Default 30. */
    flowLogRetentionDays?: number;
    /** Region of the VPC, for the S3 endpoint's service name. Required. */
    region: string;
}

/**
 * The platform's VPC: public subnets for load balancers, private subnets for nodes and pods,
 * NAT for egress, a free S3 gateway endpoint so image layers and training data do not pay NAT
 * data charges, and optional flow logs.
 *
 * ```ts
 * const network = new Network("platform", { region: "us-east-1", availabilityZones: 3, natGateways: "one-per-az" });
 * ```
 *
 * Cost: each NAT gateway is billed per hour and per GB; the S3 endpoint is free.
 */
export class Network extends pulumi.ComponentResource {
    public readonly vpc: awsx.ec2.Vpc;
    /** The VPC's IPv4 range as configured: known before the VPC exists (a preview can judge rules that name it). */
    public readonly cidr: string;
    public readonly vpcId: pulumi.Output<string>;
    public readonly privateSubnetIds: pulumi.Output<string[]>;
    public readonly publicSubnetIds: pulumi.Output<string[]>;
    public readonly s3Endpoint: aws.ec2.VpcEndpoint;
    public readonly flowLog?: aws.ec2.FlowLog;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super(NETWORK_TYPE, name, {}, opts);
        const cidr = args.cidr ?? "10.0.0.0/16";
        this.cidr = cidr;
        const zones = args.availabilityZones ?? 2;

        this.vpc = this.createVpc(name, cidr, zones, args.natGateways ?? "single");
        this.vpcId = this.vpc.vpcId;
        this.privateSubnetIds = this.vpc.privateSubnetIds;
        this.publicSubnetIds = this.vpc.publicSubnetIds;
        this.s3Endpoint = this.createS3Endpoint(name, args.region);
        if (args.flowLogs) this.flowLog = this.createFlowLogs(name, args.flowLogRetentionDays ?? 30);

        this.registerOutputs({
            vpcId: this.vpcId,
            privateSubnetIds: this.privateSubnetIds,
            publicSubnetIds: this.publicSubnetIds,
        });
    }

    /**
     * The private subnets in one availability zone, e.g. for a pool that must launch in its
     * Capacity Block's zone: the VPC's subnets tagged for internal load balancers, as createVpc tags them.
     */
    privateSubnetIdsIn(zone: string): pulumi.Output<string[]> {
        return aws.ec2.getSubnetsOutput(
            {
                filters: [
                    { name: "vpc-id", values: [this.vpcId] },
                    { name: "availability-zone", values: [zone] },
                    { name: "tag:kubernetes.io/role/internal-elb", values: ["1"] },
                ],
            },
            { parent: this },
        ).ids;
    }

    private createVpc(name: string, cidr: string, zones: number, nat: "single" | "one-per-az"): awsx.ec2.Vpc {
        const masks = subnetMasks(cidr, zones);
        return new awsx.ec2.Vpc(
            `${name}-vpc`,
            {
                cidrBlock: cidr,
                numberOfAvailabilityZones: zones,
                enableDnsHostnames: true,
                enableDnsSupport: true,
                natGateways: { strategy: nat === "single" ? "Single" : "OnePerAz" },
                subnetStrategy: "Auto",
                subnetSpecs: [
                    // Role tags tell the AWS Load Balancer Controller where to put internet-facing and internal LBs.
                    { type: "Public", cidrMask: masks.public, tags: { "kubernetes.io/role/elb": "1" } },
                    { type: "Private", cidrMask: masks.private, tags: { "kubernetes.io/role/internal-elb": "1" } },
                ],
            },
            { parent: this },
        );
    }

    private createS3Endpoint(name: string, region: string): aws.ec2.VpcEndpoint {
        const routeTableIds = this.vpc.routeTables.apply((tables) => pulumi.all(tables.map((table) => table.id)));
        return new aws.ec2.VpcEndpoint(
            `${name}-s3-endpoint`,
            { vpcId: this.vpcId, serviceName: `com.amazonaws.${region}.s3`, vpcEndpointType: "Gateway", routeTableIds },
            { parent: this },
        );
    }

    private createFlowLogs(name: string, retentionDays: number): aws.ec2.FlowLog {
        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-flow-logs`,
            { retentionInDays: retentionDays },
            { parent: this },
        );
        const role = new aws.iam.Role(
            `${name}-flow-logs-role`,
            {
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Service: "vpc-flow-logs.amazonaws.com" },
                            Action: "sts:AssumeRole",
                        },
                    ],
                }),
            },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            `${name}-flow-logs-policy`,
            {
                role: role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                            Resource: [logGroup.arn, pulumi.interpolate`${logGroup.arn}:*`],
                        },
                    ],
                }),
            },
            { parent: this },
        );
        return new aws.ec2.FlowLog(
            `${name}-flow-log`,
            {
                vpcId: this.vpcId,
                trafficType: "ALL",
                logDestinationType: "cloud-watch-logs",
                logDestination: logGroup.arn,
                iamRoleArn: role.arn,
            },
            { parent: this },
        );
    }
}

/**
 * Subnet sizes for a VPC range split evenly across zones: private subnets take half of each
 * zone's block (pods get VPC addresses, so GPU nodes need room), public subnets a quarter.
 */
export function subnetMasks(cidr: string, zones: number): { private: number; public: number } {
    const prefix = Number(cidr.split("/")[1]);
    const zoneBits = Math.ceil(Math.log2(zones));
    return { private: prefix + zoneBits + 1, public: prefix + zoneBits + 2 };
}
