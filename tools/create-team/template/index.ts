import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { InferencePipeline } from "@gpu-platform/components/inference";

type PoolOutput = { labels: Record<string, string>; resources: Record<string, number> };

export = async () => {
    const stack = pulumi.getStack();
    // Pulumi.yaml declares each key; Pulumi.<stack>.yaml holds the values.
    const config = new pulumi.Config();
    const team = config.require("team");
    const poolName = config.require("pool");
    // The platform's stack, whose cluster every team's stacks share.
    const platform = new pulumi.StackReference(config.require("platformStack"));
    const region = (await platform.requireOutputValue("region")) as string;
    // Scheduling facts are plain values: the component checks the GPU request against them before creating anything.
    const pools = (await platform.requireOutputValue("nodePools")) as Record<string, PoolOutput>;
    const pool = pools[poolName];
    if (pool === undefined) {
        throw new pulumi.RunError(
            `pool: the platform stack has no node pool "${poolName}" (it has ${Object.keys(pools).sort().join(", ")})`,
        );
    }

    // The team is one of the platform's teams: its namespace, quota and budget are the platform's.
    const awsProvider = new aws.Provider(`${team}-aws`, {
        region: region as aws.Region,
        defaultTags: {
            tags: { team, "cost-center": config.require("costCenter"), environment: stack, budget: `${team}-${stack}` },
        },
    });
    const cluster = new k8s.Provider("platform-cluster", {
        kubeconfig: platform.requireOutput("kubeconfig"),
        enableServerSideApply: true,
    });

    const pipeline = new InferencePipeline(
        pulumi.getProject(),
        {
            oidc: { arn: platform.requireOutput("oidcProviderArn"), url: platform.requireOutput("oidcProviderUrl") },
            region,
            pool: { name: poolName, labels: pool.labels, nodeResources: pool.resources },
            image: config.require("image"),
            maxReplicas: 4,
            jobTimeoutSeconds: 5400,
            inputSuffix: ".parquet",
            team,
            // Run in the team's namespace, which the platform made, under the team's quota and policies.
            namespace: team,
            createNamespace: false,
            protect: stack === "prod",
        },
        { providers: { aws: awsProvider, kubernetes: cluster } },
    );
    return {
        inputBucket: pipeline.inputBucket.bucket,
        outputBucket: pipeline.outputBucket.bucket,
        queueUrl: pipeline.queue.url,
    };
};
