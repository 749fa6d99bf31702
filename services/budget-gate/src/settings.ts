/** The gate's environment, read once and checked: one line per bad variable, naming it. */
import { type BudgetGateConfig, budgetGateConfigProblems } from "@gpu-platform/catalog/contracts";

export interface GateSettings {
    readonly config: BudgetGateConfig;
    readonly trackerUrl: string;
    /** The token itself (local runs), or the Secrets Manager secret holding it (in the cluster, read through IRSA). */
    readonly token: { readonly value: string } | { readonly secretArn: string };
    readonly port: number;
    /** This replica's identity in the Lease: its pod's name. */
    readonly identity: string;
}

export class StartupError extends Error {
    constructor(readonly problems: string[]) {
        super(problems.join("\n"));
        this.name = "StartupError";
    }
}

export function readSettings(env: NodeJS.ProcessEnv): GateSettings {
    const problems: string[] = [];
    let config: BudgetGateConfig | undefined;
    try {
        const doc: unknown = JSON.parse(env.BUDGET_GATE_CONFIG_JSON ?? "");
        const found = budgetGateConfigProblems(doc);
        problems.push(...found.map((p) => `BUDGET_GATE_CONFIG_JSON: ${p.key}: ${p.message}`));
        if (found.length === 0) config = doc as BudgetGateConfig;
    } catch (err) {
        problems.push(
            `BUDGET_GATE_CONFIG_JSON: must be the gate's config document as JSON (${(err as Error).message})`,
        );
    }
    const url = env.COST_TRACKER_URL ?? "";
    if (!/^https?:\/\/[^\s/]+/.test(url))
        problems.push(`COST_TRACKER_URL: must be the cost tracker's http(s) URL (found "${url}")`);
    const token = env.COST_TRACKER_TOKEN;
    const secretArn = env.COST_TRACKER_TOKEN_SECRET_ARN;
    if (!token && !secretArn?.startsWith("arn:"))
        problems.push(
            "COST_TRACKER_TOKEN_SECRET_ARN: must be the ARN of the secret holding the cost tracker's token (or set COST_TRACKER_TOKEN)",
        );
    const port = Number(env.PORT ?? "8080");
    if (!Number.isInteger(port) || port < 1 || port > 65535)
        problems.push(`PORT: must be a TCP port (found "${env.PORT}")`);
    const identity = env.POD_NAME ?? "";
    if (!identity)
        problems.push(
            "POD_NAME: must be this pod's name (the downward API's metadata.name), the Lease holder's identity",
        );
    if (problems.length > 0 || !config) throw new StartupError(problems);
    return { config, trackerUrl: url, token: token ? { value: token } : { secretArn: secretArn! }, port, identity };
}
