/**
 * A work queue as controllers keep one: each key is handled by one worker at a time, a key
 * added again while it runs is handled once more after, a failure is retried with backoff
 * (doubling from `baseDelayMs` up to `maxDelayMs`), and at most `concurrency` keys run at once.
 */
export class WorkQueue {
    private readonly waiting: string[] = [];
    private readonly queued = new Set<string>();
    private readonly running = new Set<string>();
    private readonly dirty = new Set<string>();
    private readonly failures = new Map<string, number>();
    private readonly timers = new Set<NodeJS.Timeout>();
    private idleWaiters: (() => void)[] = [];
    private stopped = false;

    constructor(
        private readonly handle: (key: string) => Promise<void>,
        private readonly concurrency: number,
        private readonly onError: (key: string, err: unknown) => void,
        private readonly baseDelayMs = 500,
        private readonly maxDelayMs = 60_000,
    ) {}

    add(key: string): void {
        if (this.stopped) return;
        if (this.running.has(key)) {
            this.dirty.add(key);
            return;
        }
        if (this.queued.has(key)) return;
        this.queued.add(key);
        this.waiting.push(key);
        this.pump();
    }

    /** Keys waiting or running. */
    get size(): number {
        return this.queued.size + this.running.size;
    }

    /** Resolves when nothing waits or runs (retries scheduled for later do not count). */
    idle(): Promise<void> {
        if (this.size === 0) return Promise.resolve();
        return new Promise((resolve) => this.idleWaiters.push(resolve));
    }

    stop(): void {
        this.stopped = true;
        for (const t of this.timers) clearTimeout(t);
        this.timers.clear();
        this.waiting.length = 0;
        this.queued.clear();
    }

    private pump(): void {
        while (this.running.size < this.concurrency && this.waiting.length > 0) {
            const key = this.waiting.shift()!;
            this.queued.delete(key);
            this.running.add(key);
            void this.run(key);
        }
        if (this.size === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            waiters.forEach((resolve) => resolve());
        }
    }

    private async run(key: string): Promise<void> {
        try {
            await this.handle(key);
            this.failures.delete(key);
        } catch (err) {
            this.onError(key, err);
            const n = (this.failures.get(key) ?? 0) + 1;
            this.failures.set(key, n);
            const timer = setTimeout(
                () => {
                    this.timers.delete(timer);
                    this.add(key);
                },
                Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (n - 1)),
            );
            this.timers.add(timer);
        } finally {
            this.running.delete(key);
            if (this.dirty.delete(key)) this.add(key);
            this.pump();
        }
    }
}
