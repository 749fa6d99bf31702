// The SQL mutants `npm run mutation:sql` applies to the cost tracker's migrations, one at a time.
// StrykerJS mutates TypeScript; to it a migration's PL/pgSQL is one string literal, so the mistakes
// that matter there (a boundary, a filter, a lock) are written down here by hand. Each is an exact
// text replacement in one file; the runner refuses a `find` that is missing or not unique, so the
// list fails loudly when a migration changes under it instead of quietly testing nothing.
//
// The live definitions are the latest CREATE OR REPLACE of each function, and each mutant points
// there (re-pointed after migration 8, which replaced several; a mutant of a replaced body is dead
// text and would "survive" for the wrong reason): team_money, team_reserved_in,
// decide_new_reservation, worst_month_after and approve_gpu_request (the decision and its audit
// entry) from migration 8; reservation_held_in's body (migration 8 only declares it STABLE) and
// the gpu_request_baseline trigger from migration 4 (finops-migration.ts); decide_gpu_request
// (migration 3's approve_gpu_request, renamed unchanged by migration 8), lock_team_budgets and
// reservation_to_adopt from migration 3; decide_adoption and worst_growth_month from migration 7.

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
const MIGRATION_8 = "services/cost-tracker/src/db/migration-8.ts";

export const SQL_MUTANTS: readonly SqlMutant[] = [
    {
        id: "approval-boundary",
        file: MIGRATION_8,
        find: "v_fits := v_shortfall = 0;",
        replace: "v_fits := w.part < w.available;",
        why: "a request costing exactly what is left is refused (the approval's <= turned into <)",
        suite: "fast",
    },
    {
        id: "expired-reservations-count",
        file: MIGRATION_8,
        find: "AND released_at IS NULL AND expires_at > p_now",
        replace: "AND released_at IS NULL",
        why: "a reservation past its expiry still holds the team's money",
        suite: "fast",
    },
    {
        id: "expiry-instant",
        file: MIGRATION_8,
        find: "AND released_at IS NULL AND expires_at > p_now",
        replace: "AND released_at IS NULL AND expires_at >= p_now",
        why: "a reservation still holds money at the very instant it expires",
        suite: "fast",
    },
    {
        id: "released-reservations-count",
        file: MIGRATION_8,
        find: "AND released_at IS NULL AND expires_at > p_now",
        replace: "AND expires_at > p_now",
        why: "a released reservation still holds the team's money",
        suite: "fast",
    },
    {
        id: "observed-spend-not-subtracted",
        file: MIGRATION_8,
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
        file: MIGRATION_8,
        find: "day >= p_month_start AND day < p_month_next",
        replace: "day >= p_month_start AND day <= p_month_next",
        why: "spend on the 1st of next month counts against this month's budget",
        suite: "fast",
    },
    {
        id: "spend-month-start",
        file: MIGRATION_8,
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
        file: MIGRATION_8,
        find: "WHILE (m::timestamp AT TIME ZONE 'UTC') < p_now + p_hours * interval '1 hour' LOOP",
        replace: "WHILE m = p_month_start LOOP",
        why: "a request is checked against this month only, whatever it reserves in the next",
        suite: "fast",
    },
    {
        id: "best-month-judged",
        file: MIGRATION_8,
        find: "m_part - (mm.budget - mm.spent - mm.reserved) > part - available",
        replace: "m_part - (mm.budget - mm.spent - mm.reserved) < part - available",
        why: "a request is judged in the month it fits best, not worst",
        suite: "fast",
    },
    {
        id: "critical-refused",
        file: MIGRATION_8,
        find: "v_approved := v_fits OR (p_request->>'critical')::boolean;",
        replace: "v_approved := v_fits;",
        why: "a critical priority class is refused past the budget instead of approved with an alert",
        suite: "fast",
    },
    {
        id: "remaining-after-whole-estimate",
        file: MIGRATION_8,
        find: "'body', approval_body((p_request->>'id')::uuid, v_estimate, v_available - v_this_part",
        replace: "'body', approval_body((p_request->>'id')::uuid, v_estimate, v_available - v_estimate",
        why: "the approval's remainingUsd takes off the whole estimate, not this month's part",
        suite: "fast",
    },
    {
        id: "exceeds-code-boundary",
        file: MIGRATION_8,
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
        id: "spend-of-every-team",
        file: MIGRATION_8,
        find: "WHERE team = p_team AND day >= p_month_start AND day < p_month_next;",
        replace: "WHERE day >= p_month_start AND day < p_month_next;",
        why: "the (team, day) spend read loses its team filter: every team's spend counts against each budget",
        suite: "fast",
    },
    // No mutant drops the claim from decide_new_reservation's INSERT: approve_gpu_request's UPDATE
    // then labels the new row all the same (its body carries the id, approved or refused), so nothing
    // a user can see changes; it is an equivalent mutant. The UPDATE alone labels a refused growth.
    {
        id: "refused-growth-claim-not-labelled",
        file: MIGRATION_8,
        find: "    IF p_request->>'claimedRequester' IS NOT NULL AND NOT (v_result->>'replay')::boolean",
        replace: "    IF false",
        why: "a growth that adoption refused is recorded without the requester the body claimed",
        suite: "fast",
    },
    {
        id: "audit-entry-dropped",
        file: MIGRATION_8,
        find: "IF p_audit IS NOT NULL AND (NOT (v_result->>'replay')::boolean OR v_result->>'requestHash' = p_hash) THEN",
        replace: "IF false THEN",
        why: "a decision commits without its audit entry",
        suite: "fast",
    },
    {
        id: "audit-replay-not-recorded",
        file: MIGRATION_8,
        find: "IF p_audit IS NOT NULL AND (NOT (v_result->>'replay')::boolean OR v_result->>'requestHash' = p_hash) THEN",
        replace: "IF p_audit IS NOT NULL AND NOT (v_result->>'replay')::boolean THEN",
        why: "a retried request answered from its record leaves no audit entry",
        suite: "fast",
    },
    {
        id: "reserved-window-past-month-end",
        file: MIGRATION_8,
        find: "created_at, hours, month_start, month_next)), 0)",
        replace: "created_at, hours, month_start, (month_next + interval '1 month')::date)), 0)",
        why: "a live reservation's next month is counted as reserved in this month too",
        suite: "fast",
    },
    {
        id: "later-month-window-from-first",
        file: MIGRATION_8,
        find: "round(reservation_held_in(p_estimate, 0, p_now, p_hours, m, m_next), 2)",
        replace: "round(reservation_held_in(p_estimate, 0, p_now, p_hours, p_month_start, m_next), 2)",
        why: "a later month is charged the request's part from this month's start, not that month's own part",
        suite: "fast",
    },
    {
        id: "worst-month-starts-from-estimate",
        file: MIGRATION_8,
        find: "p_month_start, v_this_part, v_available, m.reserved);",
        replace: "p_month_start, v_estimate, v_available, m.reserved);",
        why: "this month is judged against the whole estimate instead of its own part already computed",
        suite: "fast",
    },
    {
        id: "worst-month-starts-from-nothing",
        file: MIGRATION_8,
        find: "month := p_month_start; part := p_part; available := p_available;",
        replace: "month := p_month_start; part := 0; available := p_available;",
        why: "this month's figures already read are dropped: a request that fits no month is approved",
        suite: "fast",
    },
    {
        id: "worst-month-tie-later",
        file: MIGRATION_8,
        find: "IF m_part - (mm.budget - mm.spent - mm.reserved) > part - available THEN",
        replace: "IF m_part - (mm.budget - mm.spent - mm.reserved) >= part - available THEN",
        why: "two months equally short: the refusal names the later one, not the first the request runs short in",
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
