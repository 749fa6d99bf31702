export * from "./gpus";
export * from "./instances";
