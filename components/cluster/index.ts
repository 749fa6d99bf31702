/**
 * `@gpu-platform/components/cluster`: the EKS cluster (needs `@pulumi/eks`), node pools, the
 * managed add-ons and Cluster Autoscaler, and the pure rules a pool's settings obey.
 */
export { Cluster, clusterAccessProblems, endpointAccessProblems } from "./cluster";
export type { ClusterArgs } from "./cluster";
export { NodePool } from "./node-pool";
export type { NodePoolArgs } from "./node-pool";
export {
    IO2_IOPS,
    NODE_POOL_DEFAULTS,
    autoscalerNodeResources,
    nodePoolProblems,
    poolMinSize,
    poolNodes,
    poolPodRoom,
    scaleFromZeroTags,
} from "./pool-settings";
export type { NodeTaint, PoolCapacityType, PoolDiskType, PoolNodes, PoolPodRoom, PoolSettings } from "./pool-settings";
export {
    DEPLOY_RUNNER_DEFAULTS,
    DeployRunner,
    deployRoleTrustPolicy,
    deployRunnerProblems,
    deployRunnerStatements,
    runnerFilterGroups,
} from "./deploy-runner";
export type { DeployRunnerArgs } from "./deploy-runner";
export { ClusterAddons } from "./cluster-addons";
export type { ClusterAddonsArgs } from "./cluster-addons";
export { ClusterAutoscaler } from "./cluster-autoscaler";
export type { ClusterAutoscalerArgs } from "./cluster-autoscaler";
export type { HelmValues } from "../shared/helm";
export type { OidcProvider } from "../shared/irsa";
export type { SettingProblem } from "../shared/problems";
