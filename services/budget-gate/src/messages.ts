/**
 * What the check says: one line a data scientist can act on (`kubectl describe workload`
 * shows it, and Kueue copies it into the workload's events).
 */
import type { Pricing } from "./pricing";
import type { ReservationAnswer } from "./tracker";

type Priced = Extract<Pricing, { kind: "priced" }>;

const usd = (n: number) => `$${n.toFixed(2)}`;

/** "8 x nvidia.com/gpu on h100 for 24 h" */
export function describeUse(p: Priced): string {
    const hours = p.openEnded ? `${p.hours} h, to the end of the budget month` : `${p.hours} h`;
    return `${p.units} x ${p.gpuResource} on ${p.pool} for ${hours}`;
}

export function approvedMessage(p: Priced, answer: Extract<ReservationAnswer, { outcome: "approved" }>): string {
    const adopted = answer.adopted ? " (the reservation made for it earlier, adopted)" : "";
    const flagged = answer.overBudget
        ? `; over ${p.team}'s budget, approved because ${p.priorityClass} is a critical class (flagged for review)`
        : `; ${usd(answer.remainingUsd)} left of ${p.team}'s budget this month`;
    return `Reserved ${usd(answer.estimatedCostUsd)} for ${describeUse(p)}: reservation ${answer.id}${adopted}${flagged}`;
}

export function waitingMessage(p: Priced, remainingUsd: number, retryAfterSeconds: number): string {
    return (
        `Waiting for budget: this workload needs ${usd(p.estimatedCostUsd)} (${describeUse(p)}) but ${p.team} has ` +
        `${usd(Math.max(0, remainingUsd))} left this month. It is asked again (every ${retryAfterSeconds} s) as money frees up: ` +
        `a finished workload's release, spend replacing a reservation, or the new month. To start sooner, ask for fewer GPUs ` +
        `or a shorter run (label kueue.x-k8s.io/max-exec-time-seconds)`
    );
}

export function tooBigMessage(p: Priced, monthlyBudgetUsd: number | undefined): string {
    const budget =
        monthlyBudgetUsd === undefined
            ? "its whole monthly budget"
            : `its whole monthly budget of ${usd(monthlyBudgetUsd)}`;
    return (
        `Rejected: this workload would cost ${usd(p.estimatedCostUsd)} (${describeUse(p)}), more than ${budget} for ${p.team}, ` +
        `so it could never start. Ask for fewer GPUs or a shorter run (label kueue.x-k8s.io/max-exec-time-seconds), ` +
        `or ask the platform team to raise the budget`
    );
}

export const FREE_MESSAGE = "Requests no GPU: nothing to reserve";
