/**
 * Every policy of the pack, in the order reports list them. The PolicyPack (index.ts) and the
 * offline plan's runner (runner.ts) both take them from here, so both run the same objects.
 * Importing this starts nothing; only constructing the PolicyPack starts its server.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { argocdApplicationProjects } from "./argocd-applications";
import { argocdProjectScope } from "./argocd-projects";
import { clusterAdminGrants } from "./cluster-admin";
import { codebuildEncryption, codebuildNoPlaintextCredentials, codebuildPrivilegedMode } from "./codebuild";
import { ec2NoPublicIp, imdsv2Required } from "./compute";
import { dataStoresEncrypted, dataStoresNotPublic } from "./data-stores";
import { ecrImmutableTags, ecrScanOnPush } from "./ecr";
import { ebsEncrypted, efsEncrypted, kmsKeyRotation, logGroupRetention, snsEncrypted } from "./encryption";
import { ecsNoPublicIp } from "./ecs";
import { ecsTaskHardening, ecsTaskLogging, ecsTaskSecrets } from "./ecs-task-definitions";
import { eksPrivateEndpoint, eksSecretsEncryption } from "./eks";
import { gpuInstanceTypeAllowed, gpuNodeGroupTaint, gpuPoolGpuLimit, gpuStackGpuLimit } from "./gpu-node-pools";
import { gpuOperatorInstall, gpuOperatorSharing } from "./gpu-operator";
import { gpuWorkloadTeamQuota } from "./gpu-team-quota";
import { helmValuesNoPlaintextSecrets } from "./helm-secrets";
import {
    gpuWorkloadClassLimit,
    gpuWorkloadLimits,
    gpuWorkloadPriorityClass,
    gpuWorkloadToleration,
} from "./gpu-workloads";
import { iamDataActionsScoped, iamNoAdminGrants, iamTrustNotPublic } from "./iam";
import { iamActionsValid } from "./iam-actions";
import { iamLeastPrivilege } from "./iam-least-privilege";
import { albInternal, lbHttpsListeners } from "./load-balancers";
import { lbNoPublicPlainHttp } from "./listeners";
import { noPublicIngress } from "./network";
import { ecrNoPublicRepositories, lambdaFunctionUrlAuth, resourcePoliciesNotPublic } from "./resource-policies";
import { rdsBackups, rdsNotPublic, rdsProtected, rdsStorageEncrypted } from "./rds";
import { stackMonthlyBudget } from "./stack-budget";
import {
    s3DefaultEncryption,
    s3NoPublicGrants,
    s3PublicAccessBlocked,
    sqsEncryption,
    sqsNoPublicPolicy,
} from "./storage";
import { helmReleaseNamespaces, teamNamespaceLabel } from "./namespaces";
import { teamNamespaceAdmission } from "./team-admission";
import { budgetTags } from "./tags";

export const PACK_NAME = "gpu-platform";

export const ALL_POLICIES: readonly (ResourceValidationPolicy | StackValidationPolicy)[] = [
    gpuNodeGroupTaint,
    gpuInstanceTypeAllowed,
    gpuPoolGpuLimit,
    gpuStackGpuLimit,
    gpuWorkloadLimits,
    gpuWorkloadPriorityClass,
    gpuWorkloadToleration,
    gpuWorkloadClassLimit,
    gpuWorkloadTeamQuota,
    gpuOperatorSharing,
    gpuOperatorInstall,
    budgetTags,
    teamNamespaceLabel,
    helmReleaseNamespaces,
    stackMonthlyBudget,
    s3PublicAccessBlocked,
    s3NoPublicGrants,
    s3DefaultEncryption,
    sqsEncryption,
    sqsNoPublicPolicy,
    eksSecretsEncryption,
    eksPrivateEndpoint,
    noPublicIngress,
    imdsv2Required,
    iamDataActionsScoped,
    iamNoAdminGrants,
    iamTrustNotPublic,
    iamActionsValid,
    iamLeastPrivilege,
    ecsNoPublicIp,
    rdsStorageEncrypted,
    rdsNotPublic,
    rdsBackups,
    rdsProtected,
    ecrScanOnPush,
    ecrImmutableTags,
    albInternal,
    lbHttpsListeners,
    argocdProjectScope,
    helmValuesNoPlaintextSecrets,
    ebsEncrypted,
    efsEncrypted,
    snsEncrypted,
    kmsKeyRotation,
    logGroupRetention,
    ecsTaskHardening,
    ecsTaskSecrets,
    ecsTaskLogging,
    codebuildPrivilegedMode,
    codebuildNoPlaintextCredentials,
    codebuildEncryption,
    ec2NoPublicIp,
    lbNoPublicPlainHttp,
    dataStoresEncrypted,
    dataStoresNotPublic,
    resourcePoliciesNotPublic,
    lambdaFunctionUrlAuth,
    ecrNoPublicRepositories,
    teamNamespaceAdmission,
    clusterAdminGrants,
    argocdApplicationProjects,
];
