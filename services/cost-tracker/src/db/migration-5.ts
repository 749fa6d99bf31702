/**
 * Migration 5: who wrote what. The audit log is append-only (a trigger refuses UPDATE and
 * DELETE, so even the service's own user cannot rewrite it), and a request keeps the requester
 * its body claimed apart from the identity its credential proved.
 */
import type { Migration } from "./migrations";

export const MIGRATION_5: Migration = {
    version: 5,
    name: "audit log, claimed requester",
    statements: [
        `CREATE TABLE audit_log (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL,
            caller text NOT NULL,
            action text NOT NULL,
            teams text[] NOT NULL,
            target text,
            status_code integer NOT NULL,
            outcome text NOT NULL
        )`,
        `CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC)`,
        `CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only';
        END $$`,
        `CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`,
        `ALTER TABLE gpu_requests ADD COLUMN claimed_requester text`,
    ],
};
