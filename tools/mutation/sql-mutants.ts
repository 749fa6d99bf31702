// The SQL mutants `npm run mutation:sql` applies to the cost tracker's migrations, one at a time.
// StrykerJS mutates TypeScript; to it a migration's PL/pgSQL is one string literal, so the mistakes
// that matter there (a boundary, a filter, a lock) are written down here by hand. Each is an exact
// text replacement in one file; the runner refuses a `find` that is missing or not unique, so the
// list fails loudly when a migration changes under it instead of quietly testing nothing.
//
// The live definitions are the latest CREATE OR REPLACE of each function: decide_new_reservation,
// worst_month_of, team_money, team_reserved_in and reservation_held_in from migration 4
// (finops-migration.ts); approve_gpu_request, lock_team_budgets and reservation_to_adopt from
// migration 3; decide_adoption and worst_growth_month from migration 7.

export interface SqlMutant {
    /** Kebab-case name, printed in the report and accepted on the command line. */
    readonly id: string;
    /** Path from the repository root. */
    readonly file: string;
    readonly find: string;
    readonly replace: string;
    /** What a user would see if this shipped. */
    readonly why: string;
    /**
     * Which specs judge it: the fast specs on PGlite, or (for locks, which only concurrent
     * connections can observe; PGlite has one) the concurrency specs on a real PostgreSQL server.
     */
    readonly suite: "fast" | "postgres";
}

const FINOPS = "services/cost-tracker/src/db/finops-migration.ts";
const MIGRATION_3 = "services/cost-tracker/src/db/migration-3.ts";
const MIGRATION_7 = "services/cost-tracker/src/db/migration-7.ts";

export const SQL_MUTANTS: readonly SqlMutant[] = [
    {
        id: "approval-boundary",
        file: FINOPS,
        find: "v_fits := v_shortfall = 0;",
        replace: "v_fits := w.part < w.available;",
        why: "a request costing exactly what is left is refused (the approval's <= turned into <)",
        suite: "fast",
    },
    {
        id: "expired-reservations-count",
        file: FINOPS,
        find: "AND released_at IS NULL AND expires_at > p_now",
        replace: "AND released_at IS NULL",
        why: "a reservation past its expiry still holds the team's money",
        suite: "fast",
    },
    {
        id: "expiry-instant",
        file: FINOPS,
        find: "AND released_at IS NULL AND expires_at > p_now",
        replace: "AND released_at IS NULL AND expires_at >= p_now",
        why: "a reservation still holds money at the very instant it expires",
        suite: "fast",
    },
    {
        id: "released-reservations-count",
        file: FINOPS,
        find: "AND released_at IS NULL AND expires_at > p_now",
        replace: "AND expires_at > p_now",
        why: "a released reservation still holds the team's money",
        suite: "fast",
    },
    {
        id: "observed-spend-not-subtracted",
        file: FINOPS,
        find: "sum(reservation_held_in(estimated_cost_usd, consumed_usd, created_at",
        replace: "sum(reservation_held_in(estimated_cost_usd, 0, created_at",
        why: "spend a reservation's workload has run up is counted twice: as spend and still as reserved",
        suite: "fast",
    },
    {
        id: "observed-spend-every-month",
        file: FINOPS,
        find:
            "- greatest(0, consumed - estimate * greatest(0, extract(epoch FROM least(starts + hours * interval '1 hour', " +
            "month_start::timestamp AT TIME ZONE 'UTC') - starts)) / (hours * 3600))",
        replace: "- consumed",
        why: "observed spend is taken off every month a reservation spans, not off the earliest months first",
        suite: "fast",
    },
    {
        id: "spend-month-end",
        file: FINOPS,
        find: "day >= p_month_start AND day < p_month_next",
        replace: "day >= p_month_start AND day <= p_month_next",
        why: "spend on the 1st of next month counts against this month's budget",
        suite: "fast",
    },
    {
        id: "spend-month-start",
        file: FINOPS,
        find: "day >= p_month_start AND day < p_month_next",
        replace: "day > p_month_start AND day < p_month_next",
        why: "spend on the 1st of the month is not counted against the budget",
        suite: "fast",
    },
    {
        id: "reservation-not-split-at-month-end",
        file: FINOPS,
        find: "least(starts + hours * interval '1 hour', month_next::timestamp AT TIME ZONE 'UTC')",
        replace: "starts + hours * interval '1 hour'",
        why: "a reservation running into next month is charged to this month in full",
        suite: "fast",
    },
    {
        id: "only-this-month-checked",
        file: FINOPS,
        find: "WHILE (m::timestamp AT TIME ZONE 'UTC') < p_now + p_hours * interval '1 hour' LOOP",
        replace: "WHILE m = p_month_start LOOP",
        why: "a request is checked against this month only, whatever it reserves in the next",
        suite: "fast",
    },
    {
        id: "best-month-judged",
        file: FINOPS,
        find: "m_part - (mm.budget - mm.spent - mm.reserved) > part - available",
        replace: "m_part - (mm.budget - mm.spent - mm.reserved) < part - available",
        why: "a request is judged in the month it fits best, not worst",
        suite: "fast",
    },
    {
        id: "critical-refused",
        file: FINOPS,
        find: "v_approved := v_fits OR (p_request->>'critical')::boolean;",
        replace: "v_approved := v_fits;",
        why: "a critical priority class is refused past the budget instead of approved with an alert",
        suite: "fast",
    },
    {
        id: "remaining-after-whole-estimate",
        file: FINOPS,
        find: "'body', approval_body((p_request->>'id')::uuid, v_estimate, v_available - v_this_part",
        replace: "'body', approval_body((p_request->>'id')::uuid, v_estimate, v_available - v_estimate",
        why: "the approval's remainingUsd takes off the whole estimate, not this month's part",
        suite: "fast",
    },
    {
        id: "exceeds-code-boundary",
        file: FINOPS,
        find: "to_jsonb(CASE WHEN w.part > m.budget THEN",
        replace: "to_jsonb(CASE WHEN w.part >= m.budget THEN",
        why: "a request equal to the whole budget is told it can never fit, though it may once money frees up",
        suite: "fast",
    },
    {
        id: "baseline-any-day",
        file: FINOPS,
        find: "AND day = (NEW.created_at AT TIME ZONE 'UTC')::date",
        replace: "",
        why: "a workload's spend from before its approval day consumes its new reservation",
        suite: "fast",
    },
    {
        id: "idempotency-no-replay",
        file: MIGRATION_3,
        find: "    IF NOT FOUND THEN",
        replace: "    IF false THEN",
        why: "a retried request with the same Idempotency-Key is decided again instead of answered from its record",
        suite: "fast",
    },
    {
        id: "adoption-across-teams",
        file: MIGRATION_3,
        find: "IF v_found.id IS NOT NULL AND v_found.team <> v_team THEN",
        replace: "IF false THEN",
        why: "a team adopts the reservation another team holds for the same workload UID",
        suite: "fast",
    },
    {
        id: "adoption-of-expired",
        file: MIGRATION_3,
        find: "WHERE workload_uid = v_uid AND status = 'approved' AND released_at IS NULL AND expires_at > p_now",
        replace: "WHERE workload_uid = v_uid AND status = 'approved' AND released_at IS NULL",
        why: "a request adopts an expired reservation instead of being judged as new",
        suite: "fast",
    },
    {
        id: "adoption-lowers-reservation",
        file: MIGRATION_7,
        find: "v_new numeric := greatest(v_estimate, p_existing.estimated_cost_usd);",
        replace: "v_new numeric := v_estimate;",
        why: "adopting with a smaller estimate shrinks what the workload's reservation holds",
        suite: "fast",
    },
    {
        id: "adoption-boundary",
        file: MIGRATION_7,
        find: "v_fits := v_shortfall = 0;",
        replace: "v_fits := w.part < w.available;",
        why: "growing a reservation by exactly what is left is refused",
        suite: "fast",
    },
    {
        id: "adoption-only-this-month",
        file: MIGRATION_7,
        find: "EXIT WHEN (m::timestamp AT TIME ZONE 'UTC') >= v_end;",
        replace: "EXIT WHEN true;",
        why: "a reservation's growth is checked against this month only, whatever it adds to the next",
        suite: "fast",
    },
    {
        id: "adoption-shortens-expiry",
        file: MIGRATION_7,
        find: "expires_at = greatest(expires_at, p_now + make_interval(",
        replace: "expires_at = least(expires_at, p_now + make_interval(",
        why: "adopting a reservation can bring its expiry forward",
        suite: "fast",
    },
    {
        id: "no-team-lock",
        file: MIGRATION_3,
        find: "PERFORM lock_team_budgets(ARRAY[p_request->>'team']);",
        replace: "",
        why: "concurrent approvals for one team each see the same money left and together overspend it",
        suite: "postgres",
    },
    {
        id: "team-lock-without-for-update",
        file: MIGRATION_3,
        find: "ORDER BY name FOR UPDATE;",
        replace: "ORDER BY name;",
        why: "the team lock reads the team's row without locking it: concurrent approvals overspend",
        suite: "postgres",
    },
];
