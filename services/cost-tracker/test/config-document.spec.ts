/**
 * The config document as the service reads it at start-up: a file (COST_TRACKER_CONFIG), the
 * JSON text ECS hands over (COST_TRACKER_CONFIG_JSON), and the alert webhook added from its own
 * variable. Each failure is a StartupError whose lines name the variable and say what is wrong.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkedConfig, loadConfigDocument, parseConfigDocument, withAlertWebhook } from "../src/config";
import { StartupError } from "../src/settings";
import { testConfig } from "./helpers";

/** The StartupError's lines `fn` throws; fails when it throws nothing or something else. */
function startupLines(fn: () => unknown): string[] {
    try {
        fn();
    } catch (err) {
        assert.ok(err instanceof StartupError, `a StartupError, not ${String(err)}`);
        assert.strictEqual(err.message, err.lines.join("\n"));
        return err.lines;
    }
    assert.fail("expected a StartupError");
}

describe("cost tracker: reading the config document", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "cost-tracker-config-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("reads a valid document from COST_TRACKER_CONFIG's file", () => {
        const file = path.join(dir, "good.json");
        fs.writeFileSync(file, JSON.stringify(testConfig()));
        const doc = loadConfigDocument(file);
        assert.deepStrictEqual(
            doc.teams.map((t) => [t.name, t.monthlyBudgetUsd]),
            [
                ["ml-research", 120000],
                ["inference", 80000],
                ["applied-ml", 40000],
            ],
        );
    });

    it("names the variable, the file and the OS error code when the file cannot be read", () => {
        const file = path.join(dir, "absent.json");
        assert.deepStrictEqual(
            startupLines(() => loadConfigDocument(file)),
            [`COST_TRACKER_CONFIG: cannot read ${file}: ENOENT`],
        );
        // A directory cannot be read as a file either: EISDIR.
        assert.deepStrictEqual(
            startupLines(() => loadConfigDocument(dir)),
            [`COST_TRACKER_CONFIG: cannot read ${dir}: EISDIR`],
        );
    });

    it("names the variable and the file when the file is not JSON, with the parser's reason", () => {
        const file = path.join(dir, "cut.json");
        fs.writeFileSync(file, '{"teams": [');
        assert.deepStrictEqual(
            startupLines(() => loadConfigDocument(file)),
            [`COST_TRACKER_CONFIG: ${file} is not valid JSON: Unexpected end of JSON input`],
        );
    });

    it("parses COST_TRACKER_CONFIG_JSON's text, naming the variable when it is not JSON", () => {
        const doc = parseConfigDocument(JSON.stringify(testConfig()), "COST_TRACKER_CONFIG_JSON");
        assert.deepStrictEqual(
            doc.pools.map((p) => p.name),
            ["a100-shared", "a100-mig", "h100"],
        );
        assert.deepStrictEqual(
            startupLines(() => parseConfigDocument('{"teams": [', "COST_TRACKER_CONFIG_JSON")),
            ["COST_TRACKER_CONFIG_JSON: is not valid JSON: Unexpected end of JSON input"],
        );
    });

    it("lists every problem of a parsed document under its origin, counting them", () => {
        const one = { ...testConfig(), colour: "blue" };
        assert.deepStrictEqual(
            startupLines(() => parseConfigDocument(JSON.stringify(one), "COST_TRACKER_CONFIG_JSON")),
            [
                "COST_TRACKER_CONFIG_JSON: invalid cost tracker config (1 problem):",
                "  - colour: is not a known key; known: version, teams, pools, priorityClasses, criticalPriorityClasses, criticalApprovers, reservationGraceHours, labels, alerts, sources",
            ],
        );
        const config = testConfig();
        const two = {
            ...config,
            teams: [{ ...config.teams[0], monthlyBudgetUsd: -5 }, ...config.teams.slice(1)],
            shade: 1,
        };
        assert.deepStrictEqual(
            startupLines(() => checkedConfig(two, "c.json")),
            [
                "c.json: invalid cost tracker config (2 problems):",
                "  - shade: is not a known key; known: version, teams, pools, priorityClasses, criticalPriorityClasses, criticalApprovers, reservationGraceHours, labels, alerts, sources",
                "  - teams[0].monthlyBudgetUsd: must be a number more than 0 (found -5)",
            ],
        );
        assert.deepStrictEqual(
            startupLines(() => checkedConfig([], "c.json")),
            [
                "c.json: invalid cost tracker config (1 problem):",
                "  - (document): must be a JSON object with teams, pools and settings",
            ],
        );
    });

    it("returns a document without problems as it is", () => {
        const config = testConfig();
        assert.strictEqual(checkedConfig(config, "c.json"), config);
    });
});

describe("cost tracker: the alert webhook from COST_TRACKER_ALERT_WEBHOOK_URL", () => {
    it("leaves the document as it is when the variable is unset", () => {
        const config = testConfig();
        assert.strictEqual(withAlertWebhook(config, undefined), config);
    });

    it("adds the webhook to the document's alert settings, keeping the others", () => {
        const config = withAlertWebhook(testConfig(), "https://hooks.example.com/cost");
        // testConfig's alert settings are the catalog's defaults: thresholds 50/80/100 %, anomaly at 3× the 14-day median above $100.
        assert.deepStrictEqual(config.alerts, {
            thresholdsPct: [50, 80, 100],
            anomaly: { factor: 3, trailingDays: 14, minDailyUsd: 100 },
            webhookUrl: "https://hooks.example.com/cost",
        });
        assert.strictEqual(config.teams.length, 3, "the rest of the document is kept");
    });

    it("checks the webhook again, naming the variable", () => {
        assert.deepStrictEqual(
            startupLines(() => withAlertWebhook(testConfig(), "slack")),
            [
                "COST_TRACKER_ALERT_WEBHOOK_URL: invalid cost tracker config (1 problem):",
                '  - alerts.webhookUrl: must be an http(s) URL (found "slack")',
            ],
        );
    });
});
