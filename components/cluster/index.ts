export * from "./cluster";
export * from "./node-pool";
export * from "./cluster-addons";
export * from "./cluster-autoscaler";
