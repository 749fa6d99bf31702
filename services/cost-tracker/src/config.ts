/** Reads and checks the config document named by COST_TRACKER_CONFIG. */
import * as fs from "fs";
import { costTrackerConfigProblems, type CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { StartupError } from "./settings";

export function loadConfigDocument(file: string): CostTrackerConfig {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new StartupError([
            `COST_TRACKER_CONFIG: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        ]);
    }
    return parseConfigDocument(text, file, `COST_TRACKER_CONFIG: ${file} is not valid JSON`);
}

/** A document's text (a file's, or COST_TRACKER_CONFIG_JSON's, how ECS hands it over), parsed and checked. */
export function parseConfigDocument(
    text: string,
    origin: string,
    notJson: string = `${origin}: is not valid JSON`,
): CostTrackerConfig {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (err) {
        throw new StartupError([`${notJson}: ${(err as Error).message}`]);
    }
    return checkedConfig(doc, origin);
}

/** The document with the alert webhook from COST_TRACKER_ALERT_WEBHOOK_URL, checked again. */
export function withAlertWebhook(config: CostTrackerConfig, webhookUrl: string | undefined): CostTrackerConfig {
    if (webhookUrl === undefined) return config;
    return checkedConfig({ ...config, alerts: { ...config.alerts, webhookUrl } }, "COST_TRACKER_ALERT_WEBHOOK_URL");
}

/** The document if it has no problems; otherwise every problem, one line each. */
export function checkedConfig(doc: unknown, origin: string): CostTrackerConfig {
    const problems = costTrackerConfigProblems(doc);
    if (problems.length > 0) {
        throw new StartupError([
            `${origin}: invalid cost tracker config (${problems.length} problem${problems.length === 1 ? "" : "s"}):`,
            ...problems.map((p) => `  - ${p.key}: ${p.message}`),
        ]);
    }
    return doc as CostTrackerConfig;
}
