/** `@gpu-platform/components/gpu`: NVIDIA's GPU Operator, the GPU sharing configs it holds, and the startup gate of time-sliced and MIG nodes. */
export { GpuOperator } from "./gpu-operator";
export type { GpuOperatorArgs } from "./gpu-operator";
export { GPU_CONFIG_GATE_IMAGES, GpuConfigGate } from "./gpu-config-gate";
export type { GatedPool, GpuConfigGateArgs } from "./gpu-config-gate";
export { devicePluginConfigName, migConfigName } from "./sharing";
export type { GpuSharing, SharedGpuPool } from "./sharing";
export type { HelmValues } from "../shared/helm";
