/** The sources the config document names, wired to their real clients. */
import { CostExplorerClient } from "@aws-sdk/client-cost-explorer";
import type { CostTrackerConfig } from "../../../../components/costs/tracker-config";
import { CostExplorerSource } from "./cost-explorer";
import { OpenCostSource } from "./opencost";
import { PrometheusClient } from "./prometheus";
import type { UsageSource } from "./source";

export function sourcesFor(config: CostTrackerConfig, now: () => Date): { sources: UsageSource[]; prometheus?: PrometheusClient } {
    const teams = config.teams.map((t) => t.name);
    const { opencost, costExplorer, prometheus: promConfig } = config.sources;
    const prometheus = promConfig && new PrometheusClient({ url: promConfig.url, namespaceLabel: promConfig.namespaceLabel, poolLabel: config.labels.pool });
    const sources: UsageSource[] = [];
    if (opencost) {
        // Prometheus out of reach leaves GPU spend unattributed to a pool rather than failing OpenCost's run.
        const nodePools = prometheus && ((signal: AbortSignal) => prometheus.nodePools(signal).catch(() => new Map<string, string>()));
        sources.push(new OpenCostSource({ url: opencost.url, teams, teamLabel: config.labels.team, nodePools, now }));
    }
    if (costExplorer) {
        // Credentials from the default provider chain: the task role on Fargate.
        sources.push(new CostExplorerSource({ client: new CostExplorerClient({ region: costExplorer.region }), tagKey: costExplorer.tagKey, teams }));
    }
    return { sources, prometheus };
}
