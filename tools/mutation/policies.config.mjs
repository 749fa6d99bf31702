// The CrossGuard policies against the policy pack's specs. The generated list of taggable AWS
// types is data, checked against @pulumi/aws by its own spec (which reads the file's text, so an
// instrumented copy would fail it): not mutated.
import { areaConfig } from "./area.mjs";

export default areaConfig({
    area: "policies",
    mutate: [
        "policies/**/*.ts",
        "!policies/test/**",
        "!policies/scripts/**",
        "!policies/index.ts",
        "!policies/lib/aws-taggable-types.ts",
    ],
    spec: ["policies/test/**/*.spec.ts", "test/policy-config.spec.ts"],
    tsconfigFile: "tsconfig.json",
    thresholds: { high: 80, low: 70 },
});
