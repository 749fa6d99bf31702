/** Reads and checks the config document named by COST_TRACKER_CONFIG. */
import * as fs from "fs";
import { costTrackerConfigProblems, type CostTrackerConfig } from "../../../components/costs/tracker-config";
import { StartupError } from "./settings";

export function loadConfigDocument(file: string): CostTrackerConfig {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new StartupError([`COST_TRACKER_CONFIG: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
    }
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (err) {
        throw new StartupError([`COST_TRACKER_CONFIG: ${file} is not valid JSON: ${(err as Error).message}`]);
    }
    return checkedConfig(doc, file);
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
