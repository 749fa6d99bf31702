/**
 * The GPU platform's scaffolder actions: gpu-platform:request-gpus and gpu-platform:release-gpus.
 *
 * @packageDocumentation
 */
export { scaffolderModuleGpuPlatform as default } from './module';
export {
  createRequestGpusAction,
  REQUEST_GPUS_ACTION_ID,
  type GpuActionOptions,
} from './actions/requestGpus';
export {
  createReleaseGpusAction,
  RELEASE_GPUS_ACTION_ID,
} from './actions/releaseGpus';
export {
  CostTrackerClient,
  type CostTrackerClientOptions,
} from './costTracker';
