/**
 * The renewal of open-ended workloads (a Deployment, a StatefulSet, a RayService: they run until
 * stopped) when a budget month starts. Their reservation ran to the end of the month they were
 * admitted in; on the 1st each gets a new one for the whole new month.
 *
 * - Which month a workload's reservation covers is the month of its budget check's last answer:
 *   the gate prices an admission at that instant's month and writes a renewal's answer in the
 *   month it renews. A workload whose check was answered before this month is due.
 * - The previous month's reservation is released first: it holds nothing in the new month, and
 *   left live (its grace hours reach past the 1st) the tracker would adopt it for the renewal and
 *   grow it in the old month instead of reserving in the new one.
 * - Both calls carry keys of the workload's UID and the month: a gate restarted half-way sends
 *   the same two requests and gets the stored answers, so a renewal is neither doubled nor lost.
 *   A gate that was down on the 1st renews when it starts.
 * - Highest priority first, so the workloads that matter most get the month's money first.
 * - Refused (the team has not the month's money; a critical class is always approved, flagged):
 *   with `breakerMode: suspend` a non-critical workload is deactivated (`spec.active: false`) as
 *   the circuit breaker would; with `queue` it keeps running without a reservation, its spend
 *   counted as it arrives. Either way a Warning event says so (once per month in queue mode,
 *   though every breaker pass looks again).
 * - Every breaker pass renews what is due, besides the pass on the 1st and at start: a pass cut
 *   short (the tracker out of reach, a conflict) is finished by the next one.
 */
import type { BudgetGateConfig } from "@gpu-platform/catalog/contracts";
import type { GateController } from "./controller";
import { type KubeApi, statusOf } from "./kube";
import { approvedMessage, describeUse } from "./messages";
import { type Pricing, monthOf, monthStart, priceWorkload } from "./pricing";
import type { ReservationAnswer, TrackerClient } from "./tracker";
import { type Workload, checkOf, isRunning, priorityClassOf } from "./workload";

type Priced = Extract<Pricing, { kind: "priced" }>;

export interface RenewalDeps {
    readonly kube: KubeApi;
    readonly tracker: TrackerClient;
    readonly config: BudgetGateConfig;
    readonly controller: GateController;
    readonly now: () => Date;
    readonly log: (message: string, fields?: Record<string, unknown>) => void;
    /** Workload UID and month of renewals refused and left running (queue mode): evented once, not stopped. */
    readonly leftUnreserved: Set<string>;
}

/** What one renewal did, by workload (`namespace/name`). */
export type RenewalOutcome = "renewed" | "suspended" | "unreserved";

/** Running workloads whose Ready answer was written before `now`'s month, highest priority first. */
export function dueForRenewal(workloads: readonly Workload[], config: BudgetGateConfig, now: Date): Workload[] {
    const start = monthStart(now).getTime();
    const priority = (w: Workload) =>
        w.spec.priority ?? config.classes.find((c) => c.name === priorityClassOf(w))?.value ?? 0;
    return workloads
        .filter((w) => isRunning(w))
        .filter((w) => {
            const check = checkOf(w, config.admissionCheck);
            const answeredAt = Date.parse(check?.lastTransitionTime ?? "");
            return check?.state === "Ready" && Number.isFinite(answeredAt) && answeredAt < start;
        })
        .sort((a, b) => priority(b) - priority(a));
}

/** Renews every due open-ended workload for `now`'s month; returns what happened to each. */
export async function renewOpenEnded(
    deps: RenewalDeps,
    workloads: readonly Workload[],
): Promise<Map<string, RenewalOutcome>> {
    const now = deps.now();
    const outcomes = new Map<string, RenewalOutcome>();
    for (const w of dueForRenewal(workloads, deps.config, now)) {
        const identity = await deps.controller.identify(w);
        // Priced from the month's first instant: a renewal asked again sends the same request under its key.
        const pricing = priceWorkload(w, identity, deps.config, monthStart(now));
        if (pricing.kind !== "priced" || !pricing.openEnded) continue;
        const month = monthOf(now);
        await deps.tracker.release(identity.uid, `budget-gate/${w.metadata.uid}/month/${month}/release-previous`);
        const answer = await deps.tracker.reserve(
            deps.controller.reservationRequest(
                pricing,
                identity,
                `Kueue workload ${w.metadata.namespace}/${w.metadata.name}, renewed for ${month}`,
            ),
            `budget-gate/${w.metadata.uid}/month/${month}`,
        );
        const outcome =
            answer.outcome === "approved"
                ? await renewed(deps, w, pricing, answer, now)
                : await refused(deps, w, pricing, answer, now);
        if (outcome) outcomes.set(`${w.metadata.namespace}/${w.metadata.name}`, outcome);
    }
    return outcomes;
}

/** Ready again, answered in the new month; the pods' annotations stay (Kueue keeps a Ready check's podSetUpdates immutable). */
async function renewed(
    deps: RenewalDeps,
    w: Workload,
    pricing: Priced,
    answer: Extract<ReservationAnswer, { outcome: "approved" }>,
    now: Date,
): Promise<RenewalOutcome> {
    const text = `Renewed for ${monthOf(now)}: ${approvedMessage(pricing, answer)}`;
    const previous = checkOf(w, deps.config.admissionCheck);
    try {
        await deps.kube.applyCheck(w, {
            name: deps.config.admissionCheck,
            state: "Ready",
            message: text,
            lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
            ...(previous?.podSetUpdates ? { podSetUpdates: previous.podSetUpdates } : {}),
        });
    } catch (err) {
        // Changed meanwhile: the reservation stands; the next renewal pass replays it and writes the answer.
        if (statusOf(err) !== 409 && statusOf(err) !== 404) throw err;
    }
    await deps.kube.event(w, "Normal", "BudgetRenewal", text, now);
    return "renewed";
}

async function refused(
    deps: RenewalDeps,
    w: Workload,
    pricing: Priced,
    answer: Exclude<ReservationAnswer, { outcome: "approved" }>,
    now: Date,
): Promise<RenewalOutcome | undefined> {
    const why =
        answer.outcome === "invalid"
            ? answer.message
            : `it needs $${answer.estimatedCostUsd.toFixed(2)} (${describeUse(pricing)}) and ${pricing.team} has ` +
              `$${Math.max(0, answer.remainingUsd).toFixed(2)} left`;
    const month = monthOf(now);
    if (deps.config.breakerMode === "suspend" && !pricing.critical) {
        try {
            await deps.kube.patchWorkload(w, { spec: { active: false } });
        } catch (err) {
            // Changed meanwhile: the next pass replays the refusal and stops it then.
            if (statusOf(err) === 409 || statusOf(err) === 404) return undefined;
            throw err;
        }
        const text = `Stopped: its reservation for ${month} was refused (${why}). Set spec.active to true again once the team has budget`;
        await deps.kube.event(w, "Warning", "BudgetRenewal", text, now);
        return "suspended";
    }
    const key = `${w.metadata.uid}/${month}`;
    if (!deps.leftUnreserved.has(key)) {
        deps.leftUnreserved.add(key);
        const text = `Its reservation for ${month} was refused (${why}); it keeps running without one (breaker mode queue), its spend counted as it arrives`;
        await deps.kube.event(w, "Warning", "BudgetRenewal", text, now);
    }
    return "unreserved";
}
