/** `@gpu-platform/components/tenancy`: priority classes with the cluster's GPU limit per pod, and team namespaces. */
export { GPU_LIMIT_EXEMPT_NAMESPACES, GPU_LIMIT_POLICY, WorkloadClasses, gpuLimitPolicySpec } from "./workload-classes";
export type { WorkloadClassArgs, WorkloadClassesArgs } from "./workload-classes";
export { TEAM_NAMESPACE_DEFAULTS, TeamNamespace, defaultGpuQuota, quotaHard } from "./team-namespace";
export type { GpuPoolResources, TeamNamespaceArgs, TeamQuota } from "./team-namespace";
