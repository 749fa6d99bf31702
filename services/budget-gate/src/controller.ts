/**
 * The admission check controller: for each Workload that Kueue asks the budget check about,
 * price it, reserve its cost with the cost tracker, and answer Ready, Retry or Rejected; when a
 * workload finishes or is deleted, release what it reserved.
 *
 * Consistency across restarts (of the gate or the tracker):
 * - a reservation's idempotency key is the Workload's UID and the time Kueue reserved quota for
 *   it (one admission attempt): a gate that restarts between reserving and answering asks again
 *   under the same key and gets the same answer, never a second reservation; a later attempt
 *   (after eviction) asks under a new key and the tracker adopts the live reservation bound to
 *   the workload's UID, so it is not reserved twice either;
 * - before it reserves, the gate puts its finalizer on the Workload, so a workload deleted while
 *   the gate is down stays until the gate has released its reservation: nothing is lost;
 * - the tracker's answers are stored under their keys, so a tracker restart changes nothing.
 */
import type { BudgetGateConfig } from "@gpu-platform/catalog/contracts";
import { FIELD_MANAGER, type KubeApi, statusOf } from "./kube";
import { FREE_MESSAGE, approvedMessage, tooBigMessage, waitingMessage } from "./messages";
import type { GateMetrics } from "./metrics";
import { type Pricing, type WorkloadIdentity, monthOf, monthStart, priceWorkload } from "./pricing";
import { type ReservationRequest, type TeamFigures, type TrackerClient, TrackerUnavailable } from "./tracker";
import { WorkQueue } from "./work-queue";
import {
    type AdmissionCheckState,
    type CheckState,
    GATE_FINALIZER,
    type Workload,
    awaitsCheck,
    controllerOwner,
    isTrue,
    keyOf,
    quotaReservedAt,
} from "./workload";

export interface ControllerDeps {
    readonly kube: KubeApi;
    readonly tracker: TrackerClient;
    readonly config: BudgetGateConfig;
    readonly metrics: GateMetrics;
    readonly now: () => Date;
    readonly log: (message: string, fields?: Record<string, unknown>) => void;
    /** Workloads decided at once. Default 8. */
    readonly concurrency?: number;
}

type Priced = Extract<Pricing, { kind: "priced" }>;

/** What the gate last learned of a team that is out of money: skip the tracker until money frees up. */
interface OutOfMoney {
    readonly remainingUsd: number;
    readonly month: string;
}

export class GateController {
    readonly queue: WorkQueue;
    private readonly identities = new Map<string, WorkloadIdentity>();
    private readonly outOfMoney = new Map<string, OutOfMoney>();
    private readonly firstSeen = new Map<string, number>();
    private budgets = new Map<string, number>();
    /** False until the tracker's events tell the gate when money frees up; without them it never answers from memory. */
    cacheEnabled = false;

    constructor(
        private readonly deps: ControllerDeps,
        private readonly lookup: (key: string) => Workload | undefined,
    ) {
        this.queue = new WorkQueue(
            (key) => this.reconcile(key),
            deps.concurrency ?? 8,
            (key, err) => this.failed(key, err),
        );
    }

    /** The informer saw the workload change. */
    observe(w: Workload): void {
        if (awaitsCheck(w, this.deps.config.admissionCheck) && !this.firstSeen.has(keyOf(w)))
            this.firstSeen.set(keyOf(w), this.deps.now().getTime());
        this.queue.add(keyOf(w));
    }

    /** Money freed up for `team` (or for every team): ask the tracker again instead of answering from memory. */
    moneyFreed(team?: string): void {
        if (team === undefined) this.outOfMoney.clear();
        else this.outOfMoney.delete(team);
    }

    /** The teams' budgets, for the rejection message. */
    rememberBudgets(teams: readonly TeamFigures[]): void {
        this.budgets = new Map(teams.map((t) => [t.name, t.monthlyBudgetUsd]));
    }

    /**
     * The team's monthly budget as the tracker holds it now (a rejection is rare, and the budget
     * may have changed since the last breaker pass); the last one seen if the tracker does not answer.
     */
    private async budgetOf(team: string): Promise<number | undefined> {
        try {
            this.rememberBudgets(await this.deps.tracker.teams());
        } catch (err) {
            this.deps.log("could not read the teams' budgets", { error: String(err) });
        }
        return this.budgets.get(team);
    }

    private failed(key: string, err: unknown): void {
        if (err instanceof TrackerUnavailable) this.deps.metrics.trackerErrors.inc();
        this.deps.log("reconcile failed; retrying", {
            workload: key,
            error: err instanceof Error ? err.message : String(err),
        });
    }

    private async reconcile(key: string): Promise<void> {
        const w = this.lookup(key);
        if (!w) return;
        const holds = w.metadata.finalizers?.includes(GATE_FINALIZER) ?? false;
        if (holds && (w.metadata.deletionTimestamp || isTrue(w, "Finished"))) return this.releaseFinal(w);
        if (awaitsCheck(w, this.deps.config.admissionCheck)) return this.decide(w);
    }

    /** The workload's top owner (a Job, a Deployment, ...) and the UID its reservation is bound to. */
    async identify(w: Workload): Promise<WorkloadIdentity> {
        const cached = this.identities.get(w.metadata.uid);
        if (cached) return cached;
        const owner = controllerOwner(w);
        let identity: WorkloadIdentity = {
            namespace: w.metadata.namespace,
            kind: "Workload",
            name: w.metadata.name,
            uid: w.metadata.uid,
        };
        if (owner) {
            identity = { namespace: w.metadata.namespace, kind: owner.kind, name: owner.name, uid: owner.uid };
            // A Deployment's pods are admitted one by one: each pod reserves its own, named after the Deployment.
            let parent =
                owner.kind === "Pod"
                    ? await this.deps.kube.ownerOf(w.metadata.namespace, "Pod", owner.name)
                    : undefined;
            if (parent?.kind === "ReplicaSet")
                parent = (await this.deps.kube.ownerOf(w.metadata.namespace, "ReplicaSet", parent.name)) ?? parent;
            if (parent) identity = { ...identity, kind: parent.kind, name: parent.name };
        }
        this.identities.set(w.metadata.uid, identity);
        return identity;
    }

    private async decide(w: Workload): Promise<void> {
        const identity = await this.identify(w);
        const now = this.deps.now();
        const pricing = priceWorkload(w, identity, this.deps.config, pricedAt(w, now));
        if (pricing.kind === "free") return this.answer(w, "Ready", FREE_MESSAGE);
        if (pricing.kind === "unpriceable")
            return this.answer(w, "Rejected", `Rejected: this workload ${pricing.message}`);
        const known = this.outOfMoney.get(pricing.team);
        if (
            this.cacheEnabled &&
            !pricing.critical &&
            known?.month === monthOf(now) &&
            pricing.estimatedCostUsd > known.remainingUsd
        )
            return this.answer(
                w,
                "Retry",
                waitingMessage(pricing, known.remainingUsd, this.deps.config.retryAfterSeconds),
            );
        // The answer is applied to the workload as the finalizer left it: at the informer's older
        // resourceVersion it would meet a 409 and the whole decision (a second tracker call) would run again.
        const held = await this.holdForRelease(w);
        if (!held) return;
        w = held;
        const answer = await this.deps.tracker.reserve(
            this.reservationRequest(
                pricing,
                identity,
                `Kueue workload ${keyOf(w)} (${identity.kind} ${identity.name})`,
            ),
            reservationKey(w, pricing, now),
        );
        if (answer.outcome === "approved") {
            this.outOfMoney.delete(pricing.team);
            return this.answer(w, "Ready", approvedMessage(pricing, answer), {
                [`gpu-platform.io/budget-reservation`]: answer.id,
            });
        }
        if (answer.outcome === "invalid")
            return this.answer(w, "Rejected", `Rejected by the cost tracker: ${answer.message}`);
        if (answer.reason === "exceeds-monthly-budget")
            return this.answer(w, "Rejected", tooBigMessage(pricing, await this.budgetOf(pricing.team)));
        this.outOfMoney.set(pricing.team, { remainingUsd: answer.remainingUsd, month: monthOf(now) });
        return this.answer(
            w,
            "Retry",
            waitingMessage(pricing, answer.remainingUsd, this.deps.config.retryAfterSeconds),
        );
    }

    /** What the gate asks the tracker for: the priced workload, bound to its identity, asked as the gate's service account. */
    reservationRequest(
        pricing: Extract<Pricing, { kind: "priced" }>,
        identity: WorkloadIdentity,
        purpose: string,
    ): ReservationRequest {
        return {
            team: pricing.team,
            pool: pricing.pool,
            gpuResource: pricing.gpuResource,
            gpus: pricing.units,
            hours: pricing.hours,
            priorityClass: pricing.priorityClass,
            requester: `system:serviceaccount:${this.deps.config.lease.namespace}:${FIELD_MANAGER}`,
            purpose,
            workload: { namespace: identity.namespace, kind: identity.kind, name: identity.name, uid: identity.uid },
        };
    }

    /** Puts the gate's finalizer on the workload before anything is reserved for it; the workload as patched, or undefined if it moved on meanwhile. */
    private async holdForRelease(w: Workload): Promise<Workload | undefined> {
        if (w.metadata.finalizers?.includes(GATE_FINALIZER)) return w;
        try {
            return await this.deps.kube.patchWorkload(w, {
                metadata: { finalizers: [...(w.metadata.finalizers ?? []), GATE_FINALIZER] },
            });
        } catch (err) {
            // 409: changed since the informer saw it; the informer's next event brings it back.
            if (statusOf(err) === 409 || statusOf(err) === 404) return undefined;
            throw err;
        }
    }

    private async answer(
        w: Workload,
        state: CheckState,
        message: string,
        annotations?: Record<string, string>,
    ): Promise<void> {
        const check: AdmissionCheckState = {
            name: this.deps.config.admissionCheck,
            state,
            message: message.slice(0, 32_000),
            lastTransitionTime: timestamp(this.deps.now()),
            ...(state === "Retry" ? { requeueAfterSeconds: this.deps.config.retryAfterSeconds } : {}),
            ...(state === "Ready" && annotations
                ? { podSetUpdates: w.spec.podSets.map((p) => ({ name: p.name, annotations })) }
                : {}),
        };
        try {
            await this.deps.kube.applyCheck(w, check);
        } catch (err) {
            if (statusOf(err) === 409 || statusOf(err) === 404) return; // changed meanwhile: decided again from the new object
            throw err;
        }
        this.deps.metrics.decisions.inc({ outcome: state });
        const since = this.firstSeen.get(keyOf(w));
        if (since !== undefined) this.deps.metrics.decisionSeconds.observe((this.deps.now().getTime() - since) / 1000);
        this.firstSeen.delete(keyOf(w));
        this.deps.log("answered", { workload: keyOf(w), state, message });
    }

    /** Releases what the workload reserved, then lets it go (removes the finalizer). */
    private async releaseFinal(w: Workload): Promise<void> {
        const identity = await this.identify(w);
        const released = await this.deps.tracker.release(identity.uid, `budget-gate/${w.metadata.uid}/release/final`);
        this.deps.metrics.releases.inc(released.length);
        try {
            await this.deps.kube.patchWorkload(w, {
                metadata: { finalizers: (w.metadata.finalizers ?? []).filter((f) => f !== GATE_FINALIZER) },
            });
        } catch (err) {
            if (statusOf(err) !== 409 && statusOf(err) !== 404) throw err;
        }
        this.identities.delete(w.metadata.uid);
        this.deps.log("released", { workload: keyOf(w), reservations: released });
    }
}

/** One admission attempt of one workload: its UID and when Kueue reserved quota for it (and the month, for open-ended ones). */
export function reservationKey(w: Workload, pricing: Priced, now: Date): string {
    const attempt = Date.parse(quotaReservedAt(w) ?? "") / 1000 || 0;
    return `budget-gate/${w.metadata.uid}/${attempt}${pricing.openEnded ? `/${monthOf(now)}` : ""}`;
}

/**
 * The instant an admission attempt is priced at: when Kueue reserved quota for it (not before
 * this month began), so the run time of an open-ended workload (to the month's end) is the same
 * when the gate asks again after a restart, and the tracker replays the stored answer under the
 * same key instead of refusing a changed request.
 */
export function pricedAt(w: Workload, now: Date): Date {
    const reserved = Date.parse(quotaReservedAt(w) ?? "");
    if (!Number.isFinite(reserved) || reserved > now.getTime()) return now;
    return new Date(Math.max(reserved, monthStart(now).getTime()));
}

/** Kubernetes' metav1.Time: RFC 3339 in whole seconds. */
export const timestamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
