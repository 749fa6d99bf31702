/** `@gpu-platform/components/inference`: KEDA and the S3 → SQS → KEDA → GPU worker pipeline. */
export {
    InferencePipeline,
    PROCESSED_TAG,
    WORKER_POD_ANNOTATIONS,
    inferencePipelineArgsProblems,
} from "./inference-pipeline";
export type { InferencePipelineArgs } from "./inference-pipeline";
export { KEDA_OPERATOR, Keda } from "./keda";
export type { KedaArgs } from "./keda";
export {
    PIPELINE_DEFAULTS,
    gpuRequestProblems,
    pipelineSettingsProblems,
    resolveGpuResource,
    workerResourceProblems,
} from "./settings";
export type { GpuPoolFacts, PipelineSettings, PipelineWorkload, WorkerRoom } from "./settings";
export type { HelmValues } from "../shared/helm";
export type { OidcProvider } from "../shared/irsa";
export type { SettingProblem } from "../shared/problems";
