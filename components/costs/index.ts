export { buildCostTrackerConfig, costTrackerConfigProblems, TRACKER_DEFAULTS } from "./tracker-config";
export type {
    CostTrackerConfig,
    CostTrackerConfigInput,
    TrackerAlerts,
    TrackerConfigProblem,
    TrackerGpuSharing,
    TrackerPool,
    TrackerSources,
    TrackerTeam,
} from "./tracker-config";
