import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { isHostName } from "@gpu-platform/catalog/dns-names";
import { type SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";

export const HOST_CERTIFICATE_TYPE = `${PACKAGE}:network:HostCertificate`;

/**
 * ACM's default quota of names on one certificate, the subject included ("Domain names per ACM
 * certificate": 10, raised on request; ACM user guide, "Quotas").
 */
export const ACM_NAMES_PER_CERTIFICATE = 10;

export interface HostCertificateArgs {
    /** The host names the certificate covers; the first is its subject, the rest its alternative names. Required. */
    hostNames: string[];
    /**
     * The public Route 53 hosted zone ACM's validation records go in. Required. ACM resolves them
     * through public DNS: a private zone never validates.
     */
    zoneId: pulumi.Input<string>;
}

/** Problems with the arguments, each under its property path. */
export function hostCertificateArgsProblems(args: Pick<HostCertificateArgs, "hostNames">): SettingProblem[] {
    const problems: SettingProblem[] = [];
    if (args.hostNames.length === 0) problems.push({ key: "hostNames", message: "must name at least one host" });
    if (args.hostNames.length > ACM_NAMES_PER_CERTIFICATE)
        problems.push({
            key: "hostNames",
            message: `names ${args.hostNames.length} hosts; ACM issues at most ${ACM_NAMES_PER_CERTIFICATE} names per certificate unless the quota is raised`,
        });
    args.hostNames.forEach((host, i) => {
        if (!isHostName(host))
            problems.push({
                key: `hostNames[${i}]`,
                message: `must be a host name such as app.example.com (found "${host}")`,
            });
        else if (args.hostNames.indexOf(host) !== i)
            problems.push({ key: `hostNames[${i}]`, message: `"${host}" is named twice` });
    });
    return problems;
}

/**
 * A public ACM certificate for a few host names, validated through DNS: one CNAME per name in a
 * Route 53 zone, then ACM's issuance awaited, so whatever uses `arn` (a listener, an Ingress)
 * gets an issued certificate whose names include its host.
 *
 * ```ts
 * const cert = new HostCertificate("portal", { hostNames: ["backstage.example.com"], zoneId: "Z0123456789ABCDEFGHIJ" });
 * ```
 *
 * Cost: public ACM certificates and Route 53 records are free; the zone's $0.50 a month is the
 * zone owner's.
 */
export class HostCertificate extends pulumi.ComponentResource {
    public readonly certificate: aws.acm.Certificate;
    /** One validation record per host name. */
    public readonly validationRecords: aws.route53.Record[];
    public readonly validation: aws.acm.CertificateValidation;
    /** The certificate's ARN once ACM has issued it. */
    public readonly arn: pulumi.Output<string>;
    public readonly hostNames: readonly string[];

    constructor(name: string, args: HostCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("HostCertificate", name, hostCertificateArgsProblems(args));
        super(HOST_CERTIFICATE_TYPE, name, {}, opts);
        const child = { parent: this };
        const [subject, ...alternatives] = args.hostNames;
        this.hostNames = [...args.hostNames];
        this.certificate = new aws.acm.Certificate(
            `${name}-certificate`,
            {
                domainName: subject,
                subjectAlternativeNames: alternatives,
                validationMethod: "DNS",
            },
            child,
        );
        this.validationRecords = args.hostNames.map((host) => this.validationRecord(name, host, args.zoneId));
        this.validation = new aws.acm.CertificateValidation(
            `${name}-validation`,
            {
                certificateArn: this.certificate.arn,
                validationRecordFqdns: this.validationRecords.map((record) => record.fqdn),
            },
            child,
        );
        this.arn = this.validation.certificateArn;
        this.registerOutputs({ arn: this.arn });
    }

    /** The CNAME ACM asks for `host`, from the certificate's validation options. */
    private validationRecord(name: string, host: string, zoneId: pulumi.Input<string>): aws.route53.Record {
        const option = this.certificate.domainValidationOptions.apply((options) => {
            const found = options.find((o) => o.domainName === host);
            if (!found) throw new Error(`ACM gave no validation record for ${host}`);
            return found;
        });
        return new aws.route53.Record(
            `${name}-validation-${host}`,
            {
                zoneId,
                name: option.resourceRecordName,
                type: option.resourceRecordType,
                records: [option.resourceRecordValue],
                ttl: 300,
                // ACM asks the same record of every certificate for a name in the account: an earlier one may have made it.
                allowOverwrite: true,
            },
            { parent: this },
        );
    }
}
