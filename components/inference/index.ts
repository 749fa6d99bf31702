export * from "./settings";
export * from "./keda";
export * from "./inference-pipeline";
