import * as assert from "assert";
import { ownerOfPushed, pulledOwners } from "../src/ownership";
import { testConfig } from "./helpers";

// The ownership table of src/ownership.ts's header (docs/cost-tracker-finops.md): each pulled
// source owns its categories only when it is configured; gpu-allocation and OpenCost own a
// category for the workloads they report, Cost Explorer for the whole account.
const base = testConfig().sources;

describe("which source owns a pushed record's category", () => {
    it("claims nothing for a source that is not configured", () => {
        const none = testConfig({
            sources: { ...base, prometheus: undefined, opencost: undefined, costExplorer: undefined },
        });
        assert.deepStrictEqual(pulledOwners(none), []);
        const onlyPrometheus = testConfig({
            sources: {
                ...base,
                prometheus: { url: "http://prometheus:9090", namespaceLabel: "namespace" },
                opencost: undefined,
                costExplorer: undefined,
            },
        });
        assert.deepStrictEqual(
            pulledOwners(onlyPrometheus).map((o) => [o.category, o.source]),
            [["gpu", "gpu-allocation"]],
        );
    });

    it("lets a push claim a workload-scoped category for spend with no workload, but never an account-scoped one", () => {
        const all = testConfig({
            sources: {
                ...base,
                prometheus: { url: "http://prometheus:9090", namespaceLabel: "namespace" },
                opencost: { url: "http://opencost:9003" },
                costExplorer: { region: "us-east-1", tagKey: "team" },
            },
        });
        const owners = pulledOwners(all);
        assert.strictEqual(ownerOfPushed(owners, "gpu", false), undefined);
        assert.strictEqual(ownerOfPushed(owners, "gpu", true)?.source, "gpu-allocation");
        assert.strictEqual(ownerOfPushed(owners, "storage", false), undefined);
        assert.strictEqual(ownerOfPushed(owners, "other-aws", false)?.source, "cost-explorer");
        assert.strictEqual(ownerOfPushed(owners, "ai-api", true), undefined);
    });
});
