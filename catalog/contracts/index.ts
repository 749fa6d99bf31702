/**
 * `@gpu-platform/catalog/contracts`: the config documents the platform writes and its services
 * read: the cost tracker's (`COST_TRACKER_CONFIG_JSON`), the budget gate's
 * (`BUDGET_GATE_CONFIG_JSON`) and the RBAC rules the gate's calls need. The components build
 * them; the services validate them before they start. Pure: no Pulumi, no stack config.
 */
export { buildCostTrackerConfig, CALLER_KINDS, costTrackerConfigProblems, TRACKER_DEFAULTS } from "./tracker-config";
export type {
    CallerKind,
    CostTrackerConfig,
    CostTrackerConfigInput,
    KubernetesApiAccess,
    TrackerAlerts,
    TrackerConfigProblem,
    TrackerGpuSharing,
    TrackerPipeline,
    TrackerPool,
    TrackerSources,
    TrackerTeam,
} from "./tracker-config";
export {
    BUDGET_GATE_DEFAULTS,
    budgetGateConfigProblems,
    buildBudgetGateConfig,
    gateSettingProblems,
} from "./gate-config";
export type { BreakerMode, BudgetGateConfig, BudgetGateConfigInput, GateClass, GateConfigProblem } from "./gate-config";
export { BUDGET_GATE_CLUSTER_RULES, BUDGET_GATE_EVENT_RULES, BUDGET_GATE_LEASE_RULES, rulesAllow } from "./gate-rbac";
export type { RbacRule } from "./gate-rbac";
