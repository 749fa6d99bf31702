/**
 * `@gpu-platform/components/costs`: the GPU cost tracker on ECS Fargate (needs
 * `@pulumi/docker-build` to build its image), the PostgreSQL database and container image it is
 * made of, OpenCost and Prometheus in the cluster, and the service's config document.
 */
export { CostTracker, executionRoleStatements, taskRoleStatements } from "./cost-tracker";
export type { CostTrackerArgs, CostTrackerCluster, CostTrackerClusterData } from "./cost-tracker";
export { PostgresDatabase, POSTGRES_PORT } from "./postgres-database";
export type { PostgresDatabaseArgs } from "./postgres-database";
export {
    ContainerImage,
    buildContextHash,
    contextFiles,
    contextTag,
    ecrRepositoryArn,
    imageReferenceProblems,
} from "./container-image";
export type { ContainerImageArgs, ImageBuild, ImagePlatform } from "./container-image";
export { ClusterCostData, COST_DATA_READER_GROUP, COST_DATA_SERVICES, prometheusSizing } from "./cluster-cost-data";
export type { ClusterCostDataArgs, PrometheusSizing } from "./cluster-cost-data";
export { COST_TRACKER_DEFAULTS, FARGATE_TASK_SIZES, costTrackerSizingProblems, defaultMaxCount } from "./settings";
export type { CostTrackerSizing, DatabaseSizing } from "./settings";
export { buildCostTrackerConfig, costTrackerConfigProblems, TRACKER_DEFAULTS } from "@gpu-platform/catalog/contracts";
export type {
    CostTrackerConfig,
    CostTrackerConfigInput,
    KubernetesApiAccess,
    TrackerAlerts,
    TrackerConfigProblem,
    TrackerGpuSharing,
    TrackerPool,
    TrackerSources,
    TrackerTeam,
} from "@gpu-platform/catalog/contracts";
