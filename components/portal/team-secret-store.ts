import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { LABELS, partitionOf } from "@gpu-platform/catalog";
import { PLATFORM_MANAGED_LABEL, TENANCY_ADMISSION_DEFAULTS } from "@gpu-platform/catalog/admission";
import { IrsaRole, OidcProvider, PolicyStatement } from "../shared/irsa";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";
import { EXTERNAL_SECRETS_API } from "./external-secrets";

export const TEAM_SECRET_STORE_TYPE = `${PACKAGE}:portal:TeamSecretStore`;

/** The store's and its service account's names in every team namespace (the admission rules admit this one store). */
export const TEAM_SECRET_STORE = TENANCY_ADMISSION_DEFAULTS.teamSecretStore;

export interface TeamSecretStoreArgs {
    /** The team: its namespace, and the last part of its secrets' prefix. */
    team: string;
    /** The stack's prefix in Secrets Manager: the team reads `<stackPrefix>/teams/<team>/*`. */
    stackPrefix: string;
    /** Region of the secrets. */
    region: string;
    /** The cluster's OIDC provider, for the team's IRSA role. */
    oidc: OidcProvider;
    /** The operator's release: the SecretStore kind exists once it is installed. */
    operator: pulumi.Resource;
}

/**
 * A team's own way into Secrets Manager: in the team's namespace, the SecretStore `team-secrets`
 * that authenticates as the team's IRSA role (through the service account `team-secrets`, by a
 * web identity token the operator requests for it), and that role, which may read the secrets
 * under `<stackPrefix>/teams/<team>/` and nothing else. The operator's own role never serves a
 * team: it reads the platform's secrets only, through the ClusterSecretStore that admits the
 * platform's namespaces (ExternalSecrets). Teams cannot make a store of their own (admission
 * rule `gpu-platform-team-secret-stores`), nor name any other store (`…-secret-references`).
 *
 * ```ts
 * new TeamSecretStore("ml-research-secrets", { team: "ml-research", stackPrefix: "gpu-platform-dev",
 *     region: "us-east-1", oidc: cluster.oidcProvider, operator: externalSecrets.release }, opts);
 * ```
 *
 * Cost: none beyond Secrets Manager's per-secret and per-call prices.
 */
export class TeamSecretStore extends pulumi.ComponentResource {
    public readonly role: aws.iam.Role;
    public readonly store: k8s.apiextensions.CustomResource;

    constructor(name: string, args: TeamSecretStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("TeamSecretStore", name, teamSecretStoreProblems(args));
        super(TEAM_SECRET_STORE_TYPE, name, {}, opts);
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const labels = { [LABELS.team]: args.team, [PLATFORM_MANAGED_LABEL.key]: PLATFORM_MANAGED_LABEL.value };
        this.role = new IrsaRole(
            `${name}-irsa`,
            {
                oidc: args.oidc,
                namespace: args.team,
                serviceAccount: TEAM_SECRET_STORE.serviceAccount,
                statements: teamSecretStatements(
                    account.apply((id) =>
                        teamSecretArnPattern({ ...args, partition: partitionOf(args.region) ?? "aws", account: id }),
                    ),
                ),
            },
            { parent: this },
        ).role;
        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            {
                metadata: {
                    name: TEAM_SECRET_STORE.serviceAccount,
                    namespace: args.team,
                    labels,
                    annotations: { "eks.amazonaws.com/role-arn": this.role.arn },
                },
                // Only the operator uses it, to request a token for the store.
                automountServiceAccountToken: false,
            },
            { parent: this },
        );
        this.store = new k8s.apiextensions.CustomResource(
            `${name}-store`,
            {
                apiVersion: EXTERNAL_SECRETS_API,
                kind: "SecretStore",
                metadata: { name: TEAM_SECRET_STORE.name, namespace: args.team, labels },
                spec: teamSecretStoreSpec(args.region),
            },
            { parent: this, dependsOn: [args.operator, serviceAccount] },
        );
        this.registerOutputs({ roleArn: this.role.arn });
    }
}

/**
 * The store's spec (external-secrets v2.9.0, SecretStore on AWS): Secrets Manager, authenticated
 * by the JWT of the namespace's `team-secrets` service account, exchanged for the team role's
 * credentials (providers/v1/aws/auth/auth.go: `auth.jwt.serviceAccountRef`). Without an `auth`
 * block a namespaced store would use the controller's own role, which is why the rules admit
 * only this shape.
 */
export function teamSecretStoreSpec(region: string) {
    return {
        provider: {
            aws: {
                service: "SecretsManager",
                region,
                auth: { jwt: { serviceAccountRef: { name: TEAM_SECRET_STORE.serviceAccount } } },
            },
        },
    };
}

/**
 * The team role's policy: read, by name, the secrets under the team's prefix. Secrets Manager
 * appends `-` and six characters to a secret's ARN, so `<prefix>/*` covers them and no other
 * team's: a team name has no `/`. No ListSecrets (it needs `Resource: "*"` and lists every name).
 */
export function teamSecretStatements(secretArnPattern: pulumi.Input<string>): PolicyStatement[] {
    return [
        {
            Sid: "ReadTeamSecrets",
            Effect: "Allow",
            Action: [
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetResourcePolicy",
                "secretsmanager:ListSecretVersionIds",
            ],
            Resource: [secretArnPattern],
        },
    ];
}

/** The ARN pattern of a team's secrets: `arn:<partition>:secretsmanager:<region>:<account>:secret:<prefix>*`. */
export function teamSecretArnPattern(s: {
    partition: string;
    region: string;
    account: string;
    stackPrefix: string;
    team: string;
}): string {
    return `arn:${s.partition}:secretsmanager:${s.region}:${s.account}:secret:${teamSecretPrefix(s.stackPrefix, s.team)}*`;
}

/** Where a team's secrets live in Secrets Manager: `<stackPrefix>/teams/<team>/`. */
export function teamSecretPrefix(stackPrefix: string, team: string): string {
    return `${stackPrefix}/teams/${team}/`;
}

export function teamSecretStoreProblems(args: Pick<TeamSecretStoreArgs, "team" | "stackPrefix">): SettingProblem[] {
    const problems: SettingProblem[] = [];
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.team) || args.team.length > 63)
        problems.push({ key: "team", message: `must be a namespace name, e.g. ml-research (found "${args.team}")` });
    if (!/^[\w+=.@-]+(\/[\w+=.@-]+)*$/.test(args.stackPrefix) || /[*?]/.test(args.stackPrefix))
        problems.push({
            key: "stackPrefix",
            message: `must be a Secrets Manager name prefix without wildcards, e.g. gpu-platform-dev (found "${args.stackPrefix}")`,
        });
    return problems;
}
