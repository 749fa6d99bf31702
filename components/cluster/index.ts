/**
 * `@gpu-platform/components/cluster`: the EKS cluster (needs `@pulumi/eks`), node pools, the
 * managed add-ons and Cluster Autoscaler, and the pure rules a pool's settings obey.
 */
export { Cluster, endpointAccessProblems } from "./cluster";
export type { ClusterArgs } from "./cluster";
export { NodePool } from "./node-pool";
export type { NodePoolArgs } from "./node-pool";
export { NODE_POOL_DEFAULTS, nodePoolProblems, poolMinSize, poolNodes, scaleFromZeroTags } from "./pool-settings";
export type { NodeTaint, PoolNodes, PoolSettings } from "./pool-settings";
export { ClusterAddons } from "./cluster-addons";
export type { ClusterAddonsArgs } from "./cluster-addons";
export { ClusterAutoscaler } from "./cluster-autoscaler";
export type { ClusterAutoscalerArgs } from "./cluster-autoscaler";
export type { HelmValues } from "../shared/helm";
export type { OidcProvider } from "../shared/irsa";
export type { SettingProblem } from "../shared/problems";
