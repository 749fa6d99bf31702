/**
 * Idempotency keys: every write runs inside `once`, in the same transaction as its effect, so a
 * repeated key returns the first answer and writes nothing, and a request that fails leaves no
 * key behind (the retry runs anew).
 */
import { createHash } from "crypto";
import type { Queryable } from "./db/database";
import { BadInput } from "./model";

export interface StoredAnswer {
    readonly statusCode: number;
    readonly body: unknown;
}

export const IDEMPOTENCY_KEY_REUSED = "was already used for a different request; send a new key with a new request";

/** A fingerprint of what was asked, to tell a retry from a different request reusing a key. */
export function requestHash(parts: unknown): string {
    return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

/**
 * Claims (scope, key) and runs `work`, or returns the answer stored for it. A concurrent request
 * with the same key blocks on the key's primary-key entry until the first commits, then finds
 * its answer (READ COMMITTED: the next statement sees the committed row).
 */
export async function once<T extends StoredAnswer>(
    tx: Queryable,
    scope: string,
    key: string,
    hash: string,
    work: () => Promise<T>,
): Promise<{ answer: StoredAnswer; fresh?: T }> {
    const claimed = await tx.query(
        "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key",
        [scope, key, hash],
    );
    if (claimed.rows.length === 0) {
        const { rows } = await tx.query<{ request_hash: string; status_code: number; response: unknown }>(
            "SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2",
            [scope, key],
        );
        const prior = rows[0];
        if (prior.request_hash !== hash) throw new BadInput("Idempotency-Key", IDEMPOTENCY_KEY_REUSED);
        return { answer: { statusCode: prior.status_code, body: prior.response } };
    }
    const fresh = await work();
    await tx.query("UPDATE idempotency_keys SET status_code = $3, response = $4::jsonb WHERE scope = $1 AND key = $2", [
        scope,
        key,
        fresh.statusCode,
        JSON.stringify(fresh.body),
    ]);
    return { answer: { statusCode: fresh.statusCode, body: fresh.body }, fresh };
}
