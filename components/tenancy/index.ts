export * from "./workload-classes";
export * from "./team-namespace";
