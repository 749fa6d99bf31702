/**
 * The feed of "money freed" events (released, expired, spend-replaced, budget-changed,
 * month-started) that the budget gate long-polls to ask again for workloads waiting on budget.
 *
 * Events are written by record_money_events (migration 3) in the transaction that freed the
 * money, so one is visible exactly when its change is; their ids are visible in the order they
 * were taken, so a cursor (the last id read) never skips one. A waiter wakes when this process
 * commits an event (`notify`) or, for events other tasks of the service wrote, at the next poll
 * of the table (every `pollMs` while anyone waits). Events are hints: a gate that misses one
 * still asks again on its own schedule.
 */
import type { Queryable } from "./db/database";
import type { MoneyEventKind } from "./db/team-locks";

export interface MoneyEvent {
    readonly id: string;
    readonly team: string;
    readonly kind: MoneyEventKind;
    readonly at: string;
}

export interface EventPage {
    readonly events: MoneyEvent[];
    readonly cursor: string;
}

/** Most events one answer carries; the next poll continues from its cursor. */
export const EVENTS_PER_PAGE = 500;

/**
 * The events after `after`, oldest first. A cursor past the newest event (the database was
 * restored or replaced) is answered with the newest id, so the caller starts over from there.
 */
export async function eventsAfter(q: Queryable, after: string): Promise<EventPage> {
    const { rows } = await q.query<{ id: number; team: string; kind: MoneyEventKind; at: Date; newest: number | null }>(
        `SELECT e.id, e.team, e.kind, e.at, NULL::bigint AS newest FROM money_events e WHERE e.id > $1::bigint
          UNION ALL SELECT NULL, NULL, NULL, NULL, (SELECT max(id) FROM money_events)
          ORDER BY id NULLS LAST LIMIT $2`,
        [after, EVENTS_PER_PAGE + 1],
    );
    const events = rows
        .filter((r) => r.id !== null)
        .slice(0, EVENTS_PER_PAGE)
        .map((r) => ({ id: String(r.id), team: r.team, kind: r.kind, at: r.at.toISOString() }));
    if (events.length > 0) return { events, cursor: events[events.length - 1].id };
    const newest = rows.find((r) => r.id === null)?.newest ?? 0;
    return { events, cursor: BigInt(after) > BigInt(newest) ? String(newest) : after };
}

interface Waiter {
    readonly after: string;
    readonly resolve: (page: EventPage) => void;
    readonly reject: (err: unknown) => void;
    readonly timer: NodeJS.Timeout;
}

/** Long polls of the feed: answered at once when events are past the cursor, otherwise when one comes or the wait ends. */
export class EventFeed {
    private readonly waiters = new Set<Waiter>();
    private poller: NodeJS.Timeout | undefined;
    private closed = false;

    constructor(
        private readonly db: Queryable,
        private readonly pollMs = 1000,
    ) {}

    async wait(after: string, waitMs: number): Promise<EventPage> {
        const page = await eventsAfter(this.db, after);
        if (page.events.length > 0 || page.cursor !== after || waitMs <= 0 || this.closed) return page;
        return new Promise<EventPage>((resolve, reject) => {
            const waiter: Waiter = {
                after,
                resolve,
                reject,
                timer: setTimeout(() => this.settle(waiter, { events: [], cursor: after }), waitMs),
            };
            this.waiters.add(waiter);
            this.poller ??= setInterval(() => void this.check(), this.pollMs);
        });
    }

    /** This process committed events: waiters look again now rather than at the next poll. */
    notify(): void {
        if (this.waiters.size > 0) void this.check();
    }

    /** Answers every waiter at once with what it has (nothing new), so a shutdown does not wait out their polls. */
    close(): void {
        this.closed = true;
        for (const waiter of [...this.waiters]) this.settle(waiter, { events: [], cursor: waiter.after });
    }

    /** One read per distinct cursor (the waiters of one gate share theirs). */
    private async check(): Promise<void> {
        const byCursor = new Map<string, Waiter[]>();
        for (const waiter of this.waiters) byCursor.set(waiter.after, [...(byCursor.get(waiter.after) ?? []), waiter]);
        for (const [after, waiters] of byCursor) {
            let page: EventPage;
            try {
                page = await eventsAfter(this.db, after);
            } catch (err) {
                for (const waiter of waiters) this.fail(waiter, err);
                continue;
            }
            if (page.events.length > 0 || page.cursor !== after)
                for (const waiter of waiters) this.settle(waiter, page);
        }
        this.stopPollingWhenIdle();
    }

    private fail(waiter: Waiter, err: unknown): void {
        if (!this.waiters.delete(waiter)) return;
        clearTimeout(waiter.timer);
        waiter.reject(err);
    }

    private settle(waiter: Waiter, page: EventPage): void {
        if (!this.waiters.delete(waiter)) return;
        clearTimeout(waiter.timer);
        waiter.resolve(page);
        this.stopPollingWhenIdle();
    }

    private stopPollingWhenIdle(): void {
        if (this.waiters.size > 0 || !this.poller) return;
        clearInterval(this.poller);
        this.poller = undefined;
    }
}
