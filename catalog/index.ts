export * from "./gpus";
export * from "./instances";
export * from "./services";
