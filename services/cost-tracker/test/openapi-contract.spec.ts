/**
 * The OpenAPI document is the API's published contract: every operation's tag, summary, the
 * answers it documents and whether it needs the bearer token. The expected table is written out
 * here from the contract as published (DESIGN.md's API section and the portal's client), not read
 * from the route schemas, so a route that loses its summary, tag or an answer fails here.
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import { resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

interface Operation {
    tags: string[];
    summary: string;
    /** The status codes documented, sorted as text. */
    responses: string[];
    secured: boolean;
}

/** Every answer a write can give besides its own: 400, 401, 403 and 503. */
const WRITE_ERRORS = ["400", "401", "403", "503"];

const CONTRACT: Record<string, Operation> = {
    "get /v1/teams": {
        tags: ["spend"],
        summary: "Every team's budget, month-to-date spend, reservations, remaining and forecast",
        responses: ["200", "503"],
        secured: false,
    },
    "get /v1/teams/{team}/spend": {
        tags: ["spend"],
        summary: "A team's daily spend by category and its GPU hours by pool; default range: this month so far",
        responses: ["200", "400", "404", "503"],
        secured: false,
    },
    "get /v1/pools": {
        tags: ["spend"],
        summary:
            "GPU pools, the resources each offers with their catalog price per unit-hour, and GPU hours by pool over the range (default: this month)",
        responses: ["200", "400", "503"],
        secured: false,
    },
    "get /v1/gpu-requests": {
        tags: ["approvals"],
        summary: "Recent decisions, newest first",
        responses: ["200", "400", "503"],
        secured: false,
    },
    "get /v1/alerts": {
        tags: ["spend"],
        summary: "Recent alerts, newest first",
        responses: ["200", "400", "503"],
        secured: false,
    },
    "get /v1/reports/history": {
        tags: ["spend"],
        summary:
            "Monthly history per team and cost centre, with the unallocated and idle lines; default the last 12 months",
        responses: ["200", "400", "503"],
        secured: false,
    },
    "get /v1/reports/monthly": {
        tags: ["spend"],
        summary:
            "A month's spend per team and cost centre, the unallocated and idle lines, the sum of the sources, and the bill's total",
        responses: ["200", "400", "503"],
        secured: false,
    },
    "get /v1/reports/monthly.csv": {
        tags: ["spend"],
        summary:
            "The monthly report as CSV: a row per team, unallocated and each pool's idle, then the sources and the bill, then each pipeline (inputs, cost per input) and each Job",
        responses: ["200", "400", "503"],
        secured: false,
    },
    "get /v1/events": {
        tags: ["approvals"],
        summary:
            "Money freed up (released, expired, spend-replaced, budget-changed, month-started), after a cursor; waits up to waitSeconds when there is none yet",
        responses: ["200", "400", "503"],
        secured: false,
    },
    "get /v1/audit": {
        tags: ["audit"],
        summary: "Every authenticated write: caller, action, teams, target and outcome; admin only",
        responses: ["200", "400", "401", "403", "503"],
        secured: true,
    },
    "post /v1/gpu-requests": {
        tags: ["approvals"],
        summary:
            "Ask to provision GPUs: approved (201) with a reservation, the workload's live reservation adopted (200), or rejected for budget (409)",
        responses: ["200", "201", ...WRITE_ERRORS, "409"].sort(),
        secured: true,
    },
    "post /v1/gpu-requests/{id}/release": {
        tags: ["approvals"],
        summary: "Release a reservation before it expires",
        responses: ["200", ...WRITE_ERRORS, "404"].sort(),
        secured: true,
    },
    "post /v1/workloads/release": {
        tags: ["approvals"],
        summary: "Release every live reservation bound to a workload's UID (it finished or was deleted)",
        responses: ["200", ...WRITE_ERRORS],
        secured: true,
    },
    "post /v1/alerts": {
        tags: ["alerts"],
        summary:
            "Record a budget overrun the budget gate observed: a new alert (201, then delivered to the notifiers), or the one already stored for it (200)",
        responses: ["200", "201", ...WRITE_ERRORS],
        secured: true,
    },
    "post /v1/usage": {
        tags: ["spend"],
        summary: "Push usage the service cannot pull, such as AI API spend reported by a team's gateway",
        responses: ["201", ...WRITE_ERRORS],
        secured: true,
    },
};

describe("cost tracker: the OpenAPI document", () => {
    let app: FastifyInstance;
    let doc: Record<string, any>;

    before(async () => {
        const db = await testDatabase();
        await resetDatabase(db, testConfig());
        app = await testApp(db);
        const res = await app.inject({ method: "GET", url: "/openapi.json" });
        assert.strictEqual(res.statusCode, 200, res.body);
        doc = res.json();
    });
    after(() => app.close());

    /** The schema a `$ref` of the document points at (fastify-swagger names shared schemas def-N). */
    const resolve = (schema: { $ref?: string }): Record<string, any> => {
        const prefix = "#/components/schemas/";
        const ref = schema.$ref ?? "";
        assert.ok(ref.startsWith(prefix), `a reference: ${JSON.stringify(schema)}`);
        return doc.components.schemas[ref.slice(prefix.length)];
    };
    const jsonSchema = (op: string, status: string): Record<string, any> => {
        const [method, path] = op.split(" ");
        return doc.paths[path][method].responses[status].content["application/json"].schema;
    };

    it("names the service, its version and the bearer scheme", () => {
        assert.deepStrictEqual(doc.info, {
            title: "GPU cost tracker",
            version: "1.0.0",
            description: "Team budgets, live spend per team, and approval of GPU requests against budget.",
        });
        assert.strictEqual(doc.openapi, "3.0.3");
        assert.deepStrictEqual(doc.components.securitySchemes, { bearer: { type: "http", scheme: "bearer" } });
    });

    it("documents each operation's tag, summary, answers and credential as published", () => {
        const operations: string[] = [];
        for (const [path, methods] of Object.entries<Record<string, any>>(doc.paths)) {
            for (const [method, op] of Object.entries<Record<string, any>>(methods)) {
                const key = `${method} ${path}`;
                operations.push(key);
                const expected = CONTRACT[key];
                assert.ok(expected, `${key} is not in the published contract`);
                assert.deepStrictEqual(
                    {
                        tags: op.tags,
                        summary: op.summary,
                        responses: Object.keys(op.responses).sort(),
                        secured: op.security !== undefined,
                    },
                    expected,
                    key,
                );
                if (expected.secured) assert.deepStrictEqual(op.security, [{ bearer: [] }], key);
            }
        }
        // Every operation of the contract was seen, and nothing else.
        assert.deepStrictEqual(operations.sort(), Object.keys(CONTRACT).sort());
    });

    it("describes reads' answers by their shape: arrays of teams, decisions and alerts; a team's spend; the pools", () => {
        const teams = jsonSchema("get /v1/teams", "200");
        assert.strictEqual(teams.type, "array");
        assert.ok(teams.items.required.includes("monthlyBudgetUsd"), JSON.stringify(teams.items.required));
        const spend = jsonSchema("get /v1/teams/{team}/spend", "200");
        assert.deepStrictEqual(spend.required, ["team", "from", "to", "days", "totals", "totalUsd", "gpuHoursByPool"]);
        const pools = jsonSchema("get /v1/pools", "200");
        assert.ok(
            ["from", "to", "pools", "gpuHoursByPool"].every((p) => Object.hasOwn(pools.properties, p)),
            "pools' fields",
        );
        const decisions = jsonSchema("get /v1/gpu-requests", "200");
        assert.strictEqual(decisions.type, "array");
        assert.strictEqual(resolve(decisions.items).title, "GpuRequest");
        const alerts = jsonSchema("get /v1/alerts", "200");
        assert.strictEqual(alerts.type, "array");
        assert.strictEqual(resolve(alerts.items).title, "Alert");
        const history = jsonSchema("get /v1/reports/history", "200");
        assert.strictEqual(history.type, "array");
        assert.ok(history.items.required.includes("unallocatedUsd"), JSON.stringify(history.items.required));
        assert.ok(jsonSchema("get /v1/reports/monthly", "200").required.includes("costCenters"));
        assert.ok(jsonSchema("get /v1/audit", "200").items.required.includes("caller"));
    });

    it("describes writes' answers: a decision, a release, an alert, an accepted batch; errors in the API's shape", () => {
        assert.strictEqual(resolve(jsonSchema("post /v1/gpu-requests/{id}/release", "200")).title, "GpuRequest");
        assert.strictEqual(resolve(jsonSchema("post /v1/alerts", "200")).title, "Alert");
        assert.strictEqual(resolve(jsonSchema("post /v1/alerts", "201")).title, "Alert");
        assert.ok(Object.hasOwn(jsonSchema("post /v1/workloads/release", "200").properties, "released"));
        assert.ok(Object.hasOwn(jsonSchema("post /v1/usage", "201").properties, "accepted"));
        assert.ok(Object.hasOwn(jsonSchema("post /v1/gpu-requests", "201").properties, "estimatedCostUsd"));
        assert.ok(jsonSchema("post /v1/gpu-requests", "409").required.includes("reason"));
        for (const [op, status] of [
            ["get /v1/teams/{team}/spend", "404"],
            ["post /v1/gpu-requests/{id}/release", "404"],
            ["get /v1/audit", "401"],
            ["post /v1/usage", "403"],
        ])
            assert.deepStrictEqual(jsonSchema(op, status).required, ["error", "message"], `${op} ${status}`);
    });

    it("documents each write's path parameters and body, and the CSV report as text/csv", () => {
        const release = doc.paths["/v1/gpu-requests/{id}/release"].post;
        assert.deepStrictEqual(
            release.parameters.filter((p: any) => p.in === "path").map((p: any) => [p.name, p.schema.format]),
            [["id", "uuid"]],
        );
        assert.strictEqual(release.requestBody, undefined, "a release takes no body");
        const workload = doc.paths["/v1/workloads/release"].post;
        assert.deepStrictEqual(workload.requestBody.content["application/json"].schema.required, ["uid"]);
        assert.ok(
            doc.paths["/v1/usage"].post.requestBody.content["application/json"].schema.required.includes("records"),
        );
        const csv = doc.paths["/v1/reports/monthly.csv"].get.responses["200"].content;
        assert.deepStrictEqual(Object.keys(csv), ["text/csv"]);
    });
});
