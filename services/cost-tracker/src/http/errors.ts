/** The API's error shape: one line naming the field for a caller's mistake; 503 when the database is out of reach; nothing else leaks. */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { isDatabaseUnavailable } from "../db/database";
import { BadInput, NotFound } from "../model";

export function sendError(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const bad = (field: string, problem: string) =>
        reply.code(400).send({ error: "Bad Request", message: `${field}: ${problem}`, field });
    if (err.validation && err.validation.length > 0) {
        const { field, problem } = describeValidationError(err);
        return bad(field, problem);
    }
    if (err instanceof BadInput) return bad(err.field, err.problem);
    if (err instanceof NotFound) return reply.code(404).send({ error: "Not Found", message: err.message });
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE")
        return bad("body", `is larger than this route's limit of ${request.routeOptions.bodyLimit} bytes`);
    if (err.code === "FST_ERR_CTP_INVALID_JSON_BODY" || (err.statusCode === 400 && err instanceof SyntaxError))
        return bad("body", "is not valid JSON");
    if (err.code === "FST_ERR_CTP_EMPTY_JSON_BODY") return bad("body", "is empty; send a JSON object");
    if (isDatabaseUnavailable(err)) {
        request.log.error({ err: err.message }, "database unavailable");
        return reply.code(503).header("retry-after", "5").send({
            error: "Service Unavailable",
            message: "the database is unavailable; nothing was written, retry later",
        });
    }
    if (err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
        return reply.code(415).send({
            error: "Unsupported Media Type",
            message: "Content-Type: send application/json",
            field: "Content-Type",
        });
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
        return reply.code(err.statusCode).send({ error: "Bad Request", message: err.message });
    request.log.error({ err }, "request failed");
    return reply
        .code(500)
        .send({ error: "Internal Server Error", message: "the request failed; see the service's log" });
}

/** The field an Ajv error is about, spelt as a caller wrote it (`records[1].team`), and what is wrong with it. */
function describeValidationError(err: FastifyError): { field: string; problem: string } {
    const issue = err.validation![0];
    const params = issue.params;
    const path = issue.instancePath
        .replace(/^\//, "")
        .replace(/\/(\d+)(?=\/|$)/g, "[$1]")
        .replace(/\//g, ".");
    const missing = typeof params.missingProperty === "string" ? params.missingProperty : undefined;
    const extra = typeof params.additionalProperty === "string" ? params.additionalProperty : undefined;
    const child = missing ?? extra;
    let field = child ? (path ? `${path}.${child}` : child) : path || err.validationContext || "body";
    if (err.validationContext === "headers" && field === "idempotency-key") field = "Idempotency-Key";
    const problem = missing
        ? "is required"
        : extra
          ? "is not a known field"
          : Array.isArray(params.allowedValues)
            ? `must be one of ${params.allowedValues.join(", ")}`
            : typeof params.format === "string" && Object.hasOwn(FORMAT_PROBLEMS, params.format)
              ? FORMAT_PROBLEMS[params.format]
              : (issue.message ?? "is invalid");
    return { field: escapeUnprintable(field), problem };
}

const FORMAT_PROBLEMS: Record<string, string> = {
    "date-time":
        "must be an RFC 3339 date-time with an offset naming a real instant, e.g. 2026-11-20T12:00:00Z (no Feb 30, no 24:00, no leap second, year 0001 or later)",
    date: "must be an RFC 3339 date naming a real day, YYYY-MM-DD (no Feb 30, year 0001 or later)",
    uuid: "must be a UUID",
};

/** A field named by a hostile key is echoed with its control characters and lone surrogates escaped (\u0000), never raw. */
function escapeUnprintable(field: string): string {
    return field.replace(
        /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\ud800-\udfff]/gu,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
}

/** Unknown routes answer in the API's error shape too. */
export function sendNotFound(request: FastifyRequest, reply: FastifyReply) {
    return reply.code(404).send({
        error: "Not Found",
        message: `no route ${request.method} ${request.url.split("?")[0]}; see /openapi.json`,
    });
}
