/**
 * Which errors mean "the database is out of reach" (503, retry) rather than a bug (500). The
 * messages are pg 8's own (node_modules/pg/lib/client.js, pg-pool/index.js); the codes are
 * PostgreSQL's SQLSTATEs (errcodes.txt) and Node's socket errors.
 */
import * as assert from "assert";
import { isDatabaseUnavailable } from "../src/db/database";

const err = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe("cost tracker: telling a database outage from a bug", () => {
    for (const [what, error] of [
        ["the server stopping under a query", err("Connection terminated unexpectedly")],
        [
            "a query on a client whose connection broke",
            err("Client has encountered a connection error and is not queryable"),
        ],
        ["a query on a client already closed", err("Client was closed and is not queryable")],
        ["no connection within the pool's timeout", err("timeout exceeded when trying to connect")],
        ["the server refusing connections", err("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED")],
        ["admin_shutdown (57P01)", err("terminating connection due to administrator command", "57P01")],
        ["cannot_connect_now (57P03)", err("the database system is starting up", "57P03")],
        ["too_many_connections (53300)", err("sorry, too many clients already", "53300")],
    ] as const) {
        it(`is an outage: ${what}`, () => assert.strictEqual(isDatabaseUnavailable(error), true));
    }
    for (const [what, error] of [
        ["a check constraint (23514)", err('new row violates check constraint "gpu_requests_hours_check"', "23514")],
        ["a numeric overflow (22003)", err("numeric field overflow", "22003")],
        // Class 22 (data exception): "08" in its code is not class 08 (connection exception).
        ["a date/time field overflow (22008)", err("date/time field value out of range", "22008")],
        ["NUL in text (22021)", err('invalid byte sequence for encoding "UTF8": 0x00', "22021")],
        ["a plain bug", new TypeError("Cannot read properties of undefined")],
    ] as const) {
        it(`is not an outage: ${what}`, () => assert.strictEqual(isDatabaseUnavailable(error), false));
    }
});
