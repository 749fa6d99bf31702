import * as assert from "assert";
import { buildCostTrackerConfig, costTrackerConfigProblems } from "@gpu-platform/catalog/contracts";
import { StartupError, readSettings } from "../src/settings";
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

    // A task's settings that pass, to which each case adds one variable.
    const BASE = { COST_TRACKER_CONFIG: "c.json", COST_TRACKER_API_TOKEN: "a".repeat(16) };
    const problemsWith = (env: Record<string, string>) => readSettings({ ...BASE, ...env }, []).problems;

    it("takes ports 1 to 65535 and no other, and 8080 when PORT is empty", () => {
        for (const port of ["1", "65535", "8443"]) assert.deepStrictEqual(problemsWith({ PORT: port }), [], port);
        for (const port of ["0", "65536", "80.5", "-1"])
            assert.deepStrictEqual(problemsWith({ PORT: port }), [
                `PORT: must be a port number from 1 to 65535 (found "${port}")`,
            ]);
        assert.strictEqual(readSettings({ ...BASE, PORT: "" }, []).settings?.port, 8080);
        assert.strictEqual(readSettings({ ...BASE, PORT: "9090" }, []).settings?.port, 9090);
    });

    it("takes a URL only where its scheme starts it: the database's and the alert webhook's", () => {
        const database = "DATABASE_URL: must be a PostgreSQL URL, postgres://user:password@host:5432/database";
        for (const url of ["postgres://u@db:5432/t", "postgresql://u@db/t"])
            assert.deepStrictEqual(problemsWith({ DATABASE_URL: url }), [], url);
        assert.deepStrictEqual(problemsWith({ DATABASE_URL: "mysql://x/postgres://db" }), [database]);
        const webhook = "COST_TRACKER_ALERT_WEBHOOK_URL: must be an http(s) URL";
        for (const url of ["https://hooks.example.com/services/T0/B0/x", "http://alerts.internal:8080/hook"])
            assert.deepStrictEqual(problemsWith({ COST_TRACKER_ALERT_WEBHOOK_URL: url }), [], url);
        for (const url of [
            "ftp://hooks.example.com/x",
            "see https://hooks.example.com/x",
            "https://hooks.example.com/a b",
            "https://",
        ])
            assert.deepStrictEqual(problemsWith({ COST_TRACKER_ALERT_WEBHOOK_URL: url }), [webhook], url);
    });

    it("keeps the admin's previous token as a credential only while it rotates", () => {
        const current = "c".repeat(16);
        const previous = "p".repeat(16);
        const rotating = readSettings({ ...BASE, COST_TRACKER_API_TOKEN: JSON.stringify({ current, previous }) }, []);
        assert.strictEqual(rotating.settings?.apiToken, current);
        assert.deepStrictEqual(rotating.settings?.credentials, [{ kind: "admin", tokens: [previous] }]);
        assert.deepStrictEqual(readSettings(BASE, []).settings?.credentials, []);
    });

    it("names a team's token variable exactly: COST_TRACKER_TOKEN_TEAM_ and the team upper-cased", () => {
        const token = "t".repeat(16);
        assert.deepStrictEqual(
            readSettings({ ...BASE, COST_TRACKER_TOKEN_TEAM_APPLIED_ML: token }, []).settings?.credentials,
            [{ kind: "team", team: "applied-ml", tokens: [token] }],
        );
        for (const variable of ["COST_TRACKER_TOKEN_MYTEAM_X", "COST_TRACKER_TOKEN_TEAM_applied"])
            assert.deepStrictEqual(problemsWith({ [variable]: token }), [
                `${variable}: unknown caller; use COST_TRACKER_TOKEN_PLATFORM, COST_TRACKER_TOKEN_PORTAL or COST_TRACKER_TOKEN_TEAM_<TEAM>`,
            ]);
    });

    it("reads a flag as true or false only, false when unset, and the data folder as .data when unset", () => {
        const flag = (value?: string) =>
            readSettings(value === undefined ? BASE : { ...BASE, COST_TRACKER_READS_NEED_CREDENTIAL: value }, []);
        assert.strictEqual(flag("true").settings?.readsNeedCredential, true);
        assert.strictEqual(flag("false").settings?.readsNeedCredential, false);
        assert.strictEqual(flag().settings?.readsNeedCredential, false);
        assert.deepStrictEqual(flag("yes").problems, [
            'COST_TRACKER_READS_NEED_CREDENTIAL: must be true or false (found "yes")',
        ]);
        assert.strictEqual(flag().settings?.dataDir, ".data");
        assert.strictEqual(
            readSettings({ ...BASE, COST_TRACKER_DATA_DIR: "/var/lib/t" }, []).settings?.dataDir,
            "/var/lib/t",
        );
    });

    it("makes a start-up error of its lines, one per problem", () => {
        const error = new StartupError(["PORT: one", "LOG_LEVEL: two"]);
        assert.deepStrictEqual(
            [error.name, error.message, error.lines],
            ["StartupError", "PORT: one\nLOG_LEVEL: two", ["PORT: one", "LOG_LEVEL: two"]],
        );
    });
});
