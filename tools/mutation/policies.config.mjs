// The CrossGuard policies against the policy pack's specs.
import { areaConfig } from "./area.mjs";

export default areaConfig({
    area: "policies",
    mutate: ["policies/**/*.ts", "!policies/test/**", "!policies/scripts/**", "!policies/index.ts"],
    spec: ["policies/test/**/*.spec.ts", "test/policy-config.spec.ts"],
    tsconfigFile: "tsconfig.json",
    thresholds: { high: 80, low: 70 },
});
