/** `@gpu-platform/components/tenancy`: priority classes with the cluster's GPU limit per pod, and team namespaces. */
export { WorkloadClasses } from "./workload-classes";
export { GPU_LIMIT_EXEMPT_NAMESPACES, GPU_LIMIT_POLICY } from "@gpu-platform/catalog/admission";
export { admissionBindingSpec, admissionPolicySpec } from "./admission-policy";
export type { WorkloadClassArgs, WorkloadClassesArgs } from "./workload-classes";
export {
    TEAM_NAMESPACE_DEFAULTS,
    TeamNamespace,
    defaultGpuQuota,
    quotaHard,
    teamNamespaceArgsProblems,
} from "./team-namespace";
export type { GpuPoolResources, TeamNamespaceArgs, TeamQuota } from "./team-namespace";
export { TenancyAdmission, admissionSettings, tenancyAdmissionProblems } from "./tenancy-admission";
export type { TenancyAdmissionArgs } from "./tenancy-admission";
