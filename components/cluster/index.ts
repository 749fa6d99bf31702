export * from "./cluster";
export * from "./pool-settings";
export * from "./node-pool";
export * from "./cluster-addons";
export * from "./cluster-autoscaler";
