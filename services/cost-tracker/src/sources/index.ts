/** The sources the config document names, wired to their real clients. */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { CostExplorerClient } from "@aws-sdk/client-cost-explorer";
import type { CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { CostExplorerSource } from "./cost-explorer";
import { GpuAllocationSource } from "./gpu-allocation";
import { kubernetesApiTransport } from "./kubernetes-api";
import { OpenCostSource } from "./opencost";
import { PipelineInputsSource } from "./pipeline-inputs";
import { PrometheusClient } from "./prometheus";
import { directTransport, type HttpTransport, type UsageSource } from "./source";

export function sourcesFor(
    config: CostTrackerConfig,
    now: () => Date,
): { sources: UsageSource[]; prometheus?: PrometheusClient; pipelineInputs?: PipelineInputsSource } {
    const teams = config.teams.map((t) => t.name);
    const { opencost, costExplorer, prometheus: promConfig, kubernetesApi } = config.sources;
    // In-cluster sources under the API server's URL go through its service proxy, with an EKS token.
    const throughApi = kubernetesApi && kubernetesApiTransport(kubernetesApi, { now });
    const transportFor = (url: string): HttpTransport =>
        throughApi && url.startsWith(`${kubernetesApi.server}/`) ? throughApi : directTransport;
    const prometheus =
        promConfig &&
        new PrometheusClient({
            url: promConfig.url,
            namespaceLabel: promConfig.namespaceLabel,
            poolLabel: config.labels.pool,
            transport: transportFor(promConfig.url),
        });
    const sources: UsageSource[] = [];
    if (prometheus) sources.push(new GpuAllocationSource({ prometheus, config, now }));
    if (opencost) {
        // With Prometheus, GPU nodes are gpu-allocation's: if their map cannot be read, OpenCost's run fails rather than count them twice.
        const nodePools = prometheus && ((signal: AbortSignal) => prometheus.nodePools(signal));
        sources.push(
            new OpenCostSource({
                url: opencost.url,
                teams,
                teamLabel: config.labels.team,
                nodePools,
                now,
                transport: transportFor(opencost.url),
            }),
        );
    }
    if (costExplorer) {
        // Credentials from the default provider chain: the task role on Fargate.
        sources.push(
            new CostExplorerSource({
                client: new CostExplorerClient({ region: costExplorer.region }),
                tagKey: costExplorer.tagKey,
                metric: costExplorer.metric,
                clusterTagValue: costExplorer.clusterTagValue,
                closeDay: costExplorer.closeDay,
                lookbackDays: config.sources.lookbackDays,
                teams,
            }),
        );
    }
    const inputs = config.sources.pipelineInputs;
    // Credentials from the default provider chain, as Cost Explorer's.
    const pipelineInputs =
        inputs &&
        new PipelineInputsSource({
            client: new CloudWatchClient({ region: inputs.region }),
            pipelines: inputs.pipelines,
        });
    return { sources, prometheus, pipelineInputs };
}
