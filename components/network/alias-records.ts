import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { isHostName } from "@gpu-platform/catalog/dns-names";
import { type SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";

export const ALIAS_RECORDS_TYPE = `${PACKAGE}:network:AliasRecords`;

/** A load balancer a host name points at. */
export interface AliasTarget {
    /** The load balancer's DNS name (`internal-….elb.amazonaws.com`). */
    dnsName: pulumi.Input<string>;
    /**
     * Its canonical hosted zone (an `aws.lb.LoadBalancer`'s `zoneId`). Default: Elastic Load
     * Balancing's zone for Application Load Balancers in the provider's region
     * (`aws.elb.getHostedZoneId`), for load balancers known only by their DNS name, such as the
     * ones the AWS Load Balancer Controller makes for Ingresses.
     */
    zoneId?: pulumi.Input<string>;
}

export interface AliasRecordsArgs {
    /** The Route 53 hosted zone the records go in. Required. */
    zoneId: pulumi.Input<string>;
    /** Each host name and the load balancer it points at. Required. */
    records: Record<string, AliasTarget>;
    /**
     * With a private zone, the VPC whose resolver must answer for it: the zone is associated with
     * it, so pods and tasks inside resolve the names on the first `up`. Default none (a public
     * zone, or a private one already associated).
     */
    privateZoneVpcId?: pulumi.Input<string>;
}

/** Problems with the arguments, each under its property path. */
export function aliasRecordsArgsProblems(args: Pick<AliasRecordsArgs, "records">): SettingProblem[] {
    const hosts = Object.keys(args.records);
    if (hosts.length === 0) return [{ key: "records", message: "must name at least one host" }];
    return hosts.flatMap((host) =>
        isHostName(host)
            ? []
            : [{ key: `records.${host}`, message: `must be keyed by a host name such as app.example.com` }],
    );
}

/**
 * Route 53 alias records (A) from host names to load balancers. An alias follows the load
 * balancer's changing addresses, and Route 53 charges nothing for alias queries to load
 * balancers (Route 53 pricing, "Alias queries").
 *
 * ```ts
 * new AliasRecords("portal", {
 *     zoneId: "Z0123456789ABCDEFGHIJ",
 *     records: { "costs.example.com": { dnsName: alb.dnsName, zoneId: alb.zoneId } },
 * });
 * ```
 */
export class AliasRecords extends pulumi.ComponentResource {
    /** The records, by host name. */
    public readonly records: Readonly<Record<string, aws.route53.Record>>;
    public readonly zoneAssociation?: aws.route53.ZoneAssociation;

    constructor(name: string, args: AliasRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("AliasRecords", name, aliasRecordsArgsProblems(args));
        super(ALIAS_RECORDS_TYPE, name, {}, opts);
        const child = { parent: this };
        if (args.privateZoneVpcId)
            this.zoneAssociation = new aws.route53.ZoneAssociation(
                `${name}-zone-vpc`,
                { zoneId: args.zoneId, vpcId: args.privateZoneVpcId },
                child,
            );
        const needsElbZone = Object.values(args.records).some((target) => target.zoneId === undefined);
        const elbZoneId = needsElbZone ? aws.elb.getHostedZoneIdOutput({}, child).id : undefined;
        this.records = Object.fromEntries(
            Object.entries(args.records).map(([host, target]) => [
                host,
                new aws.route53.Record(
                    `${name}-${host}`,
                    {
                        zoneId: args.zoneId,
                        name: host,
                        type: "A",
                        aliases: [
                            {
                                name: target.dnsName,
                                zoneId: target.zoneId ?? elbZoneId!,
                                evaluateTargetHealth: true,
                            },
                        ],
                    },
                    child,
                ),
            ]),
        );
        this.registerOutputs({});
    }
}
