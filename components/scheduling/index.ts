export { KUEUE_CONTROLLER, KUEUE_FRAMEWORKS, Kueue, kueueManagerConfig, kueueValues } from "./kueue";
export type { KueueArgs } from "./kueue";
export { KueueQueues, kueueQueuesArgsProblems } from "./kueue-queues";
export type { KueueQueuesArgs } from "./kueue-queues";
export {
    KUEUE_API_VERSION,
    KUEUE_OBJECT_DEFAULTS,
    budgetAdmissionCheck,
    clusterQueue,
    localQueue,
    queueLimitProblems,
    resourceFlavors,
    workloadPriorityClasses,
} from "./kueue-objects";
export type { KueueClass, KueueObject, KueuePool, KueueTeam, TeamQueueLimits } from "./kueue-objects";
export {
    BUDGET_GATE_DEFAULTS,
    budgetGateConfigProblems,
    buildBudgetGateConfig,
    gateSettingProblems,
} from "@gpu-platform/catalog/contracts";
export type { BreakerMode, BudgetGateConfig, BudgetGateConfigInput, GateClass } from "@gpu-platform/catalog/contracts";
export {
    BUDGET_GATE_CLUSTER_RULES,
    BUDGET_GATE_EVENT_RULES,
    BUDGET_GATE_LEASE_RULES,
    rulesAllow,
} from "@gpu-platform/catalog/contracts";
export type { RbacRule } from "@gpu-platform/catalog/contracts";
export { BUDGET_GATE_NAMES, BudgetGate, budgetGateArgsProblems, budgetGateDeploymentSpec } from "./budget-gate";
export type { BudgetGateArgs } from "./budget-gate";
