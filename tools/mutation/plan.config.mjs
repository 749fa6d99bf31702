// The offline plan (tools/plan) against its specs.
import { areaConfig } from "./area.mjs";

export default areaConfig({
    area: "plan",
    mutate: ["tools/plan/**/*.ts"],
    spec: [
        "test/plan.spec.ts",
        "test/portal-plan.spec.ts",
        "test/hostile-config.spec.ts",
        "test/pipeline-workers.spec.ts",
        "test/plan-cost.spec.ts",
    ],
    tsconfigFile: "tsconfig.json",
    // Several specs run the plan as a command (tools/plan/bin.js), as a user does.
    childProcesses: true,
    thresholds: { high: 70, low: 60 },
});
