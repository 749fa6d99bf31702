export * from "./sharing";
export * from "./gpu-operator";
