// The cost tracker's src/ against its own fast specs (the PostgreSQL and browser suites are too
// slow to run once per mutant; the embedded PGlite runs the same SQL). The start-up wiring
// (main.ts) and the demo's seed are exercised by child-process specs Stryker cannot see into.
import { areaConfig } from "./area.mjs";

export default areaConfig({
    area: "cost-tracker",
    mutate: [
        "services/cost-tracker/src/**/*.ts",
        "!services/cost-tracker/src/main.ts",
        "!services/cost-tracker/src/demo/**",
    ],
    spec: ["services/cost-tracker/test/*.spec.ts"],
    tsconfigFile: "services/cost-tracker/tsconfig.json",
    thresholds: { high: 80, low: 70 },
});
