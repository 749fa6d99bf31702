/**
 * The gate while it leads: the Workload informer feeding the controller, the tracker's events
 * long-poll (money freed: ask the tracker again rather than answering from memory), the circuit
 * breaker's pass every `breakerIntervalSeconds`, and the renewal of open-ended workloads when a
 * month starts.
 */
import type { BudgetGateConfig } from "@gpu-platform/catalog/contracts";
import { runBreaker } from "./breaker";
import { GateController } from "./controller";
import type { KubeApi } from "./kube";
import type { GateMetrics } from "./metrics";
import { nextMonthStart } from "./pricing";
import { type RenewalOutcome, renewOpenEnded } from "./renewal";
import { type TrackerClient, TrackerUnavailable } from "./tracker";
import type { Workload } from "./workload";

export interface GateDeps {
    readonly kube: KubeApi;
    readonly tracker: TrackerClient;
    readonly config: BudgetGateConfig;
    readonly metrics: GateMetrics;
    readonly now: () => Date;
    readonly log: (message: string, fields?: Record<string, unknown>) => void;
    readonly concurrency?: number;
    /** Seconds a long poll of the tracker's events waits. Default 25. */
    readonly eventWaitSeconds?: number;
}

export interface RunningGate {
    readonly controller: GateController;
    /** The informer has listed every workload once. */
    readonly synced: Promise<void>;
    /** One breaker pass now. */
    breaker(): Promise<string[]>;
    /** The workloads as the informer last saw them. */
    workloads(): readonly Workload[];
    /** One renewal pass now: open-ended workloads not yet renewed for this month (renewal.ts). */
    renew(): Promise<Map<string, RenewalOutcome>>;
    stop(): Promise<void>;
}

export function startGate(deps: GateDeps): RunningGate {
    const informer = deps.kube.workloadInformer();
    const controller = new GateController(deps, (key) => {
        const [namespace, name] = key.split("/");
        return informer.get(name, namespace);
    });
    const abort = new AbortController();
    const timers: NodeJS.Timeout[] = [];
    const onChange = (w: Workload) => controller.observe(w);
    informer.on("add", onChange);
    informer.on("update", onChange);
    // Errors stop client-node's informer: start it again after a pause (it relists).
    informer.on("error", () => {
        if (!abort.signal.aborted) timers.push(setTimeout(() => void informer.start().catch(() => undefined), 2000));
    });
    const synced = informer.start();
    const all = () => informer.list();
    const breakerDeps = { ...deps, controller, workloads: all, unsentAlerts: [] };
    const renewalDeps = { ...deps, controller, leftUnreserved: new Set<string>() };
    // Renewals and breaker passes run one at a time: both read and change a team's reservations.
    let previous: Promise<unknown> = Promise.resolve();
    const serially = <T>(what: string, step: () => Promise<T>): Promise<T> => {
        const run = previous.then(step);
        previous = run.catch((err) => deps.log(`${what} failed`, { error: String(err) }));
        return run;
    };
    const breaker = () => serially("circuit breaker pass", () => runBreaker(breakerDeps));
    const renew = () => serially("renewal", () => renewOpenEnded(renewalDeps, all()));
    const pass = () => {
        void renew().catch(() => undefined);
        void breaker().catch(() => undefined);
    };
    timers.push(setInterval(pass, deps.config.breakerIntervalSeconds * 1000));
    // A gate that was down on the 1st (or lost the lead mid-way) renews what is due as soon as it has listed.
    void synced.then(renew).catch(() => undefined);
    scheduleMonthly(deps, controller, renew, timers, abort.signal);
    void pollEvents(deps, controller, abort.signal, breaker);
    return {
        controller,
        synced,
        breaker,
        renew,
        workloads: all,
        async stop() {
            abort.abort();
            timers.forEach((t) => clearTimeout(t));
            controller.queue.stop();
            await informer.stop();
        },
    };
}

function scheduleMonthly(
    deps: GateDeps,
    controller: GateController,
    renew: () => Promise<unknown>,
    timers: NodeJS.Timeout[],
    signal: AbortSignal,
) {
    const wait = nextMonthStart(deps.now()).getTime() - deps.now().getTime() + 1000;
    // setTimeout holds at most about 24.8 days: wake up at least that often and look again.
    const timer = setTimeout(
        () => {
            if (signal.aborted) return;
            if (nextMonthStart(deps.now()).getTime() - deps.now().getTime() > 27 * 86_400_000) {
                controller.moneyFreed();
                void renew().catch(() => undefined);
            }
            scheduleMonthly(deps, controller, renew, timers, signal);
        },
        Math.min(wait, 2 ** 31 - 1),
    );
    timers.push(timer);
}

/** Follows the tracker's "money freed" events; without the route (an older tracker) the gate always asks the tracker. */
async function pollEvents(
    deps: GateDeps,
    controller: GateController,
    signal: AbortSignal,
    breaker: () => Promise<unknown>,
) {
    let cursor: string | undefined;
    while (!signal.aborted) {
        try {
            const { events, cursor: next } = await deps.tracker.events(cursor, deps.eventWaitSeconds ?? 25, signal);
            if (cursor !== undefined || events.length > 0) controller.cacheEnabled = true;
            cursor = next;
            for (const e of events) controller.moneyFreed(e.kind === "month-started" ? undefined : e.team);
            if (events.some((e) => e.kind === "spend-replaced" || e.kind === "budget-changed"))
                void breaker().catch(() => undefined);
            if (cursor !== undefined) controller.cacheEnabled = true;
        } catch (err) {
            controller.cacheEnabled = false;
            controller.moneyFreed();
            if (signal.aborted) return;
            if (err instanceof TrackerUnavailable && err.status === 404) {
                deps.log("the cost tracker has no events route: every decision asks it");
                return;
            }
            await new Promise((resolve) => setTimeout(resolve, 5000));
        }
    }
}
