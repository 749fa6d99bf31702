/**
 * --demo without COST_TRACKER_CONFIG: the config document built from the prod stack's
 * `Pulumi.prod.yaml`, read through the project's own loaders (the offline plan's stack-config
 * reader and the stack schema's validation). Loaded only for --demo: the loaders bring in
 * @pulumi/pulumi, which the service's image does not ship.
 */
import * as path from "path";
import { buildCostTrackerConfig, type CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { readProject, resolveStackConfig } from "../../../../tools/plan/stack-config";
import { validatePlatformConfig } from "../../../../stacks/loader";
import { checkedConfig } from "../config";
import { StartupError } from "../settings";

export const REPO_ROOT = path.resolve(__dirname, "../../../..");

export function configFromStack(stack: string, repoRoot: string = REPO_ROOT): CostTrackerConfig {
    const project = readProject(repoRoot);
    const namespaced = resolveStackConfig(project, stack, undefined, []);
    const prefix = `${project.name}:`;
    // Pulumi hands structured values over as JSON text, plain strings as they are.
    const raw = Object.fromEntries(
        Object.entries(namespaced)
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), parseValue(value)]),
    );
    const result = validatePlatformConfig(raw, project.name, stack);
    if (!result.config)
        throw new StartupError([
            `Pulumi.${stack}.yaml is invalid:`,
            ...result.problems.map((p) => `  - ${p.key}: ${p.message}`),
        ]);
    const doc = buildCostTrackerConfig({
        teams: result.config.teams,
        nodePools: result.config.nodePools,
        priorityClasses: result.config.priorityClasses,
    });
    return checkedConfig(doc, `Pulumi.${stack}.yaml`);
}

function parseValue(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}
