/**
 * The HTTP service: the /v1 API, health and readiness, metrics, the OpenAPI document generated
 * from the route schemas, and the dashboard's static assets. `buildApp` reads as the list of
 * what the service serves; each step is a function of its own.
 */
import fastifyStatic from "@fastify/static";
import fastifySwagger from "@fastify/swagger";
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import * as fs from "fs";
import type { CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import type { Notifier } from "../alerts";
import type { Database } from "../db/database";
import { EventFeed } from "../events";
import type { Metrics } from "../metrics";
import { sendError, sendNotFound } from "./errors";
import { appendAudit } from "../audit";
import { registerAlerts } from "./routes/alerts";
import { registerApprovals } from "./routes/approvals";
import { registerAudit } from "./routes/audit";
import { registerEvents } from "./routes/events";
import { registerOperations } from "./routes/operations";
import { registerReads } from "./routes/reads";
import { registerReports } from "./routes/reports";
import { registerUsage } from "./routes/usage";
import { alertSchema, poolUsageSchema, requestSchema } from "./schemas";
import { authenticateCallers, Forbidden, type Authenticate, type CallerCredential } from "./callers";
import { createValidatorCompiler } from "./validation";
import type { WriteGuard } from "./write-route";

export interface AppDeps {
    readonly config: CostTrackerConfig;
    readonly db: Database;
    /** Whether migrations have been applied on this database; /readyz also pings it. */
    readonly isMigrated: () => boolean;
    /** The admin's bearer token (COST_TRACKER_API_TOKEN). */
    readonly apiToken: string;
    /** The other callers' credentials: the platform's, the portal's, each team's (and the admin's previous token while it rotates). */
    readonly credentials?: readonly CallerCredential[];
    /** Whether reads (the /v1 GET routes and the dashboard) need a credential too. Default false: open inside the VPC. */
    readonly readsNeedCredential?: boolean;
    readonly notifiers: readonly Notifier[];
    readonly metrics: Metrics;
    readonly now: () => Date;
    /** The built dashboard (index.html, app.js, app.css); absent, `/` answers 404. */
    readonly publicDir?: string;
    /** Fastify's logger: false, or pino options; the bearer token is redacted either way. */
    readonly logger: boolean | Record<string, unknown>;
    /** The money-freed feed; main shares it with the sweeper. Default: one on `db`. */
    readonly feed?: EventFeed;
}

/** The largest body any route takes (a usage batch); each write route sets its own, smaller or equal. */
const MAX_BODY_BYTES = 1024 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
    const app = createServer(deps);
    await registerOpenApi(app);
    observeRequests(app, deps);
    const guard = writeGuard(deps);
    if (deps.readsNeedCredential) requireCredentialForReads(app, guard.authenticate);
    registerOperations(app, deps);
    registerReads(app, deps);
    registerReports(app, deps);
    const feed = deps.feed ?? new EventFeed(deps.db);
    registerEvents(app, feed);
    registerApprovals(app, deps, guard, feed);
    registerUsage(app, deps, guard, feed);
    registerAlerts(app, deps, guard);
    registerAudit(app, deps.db, guard.authenticate);
    await registerDashboard(app, deps.publicDir);
    return app;
}

/** The admin's token and every other caller's credential; each write recorded in the audit log. */
function writeGuard(deps: AppDeps): WriteGuard {
    return {
        authenticate: authenticateCallers(
            [{ kind: "admin", tokens: [deps.apiToken] }, ...(deps.credentials ?? [])],
            () => deps.config.teams.map((t) => t.name),
        ),
        audit: (entry) => appendAudit(deps.db, { ...entry, at: deps.now() }),
    };
}

/** Health, readiness and metrics stay open (the load balancer and Prometheus probe them); everything else needs a credential. */
const OPEN_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

function requireCredentialForReads(app: FastifyInstance, authenticate: Authenticate): void {
    app.addHook("onRequest", async (request, reply) => {
        if (request.method !== "GET" && request.method !== "HEAD") return;
        if (OPEN_PATHS.has(request.url.split("?")[0])) return;
        try {
            if (authenticate(request)) return;
        } catch (err) {
            // A portal credential without an acting user still proves the portal: reads need no team.
            if (err instanceof Forbidden) return;
            throw err;
        }
        return reply.code(401).header("www-authenticate", 'Bearer realm="cost-tracker"').send({
            error: "Unauthorized",
            message: "Authorization: this service's reads need a bearer token (readsNeedCredential)",
            field: "Authorization",
        });
    });
}

function createServer(deps: AppDeps): FastifyInstance {
    const app = Fastify({
        logger:
            deps.logger === false
                ? false
                : {
                      ...(deps.logger === true ? {} : deps.logger),
                      redact: { paths: ["req.headers.authorization", "headers.authorization"], censor: "[redacted]" },
                  },
        bodyLimit: MAX_BODY_BYTES,
        // On close: new requests answer 503, idle keep-alive connections are closed at once (Fastify 5's defaults, stated).
        return503OnClosing: true,
        forceCloseConnections: "idle",
    });
    // Bodies without type coercion, text and identifiers checked, real dates (validation.ts).
    app.setValidatorCompiler(createValidatorCompiler(() => app.getSchemas()));
    closeConnectionsWhenClosing(app);
    app.setErrorHandler((err: FastifyError, request, reply) => sendError(err, request, reply));
    app.setNotFoundHandler(sendNotFound);
    return app;
}

/** /openapi.json, generated from the route schemas; the shared schemas are referenced by $id. */
async function registerOpenApi(app: FastifyInstance): Promise<void> {
    await app.register(fastifySwagger, {
        openapi: {
            openapi: "3.0.3",
            info: {
                title: "GPU cost tracker",
                version: "1.0.0",
                description: "Team budgets, live spend per team, and approval of GPU requests against budget.",
            },
            components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
        },
    });
    app.addSchema(poolUsageSchema);
    app.addSchema(requestSchema);
    app.addSchema(alertSchema);
    app.get("/openapi.json", { schema: { hide: true } }, () => app.swagger());
}

function observeRequests(app: FastifyInstance, deps: AppDeps): void {
    app.addHook("onResponse", async (request, reply) => {
        deps.metrics.httpDuration.observe(
            {
                method: request.method,
                route: request.routeOptions.url ?? "unmatched",
                status_code: String(reply.statusCode),
            },
            reply.elapsedTime / 1000,
        );
    });
}

async function registerDashboard(app: FastifyInstance, publicDir: string | undefined): Promise<void> {
    if (publicDir && fs.existsSync(publicDir)) {
        await app.register(fastifyStatic, { root: publicDir, wildcard: false, index: "index.html" });
        // Browsers and bookmarks ask for /favicon.ico whatever the page links; the icon is an SVG.
        app.get("/favicon.ico", { schema: { hide: true } }, (_request, reply) => reply.redirect("/favicon.svg", 301));
    } else {
        app.log.warn(
            { publicDir },
            "dashboard assets not found; build them with npm run build -w services/cost-tracker",
        );
    }
}

/**
 * Once the app is closing, every answer still being sent (a request in flight, a long poll
 * released) closes its connection: Fastify closes the connections idle when close starts, and a
 * keep-alive connection that goes idle later would hold the server open for keepAliveTimeout.
 */
function closeConnectionsWhenClosing(app: FastifyInstance): void {
    let closing = false;
    app.addHook("preClose", (done) => {
        closing = true;
        done();
    });
    app.addHook("onSend", async (_request, reply, payload) => {
        if (closing) reply.header("connection", "close");
        return payload;
    });
}
