/** `@gpu-platform/components/gpu`: NVIDIA's GPU Operator and the GPU sharing configs it holds. */
export { GpuOperator } from "./gpu-operator";
export type { GpuOperatorArgs } from "./gpu-operator";
export { devicePluginConfigName, migConfigName } from "./sharing";
export type { GpuSharing, SharedGpuPool } from "./sharing";
export type { HelmValues } from "../shared/helm";
