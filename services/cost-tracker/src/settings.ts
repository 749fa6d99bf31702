/**
 * The service's settings: read once from the environment and the command line, checked, and
 * passed down. Nothing else in the service reads process.env.
 */
export interface Settings {
    readonly port: number;
    readonly host: string;
    /** A PostgreSQL server; unset, embedded PGlite in `dataDir`. */
    readonly databaseUrl?: string;
    /** The JSON config document; unset only with --demo, which reads the prod stack. */
    readonly configPath?: string;
    /** Bearer token for writes; with --demo and none set, one is generated and printed. */
    readonly apiToken?: string;
    readonly demo: boolean;
    readonly dataDir: string;
    readonly logLevel: string;
}

export const USAGE = "usage: npm run cost-tracker -- [--demo]   (settings from PORT, DATABASE_URL, COST_TRACKER_CONFIG, COST_TRACKER_API_TOKEN)";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"];
const MIN_TOKEN_LENGTH = 16;

/** The settings, or one line per problem, each naming the variable or flag. */
export function readSettings(env: Record<string, string | undefined>, argv: readonly string[]): { settings?: Settings; problems: string[] } {
    const problems: string[] = [];
    let demo = false;
    for (const arg of argv) {
        if (arg === "--demo") demo = true;
        else problems.push(`${arg}: unknown argument; ${USAGE}`);
    }
    const port = env.PORT === undefined || env.PORT === "" ? 8080 : Number(env.PORT);
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`PORT: must be a port number from 1 to 65535 (found "${env.PORT}")`);
    const databaseUrl = env.DATABASE_URL || undefined;
    if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
        problems.push("DATABASE_URL: must be a PostgreSQL URL, postgres://user:password@host:5432/database");
    }
    const configPath = env.COST_TRACKER_CONFIG || undefined;
    if (configPath === undefined && !demo) problems.push("COST_TRACKER_CONFIG: is required: the path of the JSON document of teams, pools and settings (or run with --demo)");
    const apiToken = env.COST_TRACKER_API_TOKEN || undefined;
    if (apiToken === undefined && !demo) problems.push("COST_TRACKER_API_TOKEN: is required: the bearer token writes must carry");
    if (apiToken !== undefined && apiToken.length < MIN_TOKEN_LENGTH) problems.push(`COST_TRACKER_API_TOKEN: must be at least ${MIN_TOKEN_LENGTH} characters`);
    const logLevel = env.LOG_LEVEL || "info";
    if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(", ")} (found "${logLevel}")`);
    if (problems.length > 0) return { problems };
    return {
        settings: {
            port,
            host: env.HOST || "0.0.0.0",
            databaseUrl,
            configPath,
            apiToken,
            demo,
            dataDir: env.COST_TRACKER_DATA_DIR || ".data",
            logLevel,
        },
        problems: [],
    };
}

/** A problem the user can fix (settings, config): printed one line each, no stack trace, exit 2. */
export class StartupError extends Error {
    constructor(public readonly lines: string[]) {
        super(lines.join("\n"));
        this.name = "StartupError";
    }
}
