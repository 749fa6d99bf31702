import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { InferencePipeline } from "@gpu-platform/components/inference";

type PoolOutput = { labels: Record<string, string>; resources: Record<string, number> };

export = async () => {
    const stack = pulumi.getStack();
    // The platform's production cluster, which every team's stacks share.
    const platform = new pulumi.StackReference("acme/gpu-platform/prod");
    const region = (await platform.requireOutputValue("region")) as string;
    // Scheduling facts are plain values: the component checks the GPU request against them before creating anything.
    const h100 = ((await platform.requireOutputValue("nodePools")) as Record<string, PoolOutput>)["h100"];
    if (h100 === undefined) throw new Error('the platform stack has no "h100" node pool');

    // The team is one of the platform's teams: its namespace, quota and budget are the platform's.
    const awsProvider = new aws.Provider("ml-research-aws", {
        region: region as aws.Region,
        defaultTags: {
            tags: { team: "ml-research", "cost-center": "CC-1001", environment: stack, budget: `ml-research-${stack}` },
        },
    });
    const cluster = new k8s.Provider("platform-cluster", {
        kubeconfig: platform.requireOutput("kubeconfig"),
        enableServerSideApply: true,
    });

    const captions = new InferencePipeline(
        "vision-captions",
        {
            oidc: { arn: platform.requireOutput("oidcProviderArn"), url: platform.requireOutput("oidcProviderUrl") },
            region,
            pool: { name: "h100", labels: h100.labels, nodeResources: h100.resources },
            image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/vision/captions:3.1.0",
            maxReplicas: 4,
            jobTimeoutSeconds: 5400,
            inputSuffix: ".parquet",
            team: "ml-research",
            // Run in the team's namespace, which the platform made, under the team's quota and policies.
            namespace: "ml-research",
            createNamespace: false,
            protect: stack === "prod",
        },
        { providers: { aws: awsProvider, kubernetes: cluster } },
    );
    return {
        inputBucket: captions.inputBucket.bucket,
        outputBucket: captions.outputBucket.bucket,
        queueUrl: captions.queue.url,
    };
};
