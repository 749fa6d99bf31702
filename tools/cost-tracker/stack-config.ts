/**
 * The cost tracker's config document built from a stack's `Pulumi.<stack>.yaml`, read through
 * the project's own loaders (the offline plan's stack-config reader and the stack schema's
 * validation), as the CostTracker component builds it in a deployment. For running the service
 * from a checkout (`npm run cost-tracker -- --demo`, the specs' server): the service itself never
 * reads stack files; it gets the document as JSON (COST_TRACKER_CONFIG_JSON) and checks it.
 */
import * as path from "path";
import { buildCostTrackerConfig, type CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { readProject, resolveStackConfig } from "@gpu-platform/plan/stack-config";
import { validatePlatformConfig } from "../../stacks/loader";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** A stack whose config does not validate: one line per problem, each naming its key. */
export class StackConfigError extends Error {
    constructor(readonly lines: string[]) {
        super(lines.join("\n"));
    }
}

export function costTrackerConfigFromStack(stack: string, repoRoot: string = REPO_ROOT): CostTrackerConfig {
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
        throw new StackConfigError([
            `Pulumi.${stack}.yaml is invalid:`,
            ...result.problems.map((p) => `  - ${p.key}: ${p.message}`),
        ]);
    return buildCostTrackerConfig({
        teams: result.config.teams,
        nodePools: result.config.nodePools,
        priorityClasses: result.config.priorityClasses,
    });
}

function parseValue(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}
