/**
 * `@gpu-platform/components/portal`: the developer portal layer. The AWS Load Balancer
 * Controller and the External Secrets Operator underneath; Argo CD with team projects and an
 * ApplicationSet per team; MLflow; Backstage; and each service's own database and user on PostgreSQL.
 */
export {
    LOAD_BALANCER_CONTROLLER,
    LoadBalancerController,
    loadBalancerControllerArgsProblems,
    loadBalancerControllerStatements,
    loadBalancerControllerValues,
    ingressClassParamsSpec,
} from "./load-balancer-controller";
export type { LoadBalancerControllerArgs, PortalClassScope } from "./load-balancer-controller";
export {
    EXTERNAL_SECRETS_API,
    EXTERNAL_SECRETS_CONTROLLER,
    ExternalSecrets,
    externalSecret,
    externalSecretsArgsProblems,
    externalSecretsStatements,
    externalSecretsValues,
} from "./external-secrets";
export type { ExternalSecretsArgs, SyncedSecretArgs } from "./external-secrets";
export { ARGOCD, ArgoCd, argoCdArgsProblems, argoCdPolicyCsv, argoCdValues } from "./argocd";
export type { ArgoCdArgs, ArgoCdSso, ArgoCdTeam, DexConnector } from "./argocd";
export {
    GITOPS_DEFAULTS,
    GitOps,
    IN_CLUSTER,
    RESERVED_PROJECTS,
    gitOpsArgsProblems,
    gitOpsValues,
    repositoryForms,
    teamApplicationSet,
    teamProject,
} from "./gitops";
export type { GitOpsArgs, GitOpsTeam } from "./gitops";
export {
    MLFLOW,
    MLFLOW_DEFAULTS,
    MLFLOW_DEFAULT_PERMISSION,
    Mlflow,
    mlflowArgsProblems,
    mlflowAuthValues,
    mlflowStatements,
    mlflowValues,
} from "./mlflow";
export type { MlflowArgs, MlflowAuthArgs } from "./mlflow";
export {
    MLFLOW_TEAM_USERS_SCRIPT,
    MLFLOW_USERS,
    MlflowTeamUsers,
    mlflowTeamUsersArgsProblems,
    mlflowTeamUsersJobSpec,
    teamUserSecretPath,
} from "./mlflow-users";
export type { MlflowTeamUsersArgs } from "./mlflow-users";
export {
    BACKSTAGE,
    BACKSTAGE_DEMO_IMAGE,
    Backstage,
    PROXY_ENDPOINTS,
    TEMPLATE_ACTIONS,
    backstageAppConfig,
    backstageArgsProblems,
    backstageImage,
    backstageValues,
    scaffolderRepoUrl,
} from "./backstage";
export type { BackstageArgs } from "./backstage";
export {
    SERVICE_DATABASES_DEFAULTS,
    ServiceDatabases,
    bootstrapJobSpec,
    bootstrapStatements,
    serviceDatabasesArgsProblems,
} from "./service-databases";
export type { ServiceDatabasesArgs } from "./service-databases";
export { ALB_INGRESS_CLASS, INGRESS_DEFAULTS, albAnnotations, ingressProblems, portalUrl } from "./ingress";
export type { PortalIngressSettings } from "./ingress";
export type { ServiceDatabase } from "./database";
export type { HelmValues } from "../shared/helm";
export type { OidcProvider } from "../shared/irsa";
export type { SettingProblem } from "../shared/problems";
export {
    TEAM_SECRET_STORE,
    TeamSecretStore,
    teamSecretArnPattern,
    teamSecretPrefix,
    teamSecretStatements,
    teamSecretStoreProblems,
    teamSecretStoreSpec,
} from "./team-secret-store";
export type { TeamSecretStoreArgs } from "./team-secret-store";
