/** The gate's Prometheus metrics, on a registry of its own. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface GateMetrics {
    readonly registry: Registry;
    readonly decisions: Counter<"outcome">;
    readonly decisionSeconds: Histogram;
    readonly trackerErrors: Counter;
    readonly releases: Counter;
    readonly deactivations: Counter<"team">;
    readonly leader: Gauge;
}

export function createMetrics(withDefaults = true): GateMetrics {
    const registry = new Registry();
    if (withDefaults) collectDefaultMetrics({ register: registry });
    return {
        registry,
        decisions: new Counter({
            name: "budget_gate_decisions_total",
            help: "Admission check answers, by outcome (Ready, Retry, Rejected)",
            labelNames: ["outcome"],
            registers: [registry],
        }),
        decisionSeconds: new Histogram({
            name: "budget_gate_decision_seconds",
            help: "From a workload awaiting the check to the gate's answer on it",
            buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
            registers: [registry],
        }),
        trackerErrors: new Counter({
            name: "budget_gate_tracker_errors_total",
            help: "Calls to the cost tracker that got no usable answer (the check stays Pending and is asked again)",
            registers: [registry],
        }),
        releases: new Counter({
            name: "budget_gate_releases_total",
            help: "Reservations released by workload",
            registers: [registry],
        }),
        deactivations: new Counter({
            name: "budget_gate_deactivations_total",
            help: "Running workloads the circuit breaker deactivated, by team",
            labelNames: ["team"],
            registers: [registry],
        }),
        leader: new Gauge({
            name: "budget_gate_leader",
            help: "1 while this replica holds the lease",
            registers: [registry],
        }),
    };
}
