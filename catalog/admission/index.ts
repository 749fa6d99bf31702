/**
 * The cluster's admission rules as plain data, one file per rule set: the GPU limit per
 * workload class (gpu-limits.ts) and the tenancy rules (tenancy.ts). Components turn them into
 * ValidatingAdmissionPolicies and bindings; the policy pack evaluates the same CEL at preview
 * (policies/lib/admission.ts), so the two cannot drift.
 */
export type {
    AdmissionResourceRule,
    AdmissionRule,
    AdmissionScope,
    AdmissionValidation,
    LabelSelector,
    LabelSelectorRequirement,
    NamedExpression,
} from "./types";
export { celString, celStringList } from "./types";
export {
    GPU_LIMIT_EXEMPT_NAMESPACES,
    GPU_LIMIT_POLICY,
    POD_AND_WORKLOAD_RESOURCES,
    POD_SPEC_EXPRESSION,
    gpuLimitRule,
} from "./gpu-limits";
export type { GpuLimitClass } from "./gpu-limits";
export { ADMISSION_EXEMPTION_PREFIX, admissionExemptionLabel, bindingNamespaceSelector } from "./binding";
export {
    PLATFORM_MANAGED_LABEL,
    PLATFORM_NAMESPACE_LABEL_PREFIXES,
    TEAM_INGRESS_CLASS_PREFIX,
    OLDEST_EKS_VERSION,
    TENANCY_ADMISSION_DEFAULTS,
    TENANCY_RULES,
    eksUserName,
    platformActorExpression,
    tenancyRules,
} from "./tenancy";
export type { TenancyAdmissionSettings } from "./tenancy";
export {
    POD_SECURITY_RULE,
    RESTRICTED_VOLUME_TYPES,
    SAFE_SYSCTLS_SINCE,
    SELINUX_TYPES,
    podSecurityRule,
    safeSysctls,
} from "./pod-security";
// The Kueue rule set (Kueue holds every GPU pod in a team namespace), in the VAP-spec shape of its installer.
export type { AdmissionRuleSet } from "./types";
export {
    KUBERNETES_JOB_CONTROLLERS,
    KUEUE_ADMISSION_GATE,
    KUEUE_MANAGED_GPU_PODS_POLICY,
    KUEUE_MANAGED_OWNERS,
    kueueManagedGpuPods,
} from "./kueue-managed-gpu-pods";
export type { KueueManagedGpuPodsOptions } from "./kueue-managed-gpu-pods";
