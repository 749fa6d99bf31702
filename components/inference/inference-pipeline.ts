import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { GPU_TAINT, LABELS } from "@gpu-platform/catalog";
import { housekeepingRules, privateBucket } from "../shared/bucket";
import { IrsaRole, OidcProvider, PolicyStatement } from "../shared/irsa";
import { imagePinProblems } from "../shared/image-reference";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";
import { KEDA_OPERATOR } from "./keda";
import {
    GpuPoolFacts,
    PIPELINE_DEFAULTS,
    PipelineSettings,
    PipelineWorkload,
    gpuRequestProblems,
    pipelineSettingsProblems,
    resolveGpuResource,
    workerResourceProblems,
} from "./settings";

export const INFERENCE_PIPELINE_TYPE = `${PACKAGE}:inference:InferencePipeline`;

/** The S3 object tag a worker sets on an input object it has finished; the lifecycle rule expires tagged objects. */
export const PROCESSED_TAG = { key: "gpu-platform/processed", value: "true" } as const;

/**
 * On every worker pod. Cluster Autoscaler treats a Job's pods as movable (its drain rules list
 * `Job` among replicated kinds: kubernetes/autoscaler 1.35.2 simulator/drainability/rules/replicated),
 * so consolidating an underused GPU node would kill a running job; its message would come back
 * after the visibility timeout and count towards maxReceiveCount. A pod annotated
 * `safe-to-evict: "false"` blocks that (utils/drain/drain.go l.36, rules/notsafetoevict); a
 * finished pod is drainable whatever it says (rules/terminal runs first), so in practice it holds
 * the node only while it runs. KEDA copies the job template's pod metadata to every Job it starts
 * (KEDA v2.20.2 pkg/scaling/executor/scale_jobs.go generateJobs); the ScaledJob's own annotations
 * reach the Job, not its pods.
 */
export const WORKER_POD_ANNOTATIONS = { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" } as const;

/** SQS keeps a message at most 14 days (Amazon SQS quotas, "Message retention"); the dead-letter queue keeps them that long. */
const SQS_MAX_RETENTION_SECONDS = 1_209_600;
/** The longest long-poll SQS allows (ReceiveMessage WaitTimeSeconds, 0-20). */
const SQS_MAX_WAIT_SECONDS = 20;

export interface InferencePipelineArgs extends PipelineSettings {
    /** The cluster's OIDC provider (the platform stack's `oidcProviderArn` / `oidcProviderUrl`), for the IRSA roles. */
    oidc: OidcProvider;
    /** AWS region of the queue and buckets; handed to the worker and the KEDA trigger. */
    region: string;
    /**
     * The GPU pool the worker runs on: a `NodePool` (its `name`, `labels`, `nodeResources`) or
     * the platform stack's `nodePools.<name>` output with `name` added.
     */
    pool: GpuPoolFacts;
    /** Worker image, pinned by tag or digest. It must run as a non-root user (the pod is Pod Security "restricted"). */
    image: pulumi.Input<string>;
    /** GPU resource each worker requests, e.g. `"nvidia.com/mig-3g.40gb"`. Default the pool's only resource; required for MIG pools offering several. */
    gpuResource?: string;
    /** Priority class of the worker pods. Default `"production-inference"`. */
    priorityClassName?: string;
    /** `"scaled-job"` (default): one Kubernetes Job per batch of messages, never killed by scale-in. `"scaled-object"`: a Deployment KEDA scales. */
    workload?: PipelineWorkload;
    /**
     * Namespace of the worker and its KEDA objects, e.g. the owning team's, so its quota counts
     * the workers. Default the pipeline's name.
     */
    namespace?: string;
    /**
     * Create the namespace (Pod Security "restricted", team label). Default true; false to use an
     * existing one, e.g. a team's: pass the resource that creates it in `opts.dependsOn`.
     */
    createNamespace?: boolean;
    /** Team that owns the pipeline; labels the namespace and pods. Default none. */
    team?: string;
    /** Only objects under this key prefix start work. Default `""` (all). */
    inputPrefix?: string;
    /** Only objects with this key suffix start work, e.g. `".jsonl"`. Default `""` (all). */
    inputSuffix?: string;
    /** CPU the worker requests (Kubernetes quantity); must fit one node of the pool (`pool.podRoom`). Default `"4"`. */
    cpu?: string;
    /** Memory the worker requests and is limited to; must fit one node of the pool. Default `"16Gi"`. */
    memory?: string;
    /**
     * Tags on every AWS resource the pipeline creates that takes tags (buckets, queues, roles,
     * alarms), over the AWS provider's default tags, which they win against. E.g.
     * `{ team: "vision", "cost-center": "CC-2001" }` attributes the pipeline's spend to its team
     * in a stack whose default tags name the platform team. Default none.
     */
    tags?: Record<string, string>;
    /** Extra environment for the worker; the contract's variables win on a clash. Default none. */
    env?: Record<string, pulumi.Input<string>>;
    /** KMS key for both buckets (SSE-KMS with bucket keys); the worker may use it. Default SSE-S3 (AES256). */
    kmsKeyArn?: pulumi.Input<string>;
    /** SNS topic the alarms notify. Default none (alarms only change state). */
    alarmTopicArn?: pulumi.Input<string>;
    /** Protect and retain the buckets and queues, so deleting the stack cannot lose data. Default false; the platform sets it in prod. */
    protect?: boolean;
    /**
     * The KEDA install the scaling objects wait for (the platform's `Keda` component), so its
     * CRDs exist before they are applied. Leave unset when KEDA already runs in the cluster.
     */
    keda?: pulumi.Resource;
    /** The KEDA operator's service account, which the scaler role trusts. Default `keda/keda-operator`. */
    kedaOperator?: { namespace: string; serviceAccount: string };
}

/**
 * A batch-inference pipeline on a GPU pool that costs nothing while idle: objects dropped into
 * the input bucket become SQS messages, KEDA starts GPU workers while messages wait, workers
 * write results to the output bucket, and with an empty queue no worker runs, so the pool's
 * GPU nodes scale back to zero (Cluster Autoscaler, the pool's scale-from-zero tags).
 *
 * ```ts
 * new InferencePipeline("batch-embeddings", {
 *     oidc: cluster.oidcProvider, region: "us-east-1",
 *     pool: { name: "a100-mig", labels: migPool.labels, nodeResources: migPool.nodeResources },
 *     image: "…/batch-embeddings:1.4.2", gpuResource: "nvidia.com/mig-3g.40gb", maxReplicas: 8,
 * }, { providers: { aws: awsProvider, kubernetes: cluster.provider } });
 * ```
 *
 * **Worker contract.** The image receives `PIPELINE_NAME`, `QUEUE_URL`, `INPUT_BUCKET`,
 * `OUTPUT_BUCKET`, `AWS_REGION`, `JOB_TIMEOUT_SECONDS`, `MESSAGES_PER_WORKER`, `WORKER_MODE`
 * (`job` or `service`) and `PROCESSED_TAG_KEY`, plus IRSA credentials. Each SQS message is an S3
 * event notification (`Records[].s3.object.key`, URL-encoded); S3 also sends one
 * `s3:TestEvent` when the notification is set up, which the worker deletes. The worker receives
 * one message at a time; for each it reads the object, writes its results to the output bucket,
 * tags the input object `PROCESSED_TAG_KEY=true` (the lifecycle rule then expires it) and
 * deletes the message; work that outlasts `JOB_TIMEOUT_SECONDS` must extend the message's
 * visibility. In `job` mode it handles up to `MESSAGES_PER_WORKER` messages and exits 0; a
 * failure exits non-zero and the message returns after the visibility timeout, going to the
 * dead-letter queue after `maxReceiveCount` receives. In `service` mode it loops, and on
 * SIGTERM finishes its message.
 *
 * `opts.dependsOn` also applies to the pipeline's Kubernetes objects, so they wait for a
 * namespace made elsewhere (`createNamespace: false`).
 *
 * **CRDs and objects in one update.** The KEDA objects are plain `apiextensions.CustomResource`s
 * with an explicit namespace that depend on the KEDA release. On preview against a cluster
 * without the KEDA CRDs, pulumi-kubernetes skips the server-side dry run of a kind the API
 * server does not know yet and previews the inputs as given (provider.go `Create`:
 * `skipPreview := … || !k.gvkExists(newInputs)`); on update they are created after the release
 * has installed the CRDs, and the provider refreshes its REST mapping when a kind is new
 * (clients.go `ResourceClient`). `yaml/v2` and `helm/v4` resources instead need the kind's
 * scope at preview (pulumi-kubernetes#3176), and a local chart would hide the objects from
 * the policies, so neither is used.
 *
 * Cost: S3 and SQS by use; the GPU nodes only while workers run. Two CloudWatch alarms.
 */
export class InferencePipeline extends pulumi.ComponentResource {
    public readonly inputBucket: aws.s3.Bucket;
    public readonly outputBucket: aws.s3.Bucket;
    public readonly queue: aws.sqs.Queue;
    public readonly deadLetterQueue: aws.sqs.Queue;
    public readonly queuePolicy: aws.sqs.QueuePolicy;
    public readonly notification: aws.s3.BucketNotification;
    /** The worker's IRSA role: read input, write output, consume its queue. */
    public readonly workerRole: aws.iam.Role;
    /** The role KEDA assumes to read the queue's depth, and nothing else. */
    public readonly scalerRole: aws.iam.Role;
    public readonly namespace: string;
    /** The worker's name: the ScaledJob's (its Jobs are `<worker>-<suffix>`) or the Deployment's. */
    public readonly workerName: string;
    public readonly serviceAccount: k8s.core.v1.ServiceAccount;
    public readonly triggerAuthentication: k8s.apiextensions.CustomResource;
    /** The KEDA ScaledJob (default) or ScaledObject. */
    public readonly scaler: k8s.apiextensions.CustomResource;
    /** The worker Deployment, with `workload: "scaled-object"` only. */
    public readonly deployment?: k8s.apps.v1.Deployment;
    public readonly alarms: { deadLetters: aws.cloudwatch.MetricAlarm; oldestMessage: aws.cloudwatch.MetricAlarm };

    constructor(name: string, args: InferencePipelineArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("InferencePipeline", name, inferencePipelineArgsProblems(args));
        super(INFERENCE_PIPELINE_TYPE, name, {}, opts);
        const s = resolveArgs(name, args);
        ({ input: this.inputBucket, output: this.outputBucket } = this.createBuckets(name, s));
        ({
            deadLetterQueue: this.deadLetterQueue,
            queue: this.queue,
            queuePolicy: this.queuePolicy,
            notification: this.notification,
        } = this.createQueues(name, s));
        ({ worker: this.workerRole, scaler: this.scalerRole } = this.createRoles(name, s, args));
        this.namespace = s.namespace;
        this.workerName = s.workerName;
        const namespaceReady = this.namespaceReady(name, s, opts?.dependsOn);
        this.serviceAccount = this.createServiceAccount(name, s, namespaceReady);
        // KEDA's kinds exist once its release has installed the CRDs.
        const kedaReady = [...namespaceReady, ...(args.keda ? [args.keda] : [])];
        this.triggerAuthentication = this.createTriggerAuthentication(name, s, kedaReady);
        ({ scaler: this.scaler, deployment: this.deployment } = this.createWorkers(name, s, namespaceReady, kedaReady));
        this.alarms = this.createAlarms(name, s, args.alarmTopicArn);
        this.registerOutputs({
            inputBucket: this.inputBucket.bucket,
            outputBucket: this.outputBucket.bucket,
            queueUrl: this.queue.url,
            deadLetterQueueUrl: this.deadLetterQueue.url,
            workerRoleArn: this.workerRole.arn,
        });
    }

    /** Input (processed objects expire) and output buckets, private and encrypted. */
    private createBuckets(name: string, s: ResolvedPipeline) {
        const bucket = (bucketName: string, rules: aws.types.input.s3.BucketLifecycleConfigurationRule[]) =>
            privateBucket(bucketName, { rules, kmsKeyArn: s.kmsKeyArn, protect: s.protect, tags: s.tags }, this);
        const input = bucket(`${name}-input`, [
            {
                id: "expire-processed-input",
                status: "Enabled",
                filter: { tag: PROCESSED_TAG },
                expiration: { days: s.processedInputRetentionDays },
            },
            ...housekeepingRules(7),
        ]);
        return { input, output: bucket(`${name}-output`, housekeepingRules(30)) };
    }

    /** The work queue and its dead-letter queue, fed by the input bucket's notifications. */
    private createQueues(name: string, s: ResolvedPipeline) {
        const stateful: pulumi.CustomResourceOptions = { parent: this, protect: s.protect, retainOnDelete: s.protect };
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const deadLetterQueue = new aws.sqs.Queue(
            `${name}-dlq`,
            { messageRetentionSeconds: SQS_MAX_RETENTION_SECONDS, sqsManagedSseEnabled: true, tags: s.tags },
            stateful,
        );
        const queue = new aws.sqs.Queue(
            `${name}-queue`,
            {
                // A message stays hidden while the job that received it runs.
                visibilityTimeoutSeconds: s.jobTimeoutSeconds,
                receiveWaitTimeSeconds: SQS_MAX_WAIT_SECONDS,
                messageRetentionSeconds: SQS_MAX_RETENTION_SECONDS,
                // SQS-managed keys: S3 can publish without a KMS key policy granting it.
                sqsManagedSseEnabled: true,
                redrivePolicy: pulumi.jsonStringify({
                    deadLetterTargetArn: deadLetterQueue.arn,
                    maxReceiveCount: s.maxReceiveCount,
                }),
                tags: s.tags,
            },
            stateful,
        );
        const queuePolicy = new aws.sqs.QueuePolicy(
            `${name}-queue-policy`,
            {
                queueUrl: queue.url,
                policy: pulumi.jsonStringify(queuePolicyDocument(queue.arn, this.inputBucket.arn, account)),
            },
            { parent: this },
        );
        // S3 checks it may send to the queue when the notification is set: the policy comes first.
        const notification = new aws.s3.BucketNotification(
            `${name}-notification`,
            {
                bucket: this.inputBucket.id,
                queues: [
                    {
                        queueArn: queue.arn,
                        events: ["s3:ObjectCreated:*"],
                        filterPrefix: s.inputPrefix || undefined,
                        filterSuffix: s.inputSuffix || undefined,
                    },
                ],
            },
            { parent: this, dependsOn: [queuePolicy] },
        );
        return { deadLetterQueue, queue, queuePolicy, notification };
    }

    /** The worker's IRSA role, and the one KEDA's operator assumes to read the queue's depth. */
    private createRoles(name: string, s: ResolvedPipeline, args: InferencePipelineArgs) {
        const worker = new IrsaRole(
            `${name}-worker-irsa`,
            {
                oidc: args.oidc,
                namespace: s.namespace,
                serviceAccount: s.serviceAccountName,
                statements: workerStatements(
                    this.inputBucket.arn,
                    this.outputBucket.arn,
                    this.queue.arn,
                    args.kmsKeyArn,
                ),
                tags: s.tags,
            },
            { parent: this },
        ).role;
        const scaler = new IrsaRole(
            `${name}-scaler-irsa`,
            {
                oidc: args.oidc,
                namespace: s.kedaOperator.namespace,
                serviceAccount: s.kedaOperator.serviceAccount,
                statements: [
                    {
                        Sid: "ReadQueueDepth",
                        Effect: "Allow",
                        Action: ["sqs:GetQueueAttributes"],
                        Resource: [this.queue.arn],
                    },
                ],
                tags: s.tags,
            },
            { parent: this },
        ).role;
        return { worker, scaler };
    }

    /**
     * What the namespace's objects wait for: this pipeline's namespace, or the one the caller's
     * dependsOn makes (a team's). Pulumi flattens a dependsOn given as an output of a list, so it
     * may sit in the list.
     */
    private namespaceReady(
        name: string,
        s: ResolvedPipeline,
        given: pulumi.ComponentResourceOptions["dependsOn"],
    ): pulumi.Input<pulumi.Resource>[] {
        const namespace = s.createNamespace
            ? new k8s.core.v1.Namespace(
                  `${name}-namespace`,
                  { metadata: { name: s.namespace, labels: namespaceLabels(s.team) } },
                  { parent: this },
              )
            : undefined;
        const callerDependsOn =
            given === undefined ? [] : Array.isArray(given) ? given : [given as pulumi.Input<pulumi.Resource>];
        return [...callerDependsOn, ...(namespace ? [namespace] : [])];
    }

    private createServiceAccount(name: string, s: ResolvedPipeline, namespaceReady: pulumi.Input<pulumi.Resource>[]) {
        return new k8s.core.v1.ServiceAccount(
            `${name}-worker-sa`,
            {
                metadata: {
                    name: s.serviceAccountName,
                    namespace: s.namespace,
                    annotations: { "eks.amazonaws.com/role-arn": this.workerRole.arn },
                },
            },
            { parent: this, dependsOn: namespaceReady },
        );
    }

    private createTriggerAuthentication(name: string, s: ResolvedPipeline, kedaReady: pulumi.Input<pulumi.Resource>[]) {
        return new k8s.apiextensions.CustomResource(
            `${name}-trigger-auth`,
            {
                apiVersion: "keda.sh/v1alpha1",
                kind: "TriggerAuthentication",
                metadata: { name: `${name}-sqs`, namespace: s.namespace },
                spec: { podIdentity: { provider: "aws", roleArn: this.scalerRole.arn } },
            },
            { parent: this, dependsOn: kedaReady },
        );
    }

    /** The workers: a KEDA ScaledJob (default), or a Deployment that a ScaledObject scales. */
    private createWorkers(
        name: string,
        s: ResolvedPipeline,
        namespaceReady: pulumi.Input<pulumi.Resource>[],
        kedaReady: pulumi.Input<pulumi.Resource>[],
    ): { scaler: k8s.apiextensions.CustomResource; deployment?: k8s.apps.v1.Deployment } {
        const trigger = {
            type: "aws-sqs-queue",
            authenticationRef: { name: `${name}-sqs` },
            metadata: {
                queueURL: this.queue.url,
                queueLength: String(s.messagesPerReplica),
                awsRegion: s.region,
                // Messages being worked on count as load: running jobs are subtracted from it.
                scaleOnInFlight: "true",
            },
        };
        const env = workerEnv(s, {
            PIPELINE_NAME: name,
            QUEUE_URL: this.queue.url,
            INPUT_BUCKET: this.inputBucket.bucket,
            OUTPUT_BUCKET: this.outputBucket.bucket,
        });
        if (s.workload === "scaled-job") {
            const afterAuth = [...kedaReady, this.triggerAuthentication, this.serviceAccount];
            return { scaler: this.createScaledJob(name, s, trigger, env, afterAuth) };
        }
        return this.createScaledDeployment(name, s, trigger, env, namespaceReady, kedaReady);
    }

    private createScaledJob(
        name: string,
        s: ResolvedPipeline,
        trigger: Record<string, unknown>,
        env: ReturnType<typeof workerEnv>,
        dependsOn: pulumi.Input<pulumi.Resource>[],
    ) {
        return new k8s.apiextensions.CustomResource(
            `${name}-scaled-job`,
            {
                apiVersion: "keda.sh/v1alpha1",
                kind: "ScaledJob",
                metadata: { name: s.workerName, namespace: s.namespace, labels: podLabels(name, s.team) },
                spec: {
                    jobTargetRef: {
                        parallelism: 1,
                        completions: 1,
                        // SQS retries (maxReceiveCount), not Kubernetes: a failed pod's message returns to the queue.
                        backoffLimit: 0,
                        // Each of its messages may take the job timeout, and booting a GPU node from
                        // zero comes out of the job's deadline too, so it gets an allowance.
                        activeDeadlineSeconds: s.messagesPerReplica * s.jobTimeoutSeconds + s.startupAllowanceSeconds,
                        template: {
                            metadata: { labels: podLabels(name, s.team), annotations: WORKER_POD_ANNOTATIONS },
                            spec: podSpec(s, env, "Never"),
                        },
                    },
                    pollingInterval: s.pollingIntervalSeconds,
                    minReplicaCount: s.minReplicas,
                    maxReplicaCount: s.maxReplicas,
                    successfulJobsHistoryLimit: 5,
                    failedJobsHistoryLimit: 10,
                    // The default rollout deletes running jobs when the ScaledJob changes (KEDA
                    // scaledjob_controller.go); gradual lets them finish on the old spec.
                    rollout: { strategy: "gradual" },
                    scalingStrategy: { strategy: "default" },
                    triggers: [trigger],
                },
            },
            { parent: this, dependsOn },
        );
    }

    private createScaledDeployment(
        name: string,
        s: ResolvedPipeline,
        trigger: Record<string, unknown>,
        env: ReturnType<typeof workerEnv>,
        namespaceReady: pulumi.Input<pulumi.Resource>[],
        kedaReady: pulumi.Input<pulumi.Resource>[],
    ) {
        const labels = podLabels(name, s.team);
        const deployment = new k8s.apps.v1.Deployment(
            `${name}-worker`,
            {
                metadata: { name: s.workerName, namespace: s.namespace, labels },
                spec: {
                    // KEDA owns the replica count after creation.
                    replicas: s.minReplicas,
                    selector: { matchLabels: { "app.kubernetes.io/name": s.workerName } },
                    template: {
                        metadata: { labels, annotations: WORKER_POD_ANNOTATIONS },
                        // Scale-in waits for the message in hand, up to the job timeout.
                        spec: { ...podSpec(s, env, "Always"), terminationGracePeriodSeconds: s.jobTimeoutSeconds },
                    },
                },
            },
            { parent: this, dependsOn: [...namespaceReady, this.serviceAccount], ignoreChanges: ["spec.replicas"] },
        );
        const scaler = new k8s.apiextensions.CustomResource(
            `${name}-scaled-object`,
            {
                apiVersion: "keda.sh/v1alpha1",
                kind: "ScaledObject",
                metadata: { name: s.workerName, namespace: s.namespace, labels },
                spec: {
                    scaleTargetRef: { name: s.workerName },
                    pollingInterval: s.pollingIntervalSeconds,
                    cooldownPeriod: 300,
                    minReplicaCount: s.minReplicas,
                    maxReplicaCount: s.maxReplicas,
                    triggers: [trigger],
                },
            },
            { parent: this, dependsOn: [...kedaReady, this.triggerAuthentication, deployment] },
        );
        return { scaler, deployment };
    }

    /** Dead letters waiting, and work waiting too long: either means the workers are not keeping up or failing. */
    private createAlarms(name: string, s: ResolvedPipeline, topicArn: pulumi.Input<string> | undefined) {
        const actions = topicArn ? [topicArn] : [];
        const common = {
            namespace: "AWS/SQS",
            statistic: "Maximum",
            period: 300,
            evaluationPeriods: 1,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            alarmActions: actions,
            okActions: actions,
            tags: s.tags,
        };
        return {
            deadLetters: new aws.cloudwatch.MetricAlarm(
                `${name}-dlq-not-empty`,
                {
                    ...common,
                    alarmDescription: `Messages of pipeline ${name} failed ${s.maxReceiveCount} times and wait in its dead-letter queue`,
                    metricName: "ApproximateNumberOfMessagesVisible",
                    dimensions: { QueueName: this.deadLetterQueue.name },
                    threshold: 0,
                },
                { parent: this },
            ),
            oldestMessage: new aws.cloudwatch.MetricAlarm(
                `${name}-oldest-message`,
                {
                    ...common,
                    alarmDescription: `The oldest message of pipeline ${name} has waited more than ${s.oldestMessageAlarmSeconds} s`,
                    metricName: "ApproximateAgeOfOldestMessage",
                    dimensions: { QueueName: this.queue.name },
                    threshold: s.oldestMessageAlarmSeconds,
                },
                { parent: this },
            ),
        };
    }
}

/** Every problem with the arguments, keyed by argument name; the constructor throws them all at once. */
export function inferencePipelineArgsProblems(
    args: Pick<InferencePipelineArgs, keyof PipelineSettings | "pool" | "gpuResource" | "cpu" | "memory"> & {
        image?: pulumi.Input<string>;
    },
): SettingProblem[] {
    return [
        // A worker image must be pinned (a tag other than latest, or a digest); an Output is checked where it is made.
        ...(typeof args.image === "string" ? imagePinProblems("image", args.image) : []),
        ...pipelineSettingsProblems("", args),
        ...gpuRequestProblems("", args.pool, args.gpuResource, args.gpusPerWorker),
        ...workerResourceProblems("", args.pool, args.cpu, args.memory),
    ];
}

type ResolvedPipeline = Required<PipelineSettings> & {
    region: string;
    pool: GpuPoolFacts;
    image: pulumi.Input<string>;
    gpuResource: string;
    priorityClassName: string;
    workload: PipelineWorkload;
    namespace: string;
    createNamespace: boolean;
    team?: string;
    inputPrefix: string;
    inputSuffix: string;
    cpu: string;
    memory: string;
    tags?: Record<string, string>;
    env: Record<string, pulumi.Input<string>>;
    kmsKeyArn?: pulumi.Input<string>;
    protect: boolean;
    kedaOperator: { namespace: string; serviceAccount: string };
    workerName: string;
    serviceAccountName: string;
};

/** The arguments with every default applied (defaults: PIPELINE_DEFAULTS). */
function resolveArgs(name: string, args: InferencePipelineArgs): ResolvedPipeline {
    const given = Object.fromEntries(
        Object.entries(args).filter(([, value]) => value !== undefined),
    ) as InferencePipelineArgs;
    return {
        ...PIPELINE_DEFAULTS,
        namespace: name,
        createNamespace: true,
        env: {},
        protect: false,
        kedaOperator: KEDA_OPERATOR,
        ...given,
        gpuResource: resolveGpuResource(args.pool.nodeResources, args.gpuResource)!, // validated
        workerName: `${name}-worker`,
        serviceAccountName: `${name}-worker`,
    };
}

/** What the worker may do: read input (and tag it processed), write output, consume its own queue. */
export function workerStatements(
    inputBucketArn: pulumi.Input<string>,
    outputBucketArn: pulumi.Input<string>,
    queueArn: pulumi.Input<string>,
    kmsKeyArn?: pulumi.Input<string>,
): PolicyStatement[] {
    const statements: PolicyStatement[] = [
        {
            Sid: "ReadInput",
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:PutObjectTagging"],
            Resource: [pulumi.interpolate`${inputBucketArn}/*`],
        },
        {
            Sid: "WriteOutput",
            Effect: "Allow",
            Action: ["s3:PutObject"],
            Resource: [pulumi.interpolate`${outputBucketArn}/*`],
        },
        {
            Sid: "ConsumeQueue",
            Effect: "Allow",
            Action: [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes",
            ],
            Resource: [queueArn],
        },
    ];
    if (kmsKeyArn) {
        statements.push({
            Sid: "UseBucketKey",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: [kmsKeyArn],
        });
    }
    return statements;
}

/** Only S3, and only for events from this bucket in this account, may send to the queue. */
function queuePolicyDocument(
    queueArn: pulumi.Input<string>,
    bucketArn: pulumi.Input<string>,
    accountId: pulumi.Input<string>,
) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "S3EventsFromInputBucket",
                Effect: "Allow",
                Principal: { Service: "s3.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: queueArn,
                Condition: {
                    ArnEquals: { "aws:SourceArn": bucketArn },
                    StringEquals: { "aws:SourceAccount": accountId },
                },
            },
        ],
    };
}

function namespaceLabels(team: string | undefined): Record<string, string> {
    return {
        ...(team ? { [LABELS.team]: team } : {}),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
    };
}

function podLabels(pipeline: string, team: string | undefined): Record<string, string> {
    return {
        "app.kubernetes.io/name": `${pipeline}-worker`,
        "app.kubernetes.io/part-of": pipeline,
        ...(team ? { [LABELS.team]: team } : {}),
    };
}

/** The worker contract's environment, then the caller's extras. */
function workerEnv(
    s: ResolvedPipeline,
    outputs: Record<string, pulumi.Input<string>>,
): k8s.types.input.core.v1.EnvVar[] {
    const contract: Record<string, pulumi.Input<string>> = {
        ...outputs,
        AWS_REGION: s.region,
        JOB_TIMEOUT_SECONDS: String(s.jobTimeoutSeconds),
        MESSAGES_PER_WORKER: String(s.messagesPerReplica),
        WORKER_MODE: s.workload === "scaled-job" ? "job" : "service",
        PROCESSED_TAG_KEY: PROCESSED_TAG.key,
    };
    return Object.entries({ ...s.env, ...contract }).map(([name, value]) => ({ name, value }));
}

/** The worker pod: on the pool's nodes, tolerating the GPU taint, GPUs requested and limited alike. */
function podSpec(
    s: ResolvedPipeline,
    env: k8s.types.input.core.v1.EnvVar[],
    restartPolicy: "Never" | "Always",
): k8s.types.input.core.v1.PodSpec {
    const gpus = { [s.gpuResource]: String(s.gpusPerWorker) };
    return {
        serviceAccountName: s.serviceAccountName,
        restartPolicy,
        priorityClassName: s.priorityClassName,
        nodeSelector: { [LABELS.pool]: s.pool.labels[LABELS.pool] ?? s.pool.name },
        tolerations: [{ key: GPU_TAINT.key, operator: "Equal", value: GPU_TAINT.value, effect: GPU_TAINT.effect }],
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
            {
                name: "worker",
                image: s.image,
                env,
                resources: {
                    // Extended resources cannot be overcommitted: Kubernetes requires requests = limits for GPUs.
                    requests: { cpu: s.cpu, memory: s.memory, ...gpus },
                    limits: { memory: s.memory, ...gpus },
                },
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            },
        ],
    };
}
