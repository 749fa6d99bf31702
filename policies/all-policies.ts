/**
 * Every policy of the pack, in the order reports list them. The PolicyPack (index.ts) and the
 * offline plan's runner (runner.ts) both take them from here, so both run the same objects.
 * Importing this starts nothing; only constructing the PolicyPack starts its server.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { argocdProjectScope } from "./argocd-projects";
import { imdsv2Required } from "./compute";
import { ecrImmutableTags, ecrScanOnPush } from "./ecr";
import { ecsNoPublicIp } from "./ecs";
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
import { albInternal, lbHttpsListeners } from "./load-balancers";
import { noPublicIngress } from "./network";
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
];
