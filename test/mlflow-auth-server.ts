/**
 * A stand-in for MLflow's basic-auth user API on loopback, answering with the shapes MLflow's
 * own handlers give (mlflow/mlflow, mlflow/server/auth/__init__.py and sqlalchemy_store.py at 3.x,
 * the chart's app version 3.15.1; error bodies from mlflow/server/handlers.py
 * `catch_mlflow_exception`, status codes from mlflow/exceptions.py):
 * - `GET /health` → 200 `OK` (an unprotected route);
 * - no or wrong Basic credentials → 401, `WWW-Authenticate: Basic realm="mlflow"`, a text body;
 * - a caller who is not an admin → 403 `Permission denied`;
 * - `POST /api/2.0/mlflow/users/create` takes only `Content-Type: application/json` (else 400,
 *   text); a new name → 200 `{"user": {id, username, is_admin, experiment_permissions,
 *   registered_model_permissions}}`; an existing one → 400 `{"error_code":
 *   "RESOURCE_ALREADY_EXISTS", "message": "User (username=…) already exists. Error: …"}`;
 * - `PATCH /api/2.0/mlflow/users/update-password` and `/update-admin` → 200 `{}`; an unknown user
 *   → 404 `RESOURCE_DOES_NOT_EXIST`.
 * `failFor` makes users/create answer 500 `INTERNAL_ERROR` for one name, as a broken database would.
 */
import * as http from "http";
import type { AddressInfo } from "net";

export interface FakeUser {
    password: string;
    isAdmin: boolean;
}

export interface FakeMlflow {
    url: string;
    users: Map<string, FakeUser>;
    /** Every request, as `METHOD path`. */
    calls: string[];
    close(): Promise<void>;
}

const NOT_AUTHENTICATED =
    "You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.";

export async function startFakeMlflow(s: {
    admin: { username: string; password: string };
    users?: Record<string, FakeUser>;
    failFor?: string;
    healthy?: boolean;
}): Promise<FakeMlflow> {
    const users = new Map<string, FakeUser>(Object.entries(s.users ?? {}));
    users.set(s.admin.username, { password: s.admin.password, isAdmin: true });
    const calls: string[] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk: Buffer) => (body += chunk.toString()));
        req.on("end", () => {
            calls.push(`${req.method} ${req.url}`);
            answer(req, body, users, s, res);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        users,
        calls,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

function answer(
    req: http.IncomingMessage,
    body: string,
    users: Map<string, FakeUser>,
    s: { failFor?: string; healthy?: boolean },
    res: http.ServerResponse,
): void {
    const text = (status: number, message: string, headers: Record<string, string> = {}) =>
        void res.writeHead(status, { "Content-Type": "text/plain", ...headers }).end(message);
    const json = (status: number, value: unknown) =>
        void res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(value));
    if (req.url === "/health") return s.healthy === false ? text(503, "starting") : text(200, "OK");
    const caller = basicCredentials(req.headers.authorization);
    const known = caller && users.get(caller.username);
    if (!known || known.password !== caller.password)
        return text(401, NOT_AUTHENTICATED, { "WWW-Authenticate": 'Basic realm="mlflow"' });
    if (!known.isAdmin) return text(403, "Permission denied");
    if (req.headers["content-type"] !== "application/json")
        return text(400, "Invalid content type. Must be application/json");
    const request = JSON.parse(body) as { username: string; password?: string; is_admin?: boolean };
    const target = users.get(request.username);
    switch (`${req.method} ${req.url}`) {
        case "POST /api/2.0/mlflow/users/create":
            if (request.username === s.failFor)
                return json(500, {
                    error_code: "INTERNAL_ERROR",
                    message: "(psycopg2.OperationalError) server closed",
                });
            if (target)
                return json(400, {
                    error_code: "RESOURCE_ALREADY_EXISTS",
                    message: `User (username=${request.username}) already exists. Error: (psycopg2.errors.UniqueViolation)`,
                });
            users.set(request.username, { password: request.password!, isAdmin: false });
            return json(200, {
                user: {
                    id: users.size,
                    username: request.username,
                    is_admin: false,
                    experiment_permissions: [],
                    registered_model_permissions: [],
                },
            });
        case "PATCH /api/2.0/mlflow/users/update-password":
        case "PATCH /api/2.0/mlflow/users/update-admin":
            if (!target)
                return json(404, {
                    error_code: "RESOURCE_DOES_NOT_EXIST",
                    message: `User with username=${request.username} not found`,
                });
            if (request.password !== undefined) target.password = request.password;
            if (request.is_admin !== undefined) target.isAdmin = request.is_admin;
            return json(200, {});
        default:
            return json(404, { error_code: "ENDPOINT_NOT_FOUND", message: "No such route" });
    }
}

function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
    if (!header?.startsWith("Basic ")) return undefined;
    const decoded = Buffer.from(header.slice("Basic ".length), "base64").toString();
    const colon = decoded.indexOf(":");
    return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
