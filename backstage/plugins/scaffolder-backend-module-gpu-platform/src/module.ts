import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createReleaseGpusAction } from './actions/releaseGpus';
import { createRequestGpusAction } from './actions/requestGpus';
import { CostTrackerClient } from './costTracker';

/**
 * Adds gpu-platform:request-gpus and gpu-platform:release-gpus to the scaffolder, calling the
 * cost tracker at gpuPlatform.costTracker.baseUrl with Backstage's own token
 * (gpuPlatform.costTracker.token, from the environment, never in a file).
 */
export const scaffolderModuleGpuPlatform = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'gpu-platform',
  register({ registerInit }) {
    registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
        catalog: catalogServiceRef,
        auth: coreServices.auth,
      },
      async init({ scaffolder, config, catalog, auth }) {
        const costTracker = new CostTrackerClient({
          baseUrl: config.getString('gpuPlatform.costTracker.baseUrl'),
          token: config.getString('gpuPlatform.costTracker.token'),
        });
        const options = { costTracker, catalog, auth };
        scaffolder.addActions(
          createRequestGpusAction(options),
          createReleaseGpusAction(options),
        );
      },
    });
  },
});
