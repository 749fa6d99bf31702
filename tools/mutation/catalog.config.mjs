// The hardware and price catalog against the specs that read it directly.
import { areaConfig } from "./area.mjs";

export default areaConfig({
    area: "catalog",
    // catalog/contracts/ (the services' config documents) moved here from components/, which no
    // area mutates; its specs are the services' own.
    mutate: ["catalog/**/*.ts", "!catalog/contracts/**"],
    spec: [
        "test/allocatable.spec.ts",
        "test/catalog-facts.spec.ts",
        "test/config-rules.spec.ts",
        "test/config.spec.ts",
        "test/gpu-sharing.spec.ts",
        "test/kubernetes-quantity.spec.ts",
        "test/node-pool-purchase.spec.ts",
        "test/regions.spec.ts",
        "test/scheduling.spec.ts",
        "test/team-secret-store.spec.ts",
        "test/tenancy-admission.spec.ts",
        "test/tenancy.spec.ts",
    ],
    tsconfigFile: "tsconfig.json",
    thresholds: { high: 70, low: 60 },
});
