export * from "./gpus";
export * from "./instances";
export * from "./services";
export * from "./workload-classes";
