import * as assert from "assert";
import { buildCostTrackerConfig, costTrackerConfigProblems } from "@gpu-platform/catalog/contracts";
import { readSettings } from "../src/settings";
import { testConfig } from "./helpers";

describe("cost tracker: config document", () => {
    it("builds the document from the stack's shapes: GPU pools only, sharing defaulted, maxSize as maxNodes", () => {
        const doc = testConfig();
        assert.deepStrictEqual(
            doc.pools.map((p) => [p.name, p.gpuSharing.mode, p.maxNodes]),
            [
                ["a100-shared", "time-slicing", 4],
                ["a100-mig", "mig", 4],
                ["h100", "exclusive", 4],
            ],
        );
        // The catalog's five workload classes; production inference is the critical one.
        assert.deepStrictEqual(doc.priorityClasses, [
            "production-inference",
            "critical-agents",
            "training",
            "research",
            "development",
        ]);
        assert.deepStrictEqual(doc.criticalPriorityClasses, ["production-inference"]);
        assert.deepStrictEqual(doc.labels, { team: "gpu-platform/team", pool: "gpu-platform/pool" });
        assert.deepStrictEqual(costTrackerConfigProblems(doc), []);
        assert.deepStrictEqual(JSON.parse(JSON.stringify(doc)), doc, "the document survives JSON");
    });

    it("has no critical class when the stack has no production-inference class", () => {
        const doc = buildCostTrackerConfig({ teams: [], nodePools: [], priorityClasses: [{ name: "batch" }] });
        assert.deepStrictEqual(doc.criticalPriorityClasses, []);
    });

    it("reports every bad field of a document, one line each, naming it", () => {
        const doc = JSON.parse(JSON.stringify(testConfig())) as Record<string, any>;
        doc.teams[1].monthlyBudgetUsd = -5;
        doc.teams[2].name = "ml-research";
        doc.pools[0].gpuSharing.replicas = 1;
        doc.pools[1].gpuSharing.layout = { "3g.20gb": 1 };
        doc.pools[2].instanceType = "m7i.2xlarge";
        doc.criticalPriorityClasses = ["vip"];
        doc.alerts.webhookUrl = "slack";
        doc.sources.opencost = { url: "opencost:9003" };
        doc.colour = "blue";
        assert.deepStrictEqual(
            costTrackerConfigProblems(doc).map((p) => `${p.key}: ${p.message}`),
            [
                "colour: is not a known key; known: version, teams, pools, priorityClasses, criticalPriorityClasses, criticalApprovers, reservationGraceHours, labels, alerts, sources",
                "teams[1].monthlyBudgetUsd: must be a number more than 0 (found -5)",
                'teams[2]: duplicates teams[0] "ml-research"; names must be unique',
                "pools[0].gpuSharing.replicas: must be a whole number from 2 to 16 (found 1)",
                "pools[1].gpuSharing.layout.3g.20gb: is not a MIG profile of NVIDIA A100-SXM4-80GB; allowed: 1g.10gb, 1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb",
                "pools[2].instanceType: m7i.2xlarge has no GPU; only GPU pools take GPU requests",
                'criticalPriorityClasses[0]: "vip" is not in priorityClasses (production-inference, critical-agents, training, research, development)',
                'alerts.webhookUrl: must be an http(s) URL (found "slack")',
                'sources.opencost.url: must be an http(s) URL (found "opencost:9003")',
            ],
        );
        assert.deepStrictEqual(costTrackerConfigProblems([]), [
            { key: "(document)", message: "must be a JSON object with teams, pools and settings" },
        ]);
    });
});

describe("cost tracker: settings", () => {
    it("defaults the port and needs the config and token outside --demo", () => {
        assert.deepStrictEqual(readSettings({}, []).problems, [
            "COST_TRACKER_CONFIG: is required: the path of the JSON document of teams, pools and settings (or run with --demo)",
            "COST_TRACKER_API_TOKEN: is required: the admin's bearer token",
        ]);
        const { settings } = readSettings({}, ["--demo"]);
        assert.strictEqual(settings?.port, 8080);
        assert.strictEqual(settings?.databaseUrl, undefined, "no DATABASE_URL: embedded PGlite");
        assert.strictEqual(settings?.host, "127.0.0.1", "a demo prints a write token: it answers only its own machine");
        assert.strictEqual(
            readSettings({ COST_TRACKER_CONFIG: "c.json", COST_TRACKER_API_TOKEN: "t".repeat(32) }, []).settings?.host,
            "0.0.0.0",
            "a task listens on every interface",
        );
    });

    it("names every bad variable and argument", () => {
        assert.deepStrictEqual(
            readSettings(
                {
                    PORT: "http",
                    DATABASE_URL: "mysql://db",
                    COST_TRACKER_CONFIG: "c.json",
                    COST_TRACKER_API_TOKEN: "short",
                    LOG_LEVEL: "loud",
                },
                ["--dmeo"],
            ).problems,
            [
                "--dmeo: unknown argument; usage: npm run cost-tracker -- [--demo]   (settings from PORT, DATABASE_URL, COST_TRACKER_CONFIG, COST_TRACKER_API_TOKEN)",
                'PORT: must be a port number from 1 to 65535 (found "http")',
                "DATABASE_URL: must be a PostgreSQL URL, postgres://user:password@host:5432/database",
                "COST_TRACKER_API_TOKEN: must be at least 16 characters",
                'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace (found "loud")',
            ],
        );
    });
});
