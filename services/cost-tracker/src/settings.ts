/**
 * The service's settings: read once from the environment and the command line, checked, and
 * passed down. Nothing else in the service reads process.env.
 */
export interface Settings {
    readonly port: number;
    readonly host: string;
    /** A PostgreSQL server, with DATABASE_PASSWORD in it when that is set; unset, embedded PGlite in `dataDir`. */
    readonly databaseUrl?: string;
    /** The JSON config document's path; or `configJson`, the document itself; neither only with --demo, which reads the prod stack. */
    readonly configPath?: string;
    readonly configJson?: string;
    /** A Slack-compatible webhook for alerts, kept out of the document because the URL is a credential. */
    readonly alertWebhookUrl?: string;
    /** Bearer token for writes; with --demo and none set, one is generated and printed. */
    readonly apiToken?: string;
    readonly demo: boolean;
    readonly dataDir: string;
    readonly logLevel: string;
}

export const USAGE =
    "usage: npm run cost-tracker -- [--demo]   (settings from PORT, DATABASE_URL, COST_TRACKER_CONFIG, COST_TRACKER_API_TOKEN)";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"];
const MIN_TOKEN_LENGTH = 16;

/** The settings, or one line per problem, each naming the variable or flag. */
export function readSettings(
    env: Record<string, string | undefined>,
    argv: readonly string[],
): { settings?: Settings; problems: string[] } {
    const problems: string[] = [];
    let demo = false;
    for (const arg of argv) {
        if (arg === "--demo") demo = true;
        else problems.push(`${arg}: unknown argument; ${USAGE}`);
    }
    const port = env.PORT === undefined || env.PORT === "" ? 8080 : Number(env.PORT);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
        problems.push(`PORT: must be a port number from 1 to 65535 (found "${env.PORT}")`);
    let databaseUrl = env.DATABASE_URL || undefined;
    if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
        problems.push("DATABASE_URL: must be a PostgreSQL URL, postgres://user:password@host:5432/database");
    } else if (env.DATABASE_PASSWORD) {
        // On Fargate the URL carries no password: ECS injects it on its own from Secrets Manager.
        if (databaseUrl === undefined)
            problems.push(
                "DATABASE_PASSWORD: is set but DATABASE_URL is not; the password is for the server DATABASE_URL names",
            );
        else databaseUrl = withPassword(databaseUrl, env.DATABASE_PASSWORD);
    }
    const configPath = env.COST_TRACKER_CONFIG || undefined;
    const configJson = env.COST_TRACKER_CONFIG_JSON || undefined;
    if (configPath === undefined && configJson === undefined && !demo) {
        problems.push(
            "COST_TRACKER_CONFIG: is required: the path of the JSON document of teams, pools and settings (or run with --demo)",
        );
    }
    if (configPath !== undefined && configJson !== undefined)
        problems.push("COST_TRACKER_CONFIG_JSON: set it or COST_TRACKER_CONFIG (a path), not both");
    const alertWebhookUrl = env.COST_TRACKER_ALERT_WEBHOOK_URL || undefined;
    if (alertWebhookUrl !== undefined && !/^https?:\/\/\S+$/.test(alertWebhookUrl))
        problems.push("COST_TRACKER_ALERT_WEBHOOK_URL: must be an http(s) URL");
    const apiToken = env.COST_TRACKER_API_TOKEN || undefined;
    if (apiToken === undefined && !demo)
        problems.push("COST_TRACKER_API_TOKEN: is required: the bearer token writes must carry");
    if (apiToken !== undefined && apiToken.length < MIN_TOKEN_LENGTH)
        problems.push(`COST_TRACKER_API_TOKEN: must be at least ${MIN_TOKEN_LENGTH} characters`);
    const logLevel = env.LOG_LEVEL || "info";
    if (!LOG_LEVELS.includes(logLevel))
        problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(", ")} (found "${logLevel}")`);
    if (problems.length > 0) return { problems };
    return {
        settings: {
            port,
            // A demo on a laptop answers only this machine (it prints a write token); a task in a container listens on every interface.
            host: env.HOST || (demo ? "127.0.0.1" : "0.0.0.0"),
            databaseUrl,
            configPath,
            configJson,
            alertWebhookUrl,
            apiToken,
            demo,
            dataDir: env.COST_TRACKER_DATA_DIR || ".data",
            logLevel,
        },
        problems: [],
    };
}

/** The URL with `password` in it, encoded so that any character survives the client's decoding. */
function withPassword(databaseUrl: string, password: string): string {
    const url = new URL(databaseUrl);
    url.password = encodeURIComponent(password);
    return url.toString();
}

/** A problem the user can fix (settings, config): printed one line each, no stack trace, exit 2. */
export class StartupError extends Error {
    constructor(public readonly lines: string[]) {
        super(lines.join("\n"));
        this.name = "StartupError";
    }
}
