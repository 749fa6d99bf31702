/**
 * Issue 21 items 4 and 5: the portal's hosts and the cost tracker's host resolve, and the
 * tracker's HTTPS listener serves a certificate whose names include its host. Expected values
 * come from the stack files and the AWS documentation, not from the code under test:
 * - ACM DNS validation: one CNAME per name on the certificate, taken from the certificate's
 *   `domainValidationOptions`; the listener must use the validated certificate (ACM user guide,
 *   "DNS validation"; @pulumi/aws 7.48 `acm.CertificateValidation`).
 * - Route 53 alias records to a load balancer name its DNS name and its canonical hosted zone
 *   (Route 53 developer guide, "Routing traffic to an ELB load balancer").
 * - ACM validates through public DNS, so a private zone cannot validate a certificate (ACM user
 *   guide, "DNS validation": the CNAME must be publicly resolvable).
 */
import * as assert from "assert";
import { PROJECT, named, ofType, promiseOf, record, stackConfig, validStackConfig } from "./harness";
import { buildPlatform } from "../platform";
import { AliasRecords, HostCertificate } from "../components/network";
import { CostTracker } from "../components/costs";
import { FAKE_ELB_ZONE_ID } from "@gpu-platform/offline/fake-cloud";
import { validatePlatformConfig } from "../stacks";
import type { PlatformConfig } from "../stacks";

const ZONE = "Z0123456789ABCDEFGHIJ";
// Dev's portal, moved into a zone of ours: the hosts are the portal's three services and the tracker's default.
const DEV_HOSTS = [
    "cost-tracker.portal.dev.example.com",
    "backstage.portal.dev.example.com",
    "argocd.portal.dev.example.com",
    "mlflow.portal.dev.example.com",
];

function devWith(edit: (raw: any) => void): { config?: PlatformConfig; problems: string[] } {
    const raw = stackConfig("dev") as any;
    raw.portal.domain = "portal.dev.example.com";
    edit(raw);
    const result = validatePlatformConfig(raw, PROJECT, "dev");
    return { config: result.config, problems: result.problems.map((p) => `${p.key}: ${p.message}`) };
}

function validDevWith(edit: (raw: any) => void): PlatformConfig {
    const { config, problems } = devWith(edit);
    assert.ok(config, problems.join("\n"));
    return config;
}

describe("DNS records and certificates (dns)", function () {
    // Each builds a whole platform; the machine may be shared.
    this.timeout(120_000);

    describe("the stack key", () => {
        it("reports each bad field and each host outside the zone, one line per key, all at once", () => {
            const { problems } = devWith((raw) => {
                raw.dns = { zoneId: "/hostedzone/Z0123", zoneName: "Example.com." };
            });
            assert.deepStrictEqual(problems, [
                'dns.zoneId: must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (without /hostedzone/) (found "/hostedzone/Z0123")',
                `dns.zoneName: must be the zone's domain name such as example.com, without a trailing dot (found "Example.com.")`,
            ]);
            const outside = devWith((raw) => {
                // "badexample.com" ends with "example.com" but is not in it.
                raw.portal.domain = "portal.badexample.com";
                raw.costTracker = { hostName: "costs.example.org" };
                raw.dns = { zoneId: ZONE, zoneName: "example.com", private: true, certificate: true };
            }).problems;
            assert.deepStrictEqual(outside, [
                'portal.domain: "portal.badexample.com" is not in dns.zoneName "example.com": its records go in that zone; use a domain under it',
                'costTracker.hostName: "costs.example.org" is not in dns.zoneName "example.com": its record goes in that zone; use a name under it',
                "dns.certificate: cannot be true in a private zone: ACM validates through public DNS; set it to false and name certificates in portal.ingress.certificateArn and costTracker.certificateArn (from AWS Private CA, say)",
            ]);
        });

        it("requires a host name with the tracker's own certificate when no zone names one (item 5)", () => {
            const { problems } = devWith((raw) => {
                raw.costTracker = {
                    certificateArn:
                        "arn:aws:acm:us-east-1:123456789012:certificate/5b1c7f52-0000-4000-8000-000000000002",
                };
            });
            assert.deepStrictEqual(problems, [
                "costTracker.hostName: is required with costTracker.certificateArn: a certificate cannot match the load balancer's AWS name; name a host the certificate covers (e.g. cost-tracker.example.com), or set dns to have one made",
            ]);
            const badHost = devWith((raw) => (raw.costTracker = { hostName: "Cost Tracker" })).problems;
            assert.deepStrictEqual(badHost, [
                'costTracker.hostName: must be a host name such as cost-tracker.example.com (found "Cost Tracker")',
            ]);
        });

        it("leaves dev and prod as they were: no zone, no records, no certificate of the stack's own", async () => {
            for (const stack of ["dev", "prod"]) {
                const { result, resources } = await record(() => buildPlatform(validStackConfig(stack)));
                assert.strictEqual(ofType(resources, "aws:route53/record:Record").length, 0, stack);
                assert.strictEqual(ofType(resources, "aws:acm/certificate:Certificate").length, 0, stack);
                assert.strictEqual(result.dnsRecords, undefined);
            }
        });
    });

    describe("a public zone", () => {
        const config = () => validDevWith((raw) => (raw.dns = { zoneId: ZONE, zoneName: "example.com" }));

        it("makes one certificate for every host, validated by a CNAME per name in the zone", async () => {
            const { resources } = await record(() => buildPlatform(config()));
            const certificates = ofType(resources, "aws:acm/certificate:Certificate");
            assert.strictEqual(certificates.length, 1);
            const cert = certificates[0].inputs as any;
            assert.strictEqual(cert.validationMethod, "DNS");
            assert.deepStrictEqual([cert.domainName, ...cert.subjectAlternativeNames].sort(), [...DEV_HOSTS].sort());
            const validations = ofType(resources, "aws:route53/record:Record").filter(
                (r) => (r.inputs as any).type === "CNAME",
            );
            // The fake cloud answers ACM's options as `_placeholder.<name>.` → `_placeholder.acm-validations.aws.`.
            assert.deepStrictEqual(
                validations.map((r) => (r.inputs as any).name).sort(),
                DEV_HOSTS.map((h) => `_placeholder.${h}.`).sort(),
            );
            for (const v of validations) {
                assert.strictEqual((v.inputs as any).zoneId, ZONE);
                assert.deepStrictEqual((v.inputs as any).records, ["_placeholder.acm-validations.aws."]);
            }
            const validation = ofType(resources, "aws:acm/certificateValidation:CertificateValidation");
            assert.strictEqual(validation.length, 1);
            assert.deepStrictEqual(
                [...(validation[0].inputs as any).validationRecordFqdns].sort(),
                DEV_HOSTS.map((h) => `_placeholder.${h}`).sort(),
            );
        });

        it("serves the tracker over HTTPS as its host, with the validated certificate that names it (item 5)", async () => {
            const { result, resources } = await record(() => buildPlatform(config()));
            const https = named(resources, "aws:lb/listener:Listener", "cost-tracker-https").inputs as any;
            const issued = await promiseOf(result.certificate!.validation.certificateArn);
            assert.strictEqual(https.certificateArn, issued, "the listener waits for ACM's issuance");
            const cert = ofType(resources, "aws:acm/certificate:Certificate")[0].inputs as any;
            assert.ok(
                [cert.domainName, ...cert.subjectAlternativeNames].includes("cost-tracker.portal.dev.example.com"),
            );
            assert.strictEqual(await promiseOf(result.costTracker!.url), "https://cost-tracker.portal.dev.example.com");
            // Backstage's proxy reaches the tracker by that name, which the certificate matches.
            const backstage = ofType(resources, "kubernetes:helm.sh/v3:Release").find((r) => /backstage/.test(r.name));
            assert.ok(
                JSON.stringify(backstage?.inputs).includes("https://cost-tracker.portal.dev.example.com"),
                "Backstage's proxy target is the tracker's host",
            );
        });

        it("points each host at its load balancer with an alias record", async () => {
            const { result, resources } = await record(() => buildPlatform(config()));
            const aliases: Record<string, any> = Object.fromEntries(
                ofType(resources, "aws:route53/record:Record")
                    .filter((r) => (r.inputs as any).type === "A")
                    .map((r) => [(r.inputs as any).name, r.inputs as any]),
            );
            assert.deepStrictEqual(Object.keys(aliases).sort(), [...DEV_HOSTS].sort());
            for (const record of Object.values(aliases)) assert.strictEqual(record.zoneId, ZONE);
            // The tracker's load balancer is Pulumi's own: its DNS name and canonical zone.
            const alb = named(resources, "aws:lb/loadBalancer:LoadBalancer", "cost-tracker-alb");
            assert.deepStrictEqual(aliases["cost-tracker.portal.dev.example.com"].aliases, [
                { name: alb.outputs.dnsName, zoneId: alb.outputs.zoneId, evaluateTargetHealth: true },
            ]);
            // The portal's ALB is the controller's: its name is the Ingress's status, its zone ELB's for the region.
            const ingress = named(
                resources,
                "kubernetes:networking.k8s.io/v1:Ingress",
                "gpu-platform-dev-backstage-ingress",
            );
            const hostname = (ingress.outputs.status as any).loadBalancer.ingress[0].hostname;
            for (const host of DEV_HOSTS.slice(1))
                assert.deepStrictEqual(aliases[host].aliases, [
                    { name: hostname, zoneId: FAKE_ELB_ZONE_ID, evaluateTargetHealth: true },
                ]);
            assert.deepStrictEqual(Object.keys(result.hostTargets).sort(), [...DEV_HOSTS].sort());
        });

        it("puts the certificate on the portal's Ingresses, which then serve HTTPS", async () => {
            const { result, resources } = await record(() => buildPlatform(config()));
            const issued = await promiseOf(result.certificate!.arn);
            for (const service of ["backstage", "argocd", "mlflow"]) {
                const ingress = named(
                    resources,
                    "kubernetes:networking.k8s.io/v1:Ingress",
                    `gpu-platform-dev-${service}-ingress`,
                ).inputs as any;
                assert.strictEqual(ingress.metadata.annotations["alb.ingress.kubernetes.io/certificate-arn"], issued);
            }
            assert.strictEqual(
                await promiseOf(result.portal!.backstage!.url),
                "https://backstage.portal.dev.example.com",
            );
        });

        it("keeps a certificate the stack names: the stack's own covers only the hosts without one", async () => {
            const own = "arn:aws:acm:us-east-1:123456789012:certificate/5b1c7f52-0000-4000-8000-000000000001";
            const { resources } = await record(() =>
                buildPlatform(
                    validDevWith((raw) => {
                        raw.dns = { zoneId: ZONE, zoneName: "example.com" };
                        raw.portal.ingress = { certificateArn: own };
                    }),
                ),
            );
            const cert = ofType(resources, "aws:acm/certificate:Certificate")[0].inputs as any;
            assert.deepStrictEqual([cert.domainName, ...(cert.subjectAlternativeNames ?? [])], [DEV_HOSTS[0]]);
            const ingress = named(
                resources,
                "kubernetes:networking.k8s.io/v1:Ingress",
                "gpu-platform-dev-argocd-ingress",
            );
            assert.strictEqual(
                (ingress.inputs as any).metadata.annotations["alb.ingress.kubernetes.io/certificate-arn"],
                own,
            );
        });
    });

    describe("a private zone", () => {
        it("associates the zone with the stack's VPC, writes the records and makes no certificate", async () => {
            const config = validDevWith((raw) => (raw.dns = { zoneId: ZONE, zoneName: "example.com", private: true }));
            const { result, resources } = await record(() => buildPlatform(config));
            assert.strictEqual(ofType(resources, "aws:acm/certificate:Certificate").length, 0);
            const association = ofType(resources, "aws:route53/zoneAssociation:ZoneAssociation");
            assert.strictEqual(association.length, 1);
            assert.strictEqual((association[0].inputs as any).zoneId, ZONE);
            assert.strictEqual((association[0].inputs as any).vpcId, await promiseOf(result.network.vpcId));
            assert.strictEqual(ofType(resources, "aws:route53/record:Record").length, DEV_HOSTS.length);
            // No certificate: the tracker is reached by name over HTTP inside the VPC, as before.
            assert.strictEqual(await promiseOf(result.costTracker!.url), "http://cost-tracker.portal.dev.example.com");
            assert.ok(
                !ofType(resources, "aws:lb/listener:Listener").some((l) => (l.inputs as any).protocol === "HTTPS"),
            );
        });
    });

    describe("the components", () => {
        it("HostCertificate refuses bad, repeated and too many names, naming each", () => {
            const many = Array.from({ length: 11 }, (_, i) => `h${i}.example.com`);
            assert.throws(
                () =>
                    new HostCertificate("bad", {
                        hostNames: ["a.example.com", "a.example.com", "-x.example.com"],
                        zoneId: ZONE,
                    }),
                (e: any) =>
                    /hostNames\[1\].*named twice/s.test(JSON.stringify(e.errors ?? e.message)) &&
                    /hostNames\[2\]/.test(JSON.stringify(e.errors ?? e.message)),
            );
            // ACM's default quota: 10 names per certificate.
            assert.throws(() => new HostCertificate("many", { hostNames: many, zoneId: ZONE }), /invalid arguments/);
            assert.throws(() => new AliasRecords("none", { zoneId: ZONE, records: {} }), /invalid arguments/);
        });

        it("CostTracker refuses a certificate without the host name it must match", () => {
            assert.throws(
                () =>
                    new CostTracker("no-host", {
                        vpcId: "vpc-1",
                        privateSubnetIds: ["subnet-1", "subnet-2"],
                        budgets: { teams: [], nodePools: [] },
                        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/cost-tracker:1.0.0",
                        certificateArn:
                            "arn:aws:acm:us-east-1:123456789012:certificate/5b1c7f52-0000-4000-8000-000000000001",
                    }),
                (e: any) =>
                    JSON.stringify(e.errors ?? []).includes('"propertyPath":"hostName"') &&
                    JSON.stringify(e.errors ?? []).includes("no certificate can match the load balancer's AWS name"),
            );
        });
    });
});
