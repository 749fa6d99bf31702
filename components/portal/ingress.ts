import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { SettingProblem } from "../shared/problems";

/**
 * How the portal's web front ends are reached: through ALBs the AWS Load Balancer Controller
 * makes from plain `Ingress` objects. The components create the Ingresses themselves rather than
 * through their charts' values, so the plan and the policies see every one (and price one ALB
 * per ingress group).
 */
export interface PortalIngressSettings {
    /**
     * `"internal"` (default): reachable only from inside the VPC and networks routed to it (VPN,
     * peering). `"internet-facing"` puts the ALB in the public subnets and needs `allowedCidrs`.
     */
    scheme?: "internal" | "internet-facing";
    /** Source CIDRs the ALB admits. Required with `"internet-facing"`; default, for internal ALBs, the controller's (the VPC can reach it). */
    allowedCidrs?: string[];
    /** ACM certificate for HTTPS on 443 (HTTP then redirects to it). Default none: HTTP on 80 inside the VPC. */
    certificateArn?: pulumi.Input<string>;
    /** ALB ingress group: Ingresses of one group share one ALB. Default `"portal"`, or `"portal-public"` when internet-facing. */
    groupName?: string;
}

export const INGRESS_DEFAULTS = { scheme: "internal", internalGroup: "portal", publicGroup: "portal-public" } as const;

/** The ALB ingress class the controller serves. */
export const ALB_INGRESS_CLASS = "alb";

export interface PortalIngressArgs {
    namespace: pulumi.Input<string>;
    /** Host name the service answers to, e.g. `backstage.portal.example.internal`. */
    host: string;
    serviceName: string;
    servicePort: number;
    /** Path the ALB's health check asks for on the pods. */
    healthCheckPath: string;
    settings: PortalIngressSettings;
}

/** Problems with the ingress settings, under `prefix` (`ingress.` among a component's arguments, `portal.ingress.` in the stack config). */
export function ingressProblems(prefix: string, settings: PortalIngressSettings): SettingProblem[] {
    const problems: SettingProblem[] = [];
    if (settings.scheme === "internet-facing" && !(settings.allowedCidrs && settings.allowedCidrs.length > 0)) {
        problems.push({
            key: `${prefix}allowedCidrs`,
            message:
                'is required with scheme "internet-facing": name the source ranges that may reach the portal (an ALB on the internet admits everyone otherwise)',
        });
    }
    (settings.allowedCidrs ?? []).forEach((cidr, i) => {
        if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr))
            problems.push({
                key: `${prefix}allowedCidrs[${i}]`,
                message: `must be an IPv4 CIDR such as 10.0.0.0/8 (found "${cidr}")`,
            });
    });
    return problems;
}

/** The URL a browser uses for `host` behind the portal's ALB: HTTPS when a certificate is given. */
export function portalUrl(host: string, settings: PortalIngressSettings): string {
    return `${settings.certificateArn ? "https" : "http"}://${host}`;
}

/**
 * The Ingress's annotations for the AWS Load Balancer Controller (its `alb.ingress.kubernetes.io/*`
 * annotations): scheme, IP targets, the shared group, listeners and the health check.
 */
export function albAnnotations(
    args: Pick<PortalIngressArgs, "healthCheckPath" | "settings">,
    certificateArn?: string,
): Record<string, string> {
    const scheme = args.settings.scheme ?? INGRESS_DEFAULTS.scheme;
    const group =
        args.settings.groupName ??
        (scheme === "internal" ? INGRESS_DEFAULTS.internalGroup : INGRESS_DEFAULTS.publicGroup);
    const annotations: Record<string, string> = {
        "alb.ingress.kubernetes.io/scheme": scheme,
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/group.name": group,
        "alb.ingress.kubernetes.io/healthcheck-path": args.healthCheckPath,
        "alb.ingress.kubernetes.io/listen-ports": JSON.stringify(
            certificateArn ? [{ HTTP: 80 }, { HTTPS: 443 }] : [{ HTTP: 80 }],
        ),
    };
    if (certificateArn) {
        annotations["alb.ingress.kubernetes.io/certificate-arn"] = certificateArn;
        annotations["alb.ingress.kubernetes.io/ssl-redirect"] = "443";
        // TLS 1.3 and 1.2 with forward secrecy; the controller's default (ELBSecurityPolicy-2016-08) allows TLS 1.0.
        annotations["alb.ingress.kubernetes.io/ssl-policy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06";
    }
    if (args.settings.allowedCidrs?.length)
        annotations["alb.ingress.kubernetes.io/inbound-cidrs"] = args.settings.allowedCidrs.join(",");
    return annotations;
}

/** An Ingress of class `alb` for one service, on the portal's shared ALB. */
export function portalIngress(
    name: string,
    args: PortalIngressArgs,
    opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.Ingress {
    return new k8s.networking.v1.Ingress(
        name,
        {
            metadata: {
                name: args.serviceName,
                namespace: args.namespace,
                annotations: pulumi
                    .output(args.settings.certificateArn)
                    .apply((certificateArn) => albAnnotations(args, certificateArn)),
            },
            spec: {
                ingressClassName: ALB_INGRESS_CLASS,
                rules: [
                    {
                        host: args.host,
                        http: {
                            paths: [
                                {
                                    path: "/",
                                    pathType: "Prefix",
                                    backend: {
                                        service: { name: args.serviceName, port: { number: args.servicePort } },
                                    },
                                },
                            ],
                        },
                    },
                ],
            },
        },
        opts,
    );
}
