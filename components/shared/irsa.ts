import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/** The cluster's OIDC identity provider, as the platform stack exports it. */
export interface OidcProvider {
    /** ARN of the IAM OIDC provider. */
    readonly arn: pulumi.Input<string>;
    /** Issuer URL without the scheme, e.g. `oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE`. */
    readonly url: pulumi.Input<string>;
}

export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Action: string | string[];
    Resource: pulumi.Input<string> | pulumi.Input<string>[];
    Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[] | pulumi.Output<string[]>>>;
}

export interface IrsaRoleArgs {
    oidc: OidcProvider;
    namespace: string;
    serviceAccount: string;
    /** Inline policy statements; scope them to resource ARNs. Default none. */
    statements?: PolicyStatement[];
    /** AWS-managed policies to attach, for add-ons whose policy AWS maintains. Default none. */
    managedPolicyArns?: string[];
    /** Tags on the role, over the provider's default tags. Default none. */
    tags?: Record<string, string>;
}

/**
 * An IAM role that exactly one Kubernetes service account can assume through IRSA, with an
 * inline least-privilege policy. No static keys: pods get short-lived credentials from STS.
 */
export class IrsaRole {
    readonly role: aws.iam.Role;
    readonly policy?: aws.iam.RolePolicy;
    /** The AWS-managed policies' attachments, for what must not start before the role holds them. */
    readonly attachments: aws.iam.RolePolicyAttachment[];

    constructor(name: string, args: IrsaRoleArgs, opts: pulumi.CustomResourceOptions) {
        const issuer = pulumi.output(args.oidc.url).apply((url) => url.replace(/^https:\/\//, ""));
        this.role = new aws.iam.Role(
            `${name}-role`,
            {
                assumeRolePolicy: pulumi.all([args.oidc.arn, issuer]).apply(([providerArn, host]) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Effect: "Allow",
                                Principal: { Federated: providerArn },
                                Action: "sts:AssumeRoleWithWebIdentity",
                                Condition: {
                                    StringEquals: {
                                        [`${host}:sub`]: `system:serviceaccount:${args.namespace}:${args.serviceAccount}`,
                                        [`${host}:aud`]: "sts.amazonaws.com",
                                    },
                                },
                            },
                        ],
                    }),
                ),
                tags: args.tags,
            },
            opts,
        );
        if (args.statements?.length) {
            this.policy = new aws.iam.RolePolicy(
                `${name}-policy`,
                {
                    role: this.role.id,
                    policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: args.statements }),
                },
                opts,
            );
        }
        this.attachments = (args.managedPolicyArns ?? []).map(
            (policyArn, i) =>
                new aws.iam.RolePolicyAttachment(`${name}-managed-${i}`, { role: this.role.name, policyArn }, opts),
        );
    }
}
