import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { CPU_NODE_SELECTOR, PARTITION_DNS_SUFFIX, partitionOf } from "@gpu-platform/catalog";
import { CHARTS } from "../shared/charts";
import { HelmValues, mergeValues, pinnedRelease } from "../shared/helm";
import { IrsaRole, OidcProvider, PolicyStatement } from "../shared/irsa";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";

export const EXTERNAL_SECRETS_TYPE = `${PACKAGE}:portal:ExternalSecrets`;

/** The operator's controller: the one pod that calls AWS, and the service account its IRSA role trusts. */
export const EXTERNAL_SECRETS_CONTROLLER = {
    namespace: CHARTS.externalSecrets.namespace,
    serviceAccount: "external-secrets",
} as const;

/** The API version the pinned chart's CRDs serve (v1beta1 is not served at 2.9.0). */
export const EXTERNAL_SECRETS_API = "external-secrets.io/v1";

export interface ExternalSecretsArgs {
    /** The cluster's OIDC provider, for the controller's IRSA role. */
    oidc: OidcProvider;
    /** Region of the Secrets Manager secrets. */
    region: string;
    /**
     * Namespaces whose ExternalSecrets may use the store. Required: without it any namespace
     * (a team's, where `edit` may create ExternalSecrets) could copy the portal's credentials.
     */
    namespaces: string[];
    /**
     * Customer-managed KMS keys that encrypt secrets it syncs. Default none: the secrets must be on
     * Secrets Manager's own key (aws/secretsmanager), which decrypts for any principal allowed to
     * read the secret. A secret on another key needs its key here, or the operator's reads fail
     * with kms:Decrypt AccessDenied.
     */
    kmsKeyArns?: pulumi.Input<string>[];
    /** Helm values merged over the component's, last. Default none. */
    values?: HelmValues;
}

/**
 * The External Secrets Operator (pinned `external-secrets` chart) and one `ClusterSecretStore`
 * on AWS Secrets Manager. It copies Secrets Manager entries (RDS-managed passwords, API tokens,
 * repository credentials) into Kubernetes Secrets and refreshes them, so a rotated value
 * reaches the pods and no credential passes through stack config, Helm values or Pulumi state.
 *
 * Its controller's IRSA role starts with no permission: each `externalSecret()` grants it read
 * access to the one secret it syncs (an inline policy beside it), so the operator may read
 * exactly the secrets the stack syncs. The store admits ExternalSecrets from `namespaces` only.
 *
 * Cost: three small pods (controller, webhook, cert controller) on the CPU pool, and Secrets
 * Manager API calls (one read per secret per refresh).
 */
export class ExternalSecrets extends pulumi.ComponentResource {
    public readonly role: aws.iam.Role;
    public readonly release: k8s.helm.v3.Release;
    /** The ClusterSecretStore every ExternalSecret of the portal names. */
    public readonly store: k8s.apiextensions.CustomResource;
    public readonly storeName = "aws-secrets-manager";
    /** What an ExternalSecret waits for: the operator's CRDs and the store. */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: ExternalSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("ExternalSecrets", name, externalSecretsArgsProblems(args));
        super(EXTERNAL_SECRETS_TYPE, name, {}, opts);
        this.role = new IrsaRole(
            `${name}-irsa`,
            { oidc: args.oidc, ...EXTERNAL_SECRETS_CONTROLLER },
            { parent: this },
        ).role;
        const kmsKeyArns = args.kmsKeyArns ?? [];
        if (kmsKeyArns.length > 0)
            new aws.iam.RolePolicy(
                `${name}-kms`,
                {
                    role: this.role.id,
                    policy: pulumi.jsonStringify({
                        Version: "2012-10-17",
                        Statement: secretsKeyStatements(kmsKeyArns, args.region),
                    }),
                },
                { parent: this },
            );
        this.release = pinnedRelease(
            `${name}-release`,
            CHARTS.externalSecrets,
            this.role.arn.apply((roleArn) => mergeValues(externalSecretsValues(roleArn), args.values)),
            { parent: this },
        );
        this.store = new k8s.apiextensions.CustomResource(
            `${name}-store`,
            {
                apiVersion: EXTERNAL_SECRETS_API,
                kind: "ClusterSecretStore",
                metadata: { name: this.storeName },
                spec: clusterSecretStoreSpec(args.region, args.namespaces),
            },
            { parent: this, dependsOn: [this.release] },
        );
        this.ready = [this.release, this.store];
        this.registerOutputs({ roleArn: this.role.arn, storeName: this.storeName });
    }
}

export function externalSecretsArgsProblems(args: Pick<ExternalSecretsArgs, "namespaces">): SettingProblem[] {
    const problems: SettingProblem[] = [];
    if (args.namespaces.length === 0)
        problems.push({
            key: "namespaces",
            message: "is empty; name the namespaces whose ExternalSecrets may use the store",
        });
    return problems;
}

/** The chart values (external-secrets 2.9.0): CRDs, the controller's IRSA, CPU nodes, requests. */
export function externalSecretsValues(roleArn: string): HelmValues {
    const small = { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } };
    return {
        installCRDs: true,
        serviceAccount: {
            create: true,
            name: EXTERNAL_SECRETS_CONTROLLER.serviceAccount,
            annotations: { "eks.amazonaws.com/role-arn": roleArn },
        },
        global: { nodeSelector: { ...CPU_NODE_SELECTOR } },
        resources: small,
        webhook: { resources: small },
        certController: { resources: small },
    };
}

/**
 * What the controller may do with one synced secret (ESO's AWS provider docs): read its value
 * and metadata, and decrypt it with its customer-managed key if it has one. No
 * `ListSecrets`/`BatchGetSecretValue`: those only serve `dataFrom.find`, which would need
 * `Resource: "*"`.
 */
export function externalSecretsStatements(
    secretArn: pulumi.Input<string>,
    kmsKeyArn?: pulumi.Input<string>,
): PolicyStatement[] {
    const statements: PolicyStatement[] = [
        {
            Sid: "ReadSyncedSecret",
            Effect: "Allow",
            Action: [
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetResourcePolicy",
                "secretsmanager:ListSecretVersionIds",
            ],
            Resource: [secretArn],
        },
    ];
    if (kmsKeyArn)
        statements.push({
            Sid: "DecryptSyncedSecret",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: [kmsKeyArn],
        });
    return statements;
}

/**
 * Decrypting with the user's keys, and only for Secrets Manager in the stack's region
 * (`kms:ViaService`, AWS KMS developer guide, "kms:ViaService"): the role cannot use the keys directly.
 */
export function secretsKeyStatements(kmsKeyArns: pulumi.Input<string>[], region: string): PolicyStatement[] {
    return [
        {
            Sid: "DecryptSecretsThroughSecretsManager",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: kmsKeyArns,
            Condition: {
                StringEquals: {
                    "kms:ViaService": `secretsmanager.${region}.${PARTITION_DNS_SUFFIX[partitionOf(region) ?? "aws"]}`,
                },
            },
        },
    ];
}

/** A ClusterSecretStore on Secrets Manager that authenticates as the controller (IRSA), usable from `namespaces` only. */
export function clusterSecretStoreSpec(region: string, namespaces: string[]) {
    return {
        provider: { aws: { service: "SecretsManager", region } },
        conditions: [{ namespaces: [...namespaces] }],
    };
}

export interface SyncedSecretArgs {
    /** The operator: its role is granted read access to `remoteSecret`, and the ExternalSecret waits for its `ready`. */
    externalSecrets: Pick<ExternalSecrets, "storeName" | "ready" | "role">;
    namespace: pulumi.Input<string>;
    /** Name of the Kubernetes Secret it writes. */
    secretName: string;
    /** The Secrets Manager secret (its ARN) whose value it copies. */
    remoteSecret: pulumi.Input<string>;
    /** The customer-managed KMS key the secret is encrypted with. Default none (aws/secretsmanager). */
    kmsKeyArn?: pulumi.Input<string>;
    /** Kubernetes key → JSON property of the remote value (`""`: the whole value, for a plain-text secret). Default: every property under its own name. */
    properties?: Record<string, string>;
    /** Labels of the Secret it writes, e.g. Argo CD's `argocd.argoproj.io/secret-type`. Default none. */
    labels?: Record<string, string>;
    /** Fixed entries added to the Secret beside the copied ones (no credentials: they are visible in state). Default none. */
    fixedData?: Record<string, pulumi.Input<string>>;
    /** How often it re-reads the remote value. Default `"1h"`. */
    refreshInterval?: string;
    /**
     * Annotations of the ExternalSecret. A changed annotation makes the operator re-read the
     * remote value at once (external-secrets.io FAQ, "Can I manually trigger a secret refresh?").
     * Default none.
     */
    annotations?: Record<string, pulumi.Input<string>>;
}

/**
 * An ExternalSecret: a Kubernetes Secret kept equal to a Secrets Manager secret's value. The
 * operator's role is granted read access to that one secret by an inline policy
 * (`<name>-read`), beside the ExternalSecret and in its parent.
 */
export function externalSecret(
    name: string,
    args: SyncedSecretArgs,
    opts: { parent: pulumi.Resource; dependsOn?: pulumi.Resource[] },
): k8s.apiextensions.CustomResource {
    const grant = new aws.iam.RolePolicy(
        `${name}-read`,
        {
            role: args.externalSecrets.role.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: externalSecretsStatements(args.remoteSecret, args.kmsKeyArn),
            }),
        },
        { parent: opts.parent },
    );
    return new k8s.apiextensions.CustomResource(
        name,
        {
            apiVersion: EXTERNAL_SECRETS_API,
            kind: "ExternalSecret",
            metadata: { name: args.secretName, namespace: args.namespace, annotations: args.annotations },
            spec: externalSecretSpec(args),
        },
        { parent: opts.parent, dependsOn: [...args.externalSecrets.ready, grant, ...(opts.dependsOn ?? [])] },
    );
}

/**
 * The version of a Secrets Manager secret that readers get (staged `AWSCURRENT`), or undefined
 * while the secret has no value: a secret created empty has no version at all.
 */
export function currentSecretVersion(
    versions: readonly { versionId: string; versionStages: readonly string[] }[] | undefined,
): string | undefined {
    return versions?.find((version) => version.versionStages.includes("AWSCURRENT"))?.versionId;
}

export function externalSecretSpec(
    args: Omit<SyncedSecretArgs, "externalSecrets" | "namespace"> & {
        externalSecrets: Pick<ExternalSecrets, "storeName">;
    },
) {
    const template =
        args.labels || args.fixedData
            ? {
                  template: {
                      mergePolicy: "Merge",
                      metadata: { labels: { ...args.labels } },
                      data: { ...args.fixedData },
                  },
              }
            : {};
    const copied = args.properties
        ? {
              data: Object.entries(args.properties).map(([secretKey, property]) => ({
                  secretKey,
                  remoteRef: { key: args.remoteSecret, ...(property ? { property } : {}) },
              })),
          }
        : { dataFrom: [{ extract: { key: args.remoteSecret } }] };
    return {
        refreshInterval: args.refreshInterval ?? "1h",
        secretStoreRef: { kind: "ClusterSecretStore", name: args.externalSecrets.storeName },
        target: { name: args.secretName, creationPolicy: "Owner", ...template },
        ...copied,
    };
}
