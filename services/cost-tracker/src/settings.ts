/**
 * The service's settings: read once from the environment and the command line, checked, and
 * passed down. Nothing else in the service reads process.env.
 */
import { BadInput } from "./model";
import { tokensOf, type CallerCredential } from "./http/callers";
export interface Settings {
    readonly port: number;
    readonly host: string;
    /** A PostgreSQL server, with DATABASE_PASSWORD in it when that is set; unset, embedded PGlite in `dataDir`. */
    readonly databaseUrl?: string;
    /** The JSON config document's path; or `configJson`, the document itself (the repository's launcher sets it for --demo). */
    readonly configPath?: string;
    readonly configJson?: string;
    /** A Slack-compatible webhook for alerts, kept out of the document because the URL is a credential. */
    readonly alertWebhookUrl?: string;
    /** The admin's bearer token; with --demo and none set, one is generated and printed. */
    readonly apiToken?: string;
    /** The other callers' credentials (COST_TRACKER_TOKEN_*), and the admin's previous token while it rotates. */
    readonly credentials: readonly CallerCredential[];
    /** COST_TRACKER_READS_NEED_CREDENTIAL: reads and the dashboard need a bearer token too. */
    readonly readsNeedCredential: boolean;
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
    const adminTokens = readTokens(env, "COST_TRACKER_API_TOKEN", problems);
    const apiToken = adminTokens?.[0];
    if (apiToken === undefined && !demo && problems.every((p) => !p.startsWith("COST_TRACKER_API_TOKEN")))
        problems.push("COST_TRACKER_API_TOKEN: is required: the admin's bearer token");
    const credentials = callerCredentials(env, problems);
    if (adminTokens && adminTokens.length > 1) credentials.push({ kind: "admin", tokens: adminTokens.slice(1) });
    const readsNeedCredential = readFlag(env, "COST_TRACKER_READS_NEED_CREDENTIAL", problems);
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
            credentials,
            readsNeedCredential,
            demo,
            dataDir: env.COST_TRACKER_DATA_DIR || ".data",
            logLevel,
        },
        problems: [],
    };
}

/** A token, or {"current", "previous"} while it rotates; a problem line naming the variable otherwise. */
function readTokens(
    env: Record<string, string | undefined>,
    variable: string,
    problems: string[],
): string[] | undefined {
    const value = env[variable] || undefined;
    if (value === undefined) return undefined;
    try {
        return tokensOf(variable, value, MIN_TOKEN_LENGTH);
    } catch (err) {
        if (!(err instanceof BadInput)) throw err;
        problems.push(`${variable}: ${err.problem}`);
        return undefined;
    }
}

/** COST_TRACKER_TOKEN_PLATFORM, _PORTAL and _TEAM_<TEAM> (the team's name upper-cased, "-" as "_"). */
function callerCredentials(env: Record<string, string | undefined>, problems: string[]): CallerCredential[] {
    const credentials: CallerCredential[] = [];
    const prefix = "COST_TRACKER_TOKEN_";
    for (const variable of Object.keys(env)
        .filter((v) => v.startsWith(prefix))
        .sort()) {
        const name = variable.slice(prefix.length);
        const team = /^TEAM_([A-Z0-9_]+)$/.exec(name)?.[1];
        const kind = name === "PLATFORM" ? "platform" : name === "PORTAL" ? "portal" : team ? "team" : undefined;
        if (kind === undefined) {
            problems.push(
                `${variable}: unknown caller; use ${prefix}PLATFORM, ${prefix}PORTAL or ${prefix}TEAM_<TEAM>`,
            );
            continue;
        }
        const tokens = readTokens(env, variable, problems);
        if (!tokens) continue;
        credentials.push(
            team ? { kind: "team", team: team.toLowerCase().replace(/_/g, "-"), tokens } : { kind, tokens },
        );
    }
    return credentials;
}

function readFlag(env: Record<string, string | undefined>, variable: string, problems: string[]): boolean {
    const value = env[variable] || "false";
    if (value !== "true" && value !== "false") problems.push(`${variable}: must be true or false (found "${value}")`);
    return value === "true";
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
