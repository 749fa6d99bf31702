/** `@gpu-platform/components/network`: the VPC. Needs `@pulumi/awsx`. */
export { Network, subnetMasks } from "./network";
export type { NetworkArgs } from "./network";
