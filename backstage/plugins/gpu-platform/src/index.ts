/**
 * The GPU platform's portal plugin: the template form's cost preview (`ui:field: GpuCostPreview`)
 * and the GPU budget card of a team's Group and a GPU workload's Component.
 *
 * @packageDocumentation
 */
export { gpuPlatformPlugin as default } from './plugin';
export {
  costTrackerReadApiRef,
  CostTrackerReadClient,
  type CostTrackerReadApi,
  type TeamBudget,
} from './api';
export { CostPreviewField, askOf } from './components/CostPreviewField';
export { BudgetCard, teamOfEntity } from './components/BudgetCard';
export { previewAsk, teamName } from './estimate';
