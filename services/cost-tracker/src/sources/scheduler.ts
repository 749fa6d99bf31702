/**
 * Runs the pull sources on a schedule. Each run reads today and the look-back days from every
 * source at once; each source's answer replaces that source's days in one transaction, so a
 * source that fails, times out or answers garbage is logged and skipped while the others' data,
 * and its own earlier data, stay. After the sources: utilisation, expired reservations, alerts.
 */
import type { FastifyBaseLogger } from "fastify";
import type { CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { deliverAlerts, raiseSpendAlerts, type Notifier } from "../alerts";
import type { AlertRow } from "../api-types";
import type { Database } from "../db/database";
import type { Metrics } from "../metrics";
import { CATEGORIES, LINES, type UsageRecord } from "../model";
import { addDays, daysBetween, utcDay } from "../rules";
import { teamSummaries } from "../spend";
import { expireReservations, replaceSourceDays } from "../usage";
import { storePipelineInputs, type PipelineInputsSource } from "./pipeline-inputs";
import { recordUtilisation, type PrometheusClient } from "./prometheus";
import { SourceError, isBillSource, type UsageSource } from "./source";

export interface SchedulerDeps {
    readonly db: Database;
    readonly config: CostTrackerConfig;
    readonly sources: readonly UsageSource[];
    readonly prometheus?: PrometheusClient;
    /** Inputs the inference pipelines completed (CloudWatch), for their cost per processed input. */
    readonly pipelineInputs?: PipelineInputsSource;
    readonly notifiers: readonly Notifier[];
    readonly log: FastifyBaseLogger;
    readonly metrics: Metrics;
    readonly now: () => Date;
    /** Aborted when the service stops: a source's request in flight ends then rather than at its timeout. */
    readonly stopping?: AbortSignal;
}

/** A source call's signal: its timeout, or the service stopping, whichever comes first. */
function callSignal(deps: SchedulerDeps, timeoutMs: number): AbortSignal {
    const timeout = AbortSignal.timeout(timeoutMs);
    return deps.stopping ? AbortSignal.any([timeout, deps.stopping]) : timeout;
}

export interface SourceOutcome {
    readonly source: string;
    readonly ok: boolean;
    readonly records: number;
    readonly error?: string;
}

/** One run of every source, then the bookkeeping that follows new spend. */
export async function runSourcesOnce(deps: SchedulerDeps): Promise<SourceOutcome[]> {
    const today = utcDay(deps.now());
    const days = daysBetween(addDays(today, -deps.config.sources.lookbackDays), today);
    const timeoutMs = deps.config.sources.timeoutSeconds * 1000;
    const outcomes = await Promise.all(
        deps.sources.map(async (source) =>
            runSource(
                deps,
                source,
                isBillSource(source) ? source.revisionDays(today, await estimatedDays(deps)) : days,
                timeoutMs,
            ),
        ),
    );
    if (deps.pipelineInputs) await readPipelineInputs(deps, deps.pipelineInputs, days, timeoutMs);
    if (deps.prometheus) {
        try {
            const byNamespace = await deps.prometheus.utilisation(callSignal(deps, timeoutMs), deps.config.pools);
            await recordUtilisation(
                deps.db,
                byNamespace,
                deps.config.teams.map((t) => t.name),
                deps.now(),
            );
        } catch (err) {
            deps.log.warn(
                { source: "prometheus", err: messageOf(err) },
                "GPU utilisation not read; the last reading stays",
            );
        }
    }
    await expireReservations(deps.db, deps.now());
    await raiseAndDeliverAlerts(deps);
    return outcomes;
}

/** Reads and stores the pipelines' inputs for `days`; a failure is logged and the stored counts stay. */
async function readPipelineInputs(
    deps: SchedulerDeps,
    source: PipelineInputsSource,
    days: readonly string[],
    timeoutMs: number,
): Promise<void> {
    try {
        const rows = await source.read(days, callSignal(deps, timeoutMs));
        await storePipelineInputs(deps.db, rows, deps.now());
        deps.metrics.sourceRuns.inc({ source: source.name, outcome: "ok" });
    } catch (err) {
        deps.metrics.sourceRuns.inc({ source: source.name, outcome: "failed" });
        deps.log.warn({ source: source.name, err: messageOf(err) }, "pipeline inputs not read; the stored counts stay");
    }
}

/** Stores the alerts current spend calls for; returns the new ones. */
export async function raiseAlerts(deps: Pick<SchedulerDeps, "db" | "config" | "now" | "metrics">): Promise<AlertRow[]> {
    const now = deps.now();
    const raised = await raiseSpendAlerts(deps.db, deps.config, await teamSummaries(deps.db, now), now);
    for (const alert of raised) deps.metrics.alerts.inc({ kind: alert.kind });
    return raised;
}

/** Stores the alerts current spend calls for and sends the new ones. */
export async function raiseAndDeliverAlerts(
    deps: Pick<SchedulerDeps, "db" | "config" | "notifiers" | "now" | "metrics">,
): Promise<void> {
    await deliverAlerts(deps.db, deps.notifiers, await raiseAlerts(deps));
}

/** Days whose bill figures are still Estimated: a bill source re-reads them until they are final. */
async function estimatedDays(deps: Pick<SchedulerDeps, "db">): Promise<string[]> {
    const { rows } = await deps.db.query<{ day: string }>("SELECT day FROM bill_days WHERE estimated ORDER BY day");
    return rows.map((r) => r.day);
}

async function runSource(
    deps: SchedulerDeps,
    source: UsageSource,
    days: string[],
    timeoutMs: number,
): Promise<SourceOutcome> {
    const started = deps.now();
    let outcome: SourceOutcome;
    try {
        const signal = callSignal(deps, timeoutMs);
        const { records, bill } = isBillSource(source)
            ? await source.readWithBill(days, signal)
            : { records: await source.read(days, signal), bill: [] };
        checkRecords(source.name, records, deps.config, days);
        await replaceSourceDays(deps.db, source.name, days, records, deps.now(), bill);
        outcome = { source: source.name, ok: true, records: records.length };
        deps.log.info({ source: source.name, days: days.length, records: records.length }, "source read");
    } catch (err) {
        outcome = { source: source.name, ok: false, records: 0, error: messageOf(err) };
        deps.log.warn({ source: source.name, err: outcome.error }, "source failed; its stored data stays");
    }
    deps.metrics.sourceRuns.inc({ source: source.name, outcome: outcome.ok ? "ok" : "failed" });
    try {
        await deps.db.query(
            "INSERT INTO source_runs (source, started_at, outcome, days, records, error) VALUES ($1, $2, $3, $4, $5, $6)",
            [
                source.name,
                started,
                outcome.ok ? "ok" : "failed",
                `${days[0]}..${days[days.length - 1]}`,
                outcome.records,
                outcome.error ?? null,
            ],
        );
    } catch (err) {
        deps.log.warn({ source: source.name, err: messageOf(err) }, "source run not recorded");
    }
    return outcome;
}

/** A record an adapter produced must be something the store can hold; one bad record fails the source's run, not the others'. */
function checkRecords(
    source: string,
    records: readonly UsageRecord[],
    config: CostTrackerConfig,
    days: readonly string[],
): void {
    for (const r of records) {
        const line = r.line ?? "team";
        const teamKnown = config.teams.some((t) => t.name === r.team);
        const problem = !days.includes(r.day)
            ? `a record for ${r.day}, outside the days asked for`
            : !LINES.includes(line)
              ? `a record on unknown line ${line}`
              : (line === "team" && !teamKnown) ||
                  (line === "unallocated" && r.team !== "") ||
                  (line === "idle" && r.team !== "" && !teamKnown)
                ? `a record for unknown team ${JSON.stringify(r.team)} on the ${line} line`
                : !CATEGORIES.includes(r.category)
                  ? `a record of unknown category ${r.category}`
                  : !Number.isFinite(r.amountUsd) || Math.abs(r.amountUsd) > 1e9
                    ? `an amount of ${r.amountUsd}`
                    : undefined;
        if (problem) throw new SourceError(source, problem);
    }
}

function messageOf(err: unknown): string {
    if (err instanceof Error && err.name === "TimeoutError") return "timed out";
    return err instanceof Error ? err.message : String(err);
}

/** Runs `runSourcesOnce` every interval, never two at once; `stop` aborts the sources' requests in flight and waits for the run to end. */
export function startScheduler(deps: SchedulerDeps, intervalMs: number): { stop(): Promise<void> } {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> = Promise.resolve();
    let stopped = false;
    const stopping = new AbortController();
    const tick = () => {
        running = runSourcesOnce({ ...deps, stopping: stopping.signal })
            .catch((err) => deps.log.error({ err: messageOf(err) }, "source run failed"))
            .finally(() => {
                if (!stopped) timer = setTimeout(tick, intervalMs);
            });
    };
    timer = setTimeout(tick, 0);
    return {
        async stop() {
            stopped = true;
            clearTimeout(timer);
            stopping.abort();
            await running;
        },
    };
}
