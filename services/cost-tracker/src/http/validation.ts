/**
 * The one validation layer every route's input goes through (Fastify's validator compiler).
 *
 * - Bodies are validated without type coercion: Fastify's default Ajv coerces (`"2"`, `true` and
 *   `[1]` all became `gpus: 1`), which a money API must refuse. Query strings, path parameters and
 *   headers arrive as text, so they keep coercion to the schema's type.
 * - Every string, and every object key, is refused when it holds U+0000 (PostgreSQL's text cannot
 *   store it) or an unpaired UTF-16 surrogate (it cannot be written as UTF-8 and would be stored
 *   as U+FFFD); fields added later are covered without anyone marking them.
 * - `x-identifier` strings (names, namespaces, requesters) also refuse control and format
 *   characters (C0/C1 controls, bidi overrides, line separators), which spoof or break logs.
 * - `x-decimals` numbers have no more decimals than their column keeps (numeric(p, s)): PostgreSQL
 *   would round 0.001 hours to 0.00 and then fail the column's CHECK.
 * - `date` and `date-time` are RFC 3339 (section 5.6) calendar dates and instants: real days of
 *   real months, year 1 or later, seconds 00-59 (JavaScript's Date has no leap second).
 *
 * Ajv 8 with ajv-formats (for uuid), the same libraries Fastify's own compiler uses.
 */
import Ajv, { type AnySchema, type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

/** What Fastify hands a validator compiler (fastify's FastifyRouteSchemaDef, the fields used here). */
interface RouteSchema {
    readonly schema: unknown;
    readonly httpPart?: string;
}

/** A Fastify validator: false with `errors` set when the input is refused. */
type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/**
 * Fastify's validator compiler for one app: `sharedSchemas` (the app's addSchema'd schemas, read
 * when the first route compiles) are added to both Ajv instances so `$ref`s resolve.
 */
export function createValidatorCompiler(sharedSchemas: () => Record<string, unknown>) {
    const bodies = createAjv(false);
    // "array": a repeated query parameter arrives as an array, a single one as text (Fastify's default).
    const textParts = createAjv("array");
    let sharedAdded = false;
    return ({ schema, httpPart }: RouteSchema): Validator => {
        if (!sharedAdded) {
            for (const [id, shared] of Object.entries(sharedSchemas())) {
                for (const ajv of [bodies, textParts]) if (!ajv.getSchema(id)) ajv.addSchema(shared as AnySchema, id);
            }
            sharedAdded = true;
        }
        const ajv = httpPart === "body" ? bodies : textParts;
        return guardText(ajv.compile(schema as AnySchema));
    };
}

function createAjv(coerceTypes: false | "array"): Ajv {
    const ajv = new Ajv({
        coerceTypes,
        useDefaults: true,
        // Unknown fields are errors, not silently dropped.
        removeAdditional: false,
        allErrors: false,
        strict: true,
    });
    addFormats(ajv, ["uuid"]);
    ajv.addFormat("date", { type: "string", validate: isCalendarDate });
    ajv.addFormat("date-time", { type: "string", validate: isInstant });
    ajv.addKeyword({
        keyword: "x-decimals",
        type: "number",
        schemaType: "number",
        error: {
            message: (ctx) => `must have at most ${String(ctx.schemaValue)} decimal places (what the database keeps)`,
        },
        validate: (places: number, value: number) => decimalPlaces(value) <= places,
    });
    ajv.addKeyword({
        keyword: "x-identifier",
        type: "string",
        schemaType: "boolean",
        error: { message: "must not contain control or format characters (line breaks, tabs, bidi overrides)" },
        validate: (on: boolean, value: string) => !on || !NOT_IN_IDENTIFIERS.test(value),
    });
    return ajv;
}

/** Control (Cc), format (Cf) and line/paragraph separator (Zl, Zp) characters. */
const NOT_IN_IDENTIFIERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** NUL, or a surrogate not part of a pair (the `u` flag matches a valid pair as one code point). */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const NOT_STORABLE = /[\u0000\ud800-\udfff]/u;

/** Runs the storable-text check over the whole input before the schema: every string and key, at any depth. */
function guardText(validate: ValidateFunction): Validator {
    const validator: Validator = (data) => {
        const unsafe = findUnstorableText(data, "");
        if (unsafe) {
            validator.errors = [
                {
                    instancePath: unsafe.path,
                    schemaPath: "#",
                    keyword: "storable-text",
                    params: {},
                    message: unsafe.problem,
                },
            ];
            return false;
        }
        const valid = validate(data);
        validator.errors = validate.errors;
        return valid;
    };
    return validator;
}

/** Depth-first with a stack of its own: a body of 500,000 nested arrays fits in 1 MB and must not overflow the call stack. */
function findUnstorableText(root: unknown, rootPath: string): { path: string; problem: string } | undefined {
    const pending: Array<{ value: unknown; path: string }> = [{ value: root, path: rootPath }];
    for (let next = pending.pop(); next; next = pending.pop()) {
        const { value, path } = next;
        if (typeof value === "string") {
            if (NOT_STORABLE.test(value)) return { path, problem: describeUnstorable(value) };
        } else if (Array.isArray(value)) {
            for (let i = value.length - 1; i >= 0; i--)
                pending.push({ value: value[i] as unknown, path: `${path}/${i}` });
        } else if (value !== null && typeof value === "object") {
            const entries = Object.entries(value);
            for (const [key] of entries)
                if (NOT_STORABLE.test(key))
                    return { path: `${path}/${key}`, problem: `is not a valid field name: ${describeUnstorable(key)}` };
            for (let i = entries.length - 1; i >= 0; i--)
                pending.push({ value: entries[i][1] as unknown, path: `${path}/${entries[i][0]}` });
        }
    }
    return undefined;
}

function describeUnstorable(text: string): string {
    return text.includes("\u0000")
        ? "must not contain NUL (U+0000)"
        : "must not contain an unpaired UTF-16 surrogate (not valid Unicode)";
}

/** Decimal places of a JSON number as written in its shortest form (1e-7 has 7, 10.005 has 3). */
export function decimalPlaces(value: number): number {
    if (!Number.isFinite(value)) return Infinity;
    const [mantissa, exponent] = String(Math.abs(value)).split("e");
    const fraction = mantissa.split(".")[1]?.length ?? 0;
    return Math.max(0, fraction - Number(exponent ?? 0));
}

const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** RFC 3339 full-date naming a day that exists, from 0001-01-01. */
export function isCalendarDate(text: string): boolean {
    const match = FULL_DATE.exec(text);
    if (!match) return false;
    const [year, month, day] = match.slice(1).map(Number);
    if (year < 1 || month < 1 || month > 12 || day < 1) return false;
    // Day 0 of the next month is this month's last day; Date.UTC maps years 0-99 to 1900-1999, which have the same month lengths.
    return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** RFC 3339 date-time with an offset, naming an instant that exists (no 24:00, no leap second, offsets within ±23:59). */
export function isInstant(text: string): boolean {
    const match = DATE_TIME.exec(text);
    if (!match || !isCalendarDate(match[1])) return false;
    const [hour, minute, second] = match.slice(2, 5).map(Number);
    const [offsetHour, offsetMinute] = [match[5], match[6]].map((part) => Number(part ?? 0));
    return hour <= 23 && minute <= 59 && second <= 59 && offsetHour <= 23 && offsetMinute <= 59;
}
