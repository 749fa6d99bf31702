import { buildPlatform } from "./platform";
import { loadPlatformConfig } from "./stacks";

// Validate the whole stack config before anything is created; a bad config stops here with
// one line per problem.
const config = loadPlatformConfig();
const platform = buildPlatform(config);

export const region = config.region;
export const vpcId = platform.network.vpcId;
export const privateSubnetIds = platform.network.privateSubnetIds;
export const clusterName = platform.cluster.clusterName;
export const kubeconfig = platform.cluster.kubeconfig;
export const oidcProviderArn = platform.cluster.oidc.arn;
export const oidcProviderUrl = platform.cluster.oidc.url;
export const nodeRoleArn = platform.cluster.nodeRole.arn;
export const nodePools = Object.fromEntries(
    Object.entries(platform.nodePools).map(([name, pool]) => [
        name,
        {
            nodeGroupName: pool.nodeGroup.nodeGroupName,
            labels: pool.labels,
            gpusPerNode: pool.gpusPerNode,
            gpuSharing: pool.gpuSharing ?? null,
            resources: pool.nodeResources,
            // What one node leaves for a pod: a team's InferencePipeline takes it as pool.podRoom.
            podRoom: { cpuMillis: pool.podRoom.cpuMillis, memoryMiB: pool.podRoom.memoryMiB },
        },
    ]),
);
export const autoscalerRoleArn = platform.autoscaler?.role.arn;
/** The `runs-on` label prefix of the GitHub Actions runner inside the VPC, with `cluster.deployRunner`. */
// null without a deploy runner (dev): an undefined export would not show as an output at all.
export const deployRunnerLabel = platform.deployRunner?.runsOn ?? null;
/** Priority classes a workload may set, with the most GPUs one pod of each may request. */
export const priorityClasses = Object.fromEntries(
    config.priorityClasses.map((pc) => [pc.name, { value: pc.value, maxGpusPerPod: pc.maxGpusPerPod }]),
);
export const teamNamespaces = Object.fromEntries(
    Object.entries(platform.teams).map(([team, tenancy]) => [team, tenancy.namespaceName]),
);
export const inferencePipelines = Object.fromEntries(
    Object.entries(platform.inferencePipelines).map(([name, pipeline]) => [
        name,
        {
            inputBucket: pipeline.inputBucket.bucket,
            outputBucket: pipeline.outputBucket.bucket,
            queueUrl: pipeline.queue.url,
            deadLetterQueueUrl: pipeline.deadLetterQueue.url,
            namespace: pipeline.namespace,
        },
    ]),
);
/** The cost tracker's dashboard and API (an internal load balancer), and the secret holding its write token, when it is deployed. */
export const costTracker = platform.costTracker
    ? {
          url: platform.costTracker.url,
          apiTokenSecretArn: platform.costTracker.apiTokenSecret.arn,
          alertTopicArn: platform.costTracker.alertTopic.arn,
      }
    : null;
/** The portal's URLs and MLflow's artifact bucket, when the portal layer is deployed. */
export const portal = platform.portal
    ? {
          backstageUrl: platform.portal.backstage?.url ?? null,
          argoCdUrl: platform.portal.argoCd?.url ?? null,
          mlflowUrl: platform.portal.mlflow?.url ?? null,
          mlflowArtifactBucket: platform.portal.mlflow?.artifactBucket.bucket ?? null,
      }
    : null;
/**
 * Each host name the stack serves and the load balancer DNS name it must point at (an alias or a
 * CNAME). With the `dns` key the stack has made these records itself; without it, make them.
 */
export const hostTargets = Object.fromEntries(
    Object.entries(platform.hostTargets).map(([host, target]) => [host, target.dnsName]),
);
