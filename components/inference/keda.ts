import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { CHARTS } from "../shared/charts";
import { HelmValues, mergeValues, pinnedRelease } from "../shared/helm";
import { IrsaRole, OidcProvider } from "../shared/irsa";
import { CPU_NODE_SELECTOR } from "@gpu-platform/catalog";
import { PACKAGE } from "../shared/tokens";

export const KEDA_TYPE = `${PACKAGE}:inference:Keda`;

/**
 * The KEDA operator's Kubernetes identity. Scaler roles (one per pipeline) trust exactly this
 * service account through the cluster's OIDC provider; a team stack needs only these names.
 */
export const KEDA_OPERATOR = { namespace: CHARTS.keda.namespace, serviceAccount: "keda-operator" } as const;

export interface KedaArgs {
    /** The cluster's OIDC provider, for the operator's IRSA identity. */
    oidc: OidcProvider;
    /** Helm values merged over the component's, last. Default none. */
    values?: HelmValues;
}

/**
 * KEDA, once per cluster: the operator that turns queue depth into workers, from the pinned
 * `kedacore/keda` chart (CRDs included), on the CPU nodes so it never holds a GPU node up.
 *
 * Its identity is an IRSA role with **no permissions of its own**. Each pipeline brings a
 * scaler role that allows `sqs:GetQueueAttributes` on that pipeline's queue only and trusts the
 * operator's service account; the pipeline's `TriggerAuthentication` names that role
 * (`podIdentity.provider: aws` + `roleArn`) and KEDA assumes it with the operator's web
 * identity token (KEDA 2.20 pkg/scalers/aws/aws_config_cache.go: AssumeRoleWithWebIdentity
 * first, then AssumeRole). So the operator can read queue depth of the pipelines' queues and
 * nothing else, and a team adds a pipeline without touching the platform's IAM.
 *
 * Cost: three small pods (operator, metrics server, admission webhooks) on the CPU pool.
 */
export class Keda extends pulumi.ComponentResource {
    /** The operator's IRSA role; it carries no policy (see the class comment). */
    public readonly operatorRole: aws.iam.Role;
    public readonly release: k8s.helm.v3.Release;
    /** Where the operator runs and as whom; scaler roles trust this service account. */
    public readonly operator = KEDA_OPERATOR;

    constructor(name: string, args: KedaArgs, opts?: pulumi.ComponentResourceOptions) {
        super(KEDA_TYPE, name, {}, opts);
        this.operatorRole = new IrsaRole(
            `${name}-irsa`,
            { oidc: args.oidc, namespace: KEDA_OPERATOR.namespace, serviceAccount: KEDA_OPERATOR.serviceAccount },
            { parent: this },
        ).role;
        this.release = pinnedRelease(
            `${name}-release`,
            CHARTS.keda,
            this.operatorRole.arn.apply((roleArn) => mergeValues(kedaValues(roleArn), args.values)),
            { parent: this },
        );
        this.registerOutputs({ operatorRoleArn: this.operatorRole.arn });
    }
}

/** The chart values (kedacore/charts keda/values.yaml at v2.20.2): CRDs, IRSA for the operator, CPU nodes. */
export function kedaValues(operatorRoleArn: string): HelmValues {
    return {
        // The ScaledJob, ScaledObject and TriggerAuthentication CRDs come with the release; the
        // pipelines' objects wait for it (see InferencePipeline, "CRDs and objects in one update").
        crds: { install: true },
        serviceAccount: { operator: { create: true, name: KEDA_OPERATOR.serviceAccount } },
        // Sets eks.amazonaws.com/role-arn (and audience, regional STS) on the operator's service
        // account, so the operator gets the web identity token it presents to scaler roles.
        podIdentity: { aws: { irsa: { enabled: true, roleArn: operatorRoleArn } } },
        // Applies to the operator, metrics server and webhooks alike.
        nodeSelector: { ...CPU_NODE_SELECTOR },
    };
}
