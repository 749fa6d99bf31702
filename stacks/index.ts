export * from "./schema";
export * from "./profiles";
export * from "./loader";
export * from "./tenancy";
export * from "./inference-pipelines";
export * from "./policy-pack";
export * from "./cost-tracker";
export * from "./policy-facts";
