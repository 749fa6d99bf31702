import { discoveryApiRef, fetchApiRef } from '@backstage/core-plugin-api';
import {
  ApiBlueprint,
  createFrontendPlugin,
} from '@backstage/frontend-plugin-api';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';
import {
  FormFieldBlueprint,
  createFormField,
} from '@backstage/plugin-scaffolder-react/alpha';
import { CostTrackerReadClient, costTrackerReadApiRef } from './api';
import { teamOfEntity } from './components/BudgetCard';

/** The cost tracker's reads, through Backstage's proxy endpoint /cost-tracker. */
export const costTrackerReadApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: costTrackerReadApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: deps => CostTrackerReadClient.overProxy(deps),
    }),
});

/** The template form's field `GpuCostPreview`. */
export const costPreviewFormField = FormFieldBlueprint.make({
  name: 'gpu-cost-preview',
  params: {
    field: () =>
      import('./components/CostPreviewField').then(m =>
        createFormField({
          name: 'GpuCostPreview',
          component: m.CostPreviewField,
        }),
      ),
  },
});

/** The budget card on a team's Group page and on a GPU workload's Component page. */
export const budgetEntityCard = EntityCardBlueprint.make({
  name: 'gpu-budget',
  params: {
    filter: entity => teamOfEntity(entity) !== undefined,
    loader: () => import('./components/BudgetCard').then(m => <m.BudgetCard />),
  },
});

/** The GPU platform's portal plugin. */
export const gpuPlatformPlugin = createFrontendPlugin({
  pluginId: 'gpu-platform',
  extensions: [costTrackerReadApi, costPreviewFormField, budgetEntityCard],
});
