export * from "./tokens";
export * from "./charts";
export * from "./helm";
export * from "./irsa";
