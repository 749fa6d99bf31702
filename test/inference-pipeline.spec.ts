import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { transformSync } from "esbuild";
import { PROJECT, REPO_ROOT, named, ofType, record, recording, stackConfig, validStackConfig } from "./harness";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { buildPlatform } from "../platform";
import { validatePlatformConfig } from "../stacks";
import { InferencePipeline, InferencePipelineArgs, inferencePipelineArgsProblems } from "../components/inference";

const SCALED_JOB = "kubernetes:keda.sh/v1alpha1:ScaledJob";
const TRIGGER_AUTH = "kubernetes:keda.sh/v1alpha1:TriggerAuthentication";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const QUEUE = "aws:sqs/queue:Queue";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const OIDC_HOST = "oidc.eks.us-east-1.amazonaws.com/id/PLACEHOLDER";
const ACCOUNT = "123456789012";

function json(resource: RecordedResource, input: string): any {
    return JSON.parse(resource.inputs[input] as string);
}

/** Every resource below `urn` in the component tree. */
function descendantsOf(resources: RecordedResource[], urn: string): RecordedResource[] {
    const children = resources.filter((r) => r.parent === urn);
    return children.flatMap((child) => [child, ...descendantsOf(resources, child.urn)]);
}

function trustedSubject(role: RecordedResource): string {
    return json(role, "assumeRolePolicy").Statement[0].Condition.StringEquals[`${OIDC_HOST}:sub`];
}

describe("inference pipeline (prod config: batch-embeddings on the a100-mig pool)", () => {
    let resources: RecordedResource[];
    let queueArn: string;
    let queueUrl: string;
    const inputArn = "arn:aws:s3:::batch-embeddings-input";
    const outputArn = "arn:aws:s3:::batch-embeddings-output";

    before(async () => {
        ({ resources } = await record(() => buildPlatform(validStackConfig("prod"))));
        const queue = named(resources, QUEUE, "batch-embeddings-queue");
        queueArn = queue.outputs.arn as string;
        queueUrl = queue.outputs.url as string;
    });

    it("builds the whole chain inside the pipeline component: buckets, queues, notification, IAM, KEDA objects and alarms", () => {
        const pipeline = named(resources, "gpu-platform:inference:InferencePipeline", "batch-embeddings");
        const children = descendantsOf(resources, pipeline.urn).map((r) => `${r.type} ${r.name}`);
        for (const expected of [
            "aws:s3/bucket:Bucket batch-embeddings-input",
            "aws:s3/bucket:Bucket batch-embeddings-output",
            `${QUEUE} batch-embeddings-queue`,
            `${QUEUE} batch-embeddings-dlq`,
            "aws:sqs/queuePolicy:QueuePolicy batch-embeddings-queue-policy",
            "aws:s3/bucketNotification:BucketNotification batch-embeddings-notification",
            `${ROLE} batch-embeddings-worker-irsa-role`,
            `${ROLE} batch-embeddings-scaler-irsa-role`,
            "kubernetes:core/v1:ServiceAccount batch-embeddings-worker-sa",
            `${TRIGGER_AUTH} batch-embeddings-trigger-auth`,
            `${SCALED_JOB} batch-embeddings-scaled-job`,
            `${ALARM} batch-embeddings-dlq-not-empty`,
            `${ALARM} batch-embeddings-oldest-message`,
        ]) {
            assert.ok(children.includes(expected), `missing ${expected}`);
        }
        assert.strictEqual(
            // The budget gate's Deployment (scheduling) is the platform's, not the pipeline's.
            ofType(resources, "kubernetes:apps/v1:Deployment").filter(
                (r) => !r.name.startsWith("gpu-platform-prod-budget-gate-"),
            ).length,
            0,
            "a ScaledJob needs no Deployment",
        );
        assert.ok(
            !children.some((c) => c.startsWith("kubernetes:core/v1:Namespace ")),
            "it runs in its team's namespace, and makes none",
        );
    });

    for (const role of ["input", "output"]) {
        it(`keeps the ${role} bucket private, encrypted, versioned, owner-enforced and TLS-only`, () => {
            const bucket = `batch-embeddings-${role}`;
            const encryption = named(
                resources,
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                `${bucket}-encryption`,
            );
            assert.deepStrictEqual((encryption.inputs.rules as any[])[0].applyServerSideEncryptionByDefault, {
                sseAlgorithm: "AES256",
            });
            assert.deepStrictEqual(
                named(resources, "aws:s3/bucketVersioning:BucketVersioning", `${bucket}-versioning`).inputs
                    .versioningConfiguration,
                { status: "Enabled" },
            );
            const publicAccess = named(
                resources,
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                `${bucket}-public-access`,
            ).inputs;
            for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
                assert.strictEqual(publicAccess[flag], true, flag);
            }
            assert.deepStrictEqual(
                named(resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", `${bucket}-ownership`).inputs
                    .rule,
                {
                    objectOwnership: "BucketOwnerEnforced",
                },
            );
            const [statement] = json(
                named(resources, "aws:s3/bucketPolicy:BucketPolicy", `${bucket}-policy`),
                "policy",
            ).Statement;
            assert.strictEqual(statement.Effect, "Deny");
            assert.strictEqual(statement.Action, "s3:*");
            assert.deepStrictEqual(statement.Resource, [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`]);
            assert.deepStrictEqual(statement.Condition, { Bool: { "aws:SecureTransport": "false" } });
        });
    }

    it("expires input objects a worker has tagged processed, and old versions of both buckets", () => {
        const rules = named(
            resources,
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "batch-embeddings-input-lifecycle",
        ).inputs.rules as any[];
        const processed = rules.find((r) => r.id === "expire-processed-input");
        assert.deepStrictEqual(processed.filter, { tag: { key: "gpu-platform/processed", value: "true" } });
        assert.deepStrictEqual(processed.expiration, { days: 7 });
        assert.deepStrictEqual(rules.find((r) => r.id === "expire-old-versions").noncurrentVersionExpiration, {
            noncurrentDays: 7,
        });
        const output = named(
            resources,
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "batch-embeddings-output-lifecycle",
        ).inputs.rules as any[];
        assert.deepStrictEqual(
            output.map((r) => r.id),
            ["expire-old-versions"],
            "results are kept",
        );
    });

    it("queues new .jsonl objects under incoming/, after the queue policy lets S3 send", () => {
        const notification = named(
            resources,
            "aws:s3/bucketNotification:BucketNotification",
            "batch-embeddings-notification",
        );
        assert.strictEqual(
            notification.inputs.bucket,
            "batch-embeddings-input",
            "the input bucket's id, which is its name",
        );
        assert.deepStrictEqual(notification.inputs.queues, [
            { queueArn, events: ["s3:ObjectCreated:*"], filterPrefix: "incoming/", filterSuffix: ".jsonl" },
        ]);
        const queuePolicy = named(resources, "aws:sqs/queuePolicy:QueuePolicy", "batch-embeddings-queue-policy");
        assert.ok(notification.dependencies.includes(queuePolicy.urn), "the notification waits for the queue policy");
    });

    it("encrypts the queue, long-polls, hides a message for the job timeout and moves it to the DLQ after 3 receives", () => {
        const queue = named(resources, QUEUE, "batch-embeddings-queue").inputs;
        const dlq = named(resources, QUEUE, "batch-embeddings-dlq");
        assert.strictEqual(queue.sqsManagedSseEnabled, true);
        assert.strictEqual(queue.receiveWaitTimeSeconds, 20);
        assert.strictEqual(queue.visibilityTimeoutSeconds, 7200, "jobTimeoutSeconds from Pulumi.prod.yaml");
        assert.deepStrictEqual(JSON.parse(queue.redrivePolicy as string), {
            deadLetterTargetArn: dlq.outputs.arn,
            maxReceiveCount: 3,
        });
        assert.strictEqual(dlq.inputs.sqsManagedSseEnabled, true);
        assert.strictEqual(dlq.inputs.messageRetentionSeconds, 1_209_600, "14 days, the SQS maximum");
    });

    it("accepts messages only from S3 for this bucket in this account", () => {
        const policy = json(
            named(resources, "aws:sqs/queuePolicy:QueuePolicy", "batch-embeddings-queue-policy"),
            "policy",
        );
        assert.deepStrictEqual(policy.Statement, [
            {
                Sid: "S3EventsFromInputBucket",
                Effect: "Allow",
                Principal: { Service: "s3.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: queueArn,
                Condition: { ArnEquals: { "aws:SourceArn": inputArn }, StringEquals: { "aws:SourceAccount": ACCOUNT } },
            },
        ]);
    });

    it("lets the worker read input, write output and consume its own queue, every statement scoped to an ARN", () => {
        const statements = json(
            named(resources, ROLE_POLICY, "batch-embeddings-worker-irsa-policy"),
            "policy",
        ).Statement;
        assert.deepStrictEqual(
            statements.map((s: any) => [s.Effect, s.Action, s.Resource]),
            [
                ["Allow", ["s3:GetObject", "s3:PutObjectTagging"], [`${inputArn}/*`]],
                ["Allow", ["s3:PutObject"], [`${outputArn}/*`]],
                [
                    "Allow",
                    [
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes",
                    ],
                    [queueArn],
                ],
            ],
        );
        assert.ok(
            statements.every((s: any) => s.Action.every((a: string) => !a.includes("*"))),
            "no wildcard actions",
        );
        const role = named(resources, ROLE, "batch-embeddings-worker-irsa-role");
        assert.strictEqual(trustedSubject(role), "system:serviceaccount:inference:batch-embeddings-worker");
        const serviceAccount = named(resources, "kubernetes:core/v1:ServiceAccount", "batch-embeddings-worker-sa")
            .inputs.metadata as any;
        assert.strictEqual(serviceAccount.annotations["eks.amazonaws.com/role-arn"], role.outputs.arn);
        assert.strictEqual(serviceAccount.namespace, "inference");
    });

    it("gives KEDA a scaler role that can only read this queue's depth, assumed with the operator's identity", () => {
        const statements = json(
            named(resources, ROLE_POLICY, "batch-embeddings-scaler-irsa-policy"),
            "policy",
        ).Statement;
        assert.deepStrictEqual(
            statements.map((s: any) => [s.Effect, s.Action, s.Resource]),
            [["Allow", ["sqs:GetQueueAttributes"], [queueArn]]],
        );
        const scaler = named(resources, ROLE, "batch-embeddings-scaler-irsa-role");
        assert.strictEqual(trustedSubject(scaler), "system:serviceaccount:keda:keda-operator");
        const auth = named(resources, TRIGGER_AUTH, "batch-embeddings-trigger-auth").inputs as any;
        assert.deepStrictEqual(auth.metadata, { name: "batch-embeddings-sqs", namespace: "inference" });
        assert.deepStrictEqual(auth.spec, { podIdentity: { provider: "aws", roleArn: scaler.outputs.arn } });
    });

    it("triggers on the queue's depth, one message per worker, through the TriggerAuthentication", () => {
        const spec = named(resources, SCALED_JOB, "batch-embeddings-scaled-job").inputs.spec as any;
        assert.deepStrictEqual(spec.triggers, [
            {
                type: "aws-sqs-queue",
                authenticationRef: { name: "batch-embeddings-sqs" },
                metadata: { queueURL: queueUrl, queueLength: "1", awsRegion: "us-east-1", scaleOnInFlight: "true" },
            },
        ]);
    });

    it("runs each worker as a Job on one 3g.40gb MIG slice of the a100-mig pool, tolerating the GPU taint, with its priority class", () => {
        const scaledJob = named(resources, SCALED_JOB, "batch-embeddings-scaled-job").inputs as any;
        const { jobTargetRef } = scaledJob.spec;
        const pod = jobTargetRef.template.spec;
        const [worker] = pod.containers;
        assert.strictEqual(
            worker.image,
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/inference/batch-embeddings:1.4.2",
        );
        assert.strictEqual(worker.resources.requests["nvidia.com/mig-3g.40gb"], "1");
        assert.strictEqual(worker.resources.limits["nvidia.com/mig-3g.40gb"], "1");
        assert.strictEqual(worker.resources.requests["nvidia.com/gpu"], undefined);
        assert.deepStrictEqual(pod.tolerations, [
            { key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" },
        ]);
        assert.deepStrictEqual(pod.nodeSelector, { "gpu-platform/pool": "a100-mig" });
        assert.strictEqual(pod.priorityClassName, "production-inference");
        assert.strictEqual(pod.serviceAccountName, "batch-embeddings-worker");
        assert.strictEqual(pod.restartPolicy, "Never");
        assert.strictEqual(pod.securityContext.runAsNonRoot, true);
        assert.deepStrictEqual(worker.securityContext, {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
        });
        assert.strictEqual(jobTargetRef.backoffLimit, 0, "retries are SQS's (maxReceiveCount), not the Job's");
        assert.strictEqual(
            jobTargetRef.activeDeadlineSeconds,
            7200 + 1800,
            "the job timeout plus time for a GPU node to boot",
        );
        assert.deepStrictEqual(
            scaledJob.spec.rollout,
            { strategy: "gradual" },
            "changing the ScaledJob must not kill running jobs",
        );
        assert.deepStrictEqual(scaledJob.metadata, {
            name: "batch-embeddings-worker",
            namespace: "inference",
            labels: {
                "app.kubernetes.io/name": "batch-embeddings-worker",
                "app.kubernetes.io/part-of": "batch-embeddings",
                "gpu-platform/team": "inference",
            },
        });
    });

    it("hands the worker its environment contract", () => {
        const [worker] = (named(resources, SCALED_JOB, "batch-embeddings-scaled-job").inputs as any).spec.jobTargetRef
            .template.spec.containers;
        const env = Object.fromEntries(worker.env.map((e: any) => [e.name, e.value]));
        assert.deepStrictEqual(env, {
            PIPELINE_NAME: "batch-embeddings",
            QUEUE_URL: queueUrl,
            INPUT_BUCKET: "batch-embeddings-input",
            OUTPUT_BUCKET: "batch-embeddings-output",
            AWS_REGION: "us-east-1",
            JOB_TIMEOUT_SECONDS: "7200",
            MESSAGES_PER_WORKER: "1",
            WORKER_MODE: "job",
            PROCESSED_TAG_KEY: "gpu-platform/processed",
        });
    });

    it("scales to zero at both layers: no worker while the queue is empty, and a GPU pool the autoscaler can start from zero", () => {
        const spec = named(resources, SCALED_JOB, "batch-embeddings-scaled-job").inputs.spec as any;
        assert.strictEqual(spec.minReplicaCount, 0);
        assert.strictEqual(spec.maxReplicaCount, 8);
        assert.strictEqual(spec.pollingInterval, 30);
        const group = named(resources, "aws:eks/nodeGroup:NodeGroup", "a100-mig-group").inputs.scalingConfig as any;
        assert.strictEqual(group.minSize, 0);
        // A pending worker fits a node the autoscaler has not started yet only if the ASG says what a node offers.
        const resourceTag = ofType(resources, "aws:autoscaling/tag:Tag")
            .map((t) => t.inputs.tag as any)
            .find((tag) => tag.key === "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/mig-3g.40gb");
        assert.strictEqual(resourceTag?.value, "8");
    });

    it("applies the KEDA objects after the KEDA release, each in an explicit namespace, so a fresh cluster previews and applies in one update", () => {
        const release = named(resources, "kubernetes:helm.sh/v3:Release", "gpu-platform-prod-keda-release");
        for (const object of [...ofType(resources, TRIGGER_AUTH), ...ofType(resources, SCALED_JOB)]) {
            assert.ok(object.dependencies.includes(release.urn), `${object.name} waits for the KEDA CRDs`);
            assert.strictEqual((object.inputs.metadata as any).namespace, "inference", object.name);
            assert.strictEqual(
                object.custom,
                true,
                "a plain CustomResource, visible to policies, not rendered by a chart",
            );
        }
    });

    it("alarms when the dead-letter queue holds a message and when the oldest message waits over an hour", () => {
        const dlq = named(resources, ALARM, "batch-embeddings-dlq-not-empty").inputs as any;
        assert.strictEqual(dlq.metricName, "ApproximateNumberOfMessagesVisible");
        assert.deepStrictEqual(dlq.dimensions, {
            QueueName: named(resources, QUEUE, "batch-embeddings-dlq").outputs.name,
        });
        assert.strictEqual(dlq.comparisonOperator, "GreaterThanThreshold");
        assert.strictEqual(dlq.threshold, 0);
        const oldest = named(resources, ALARM, "batch-embeddings-oldest-message").inputs as any;
        assert.strictEqual(oldest.metricName, "ApproximateAgeOfOldestMessage");
        assert.deepStrictEqual(oldest.dimensions, {
            QueueName: named(resources, QUEUE, "batch-embeddings-queue").outputs.name,
        });
        assert.strictEqual(oldest.threshold, 3600);
        for (const alarm of [dlq, oldest]) {
            assert.strictEqual(alarm.namespace, "AWS/SQS");
            assert.deepStrictEqual(alarm.alarmActions, [], "prod config names no SNS topic");
        }
    });
});

/** A100 80 GB MIG pool facts, as a NodePool gives them. */
const MIG_POOL = {
    name: "a100-mig",
    labels: { "gpu-platform/pool": "a100-mig" },
    nodeResources: { "nvidia.com/mig-3g.40gb": 8, "nvidia.com/mig-1g.10gb": 16 },
};
const H100_POOL = { name: "h100", labels: { "gpu-platform/pool": "h100" }, nodeResources: { "nvidia.com/gpu": 8 } };

function args(overrides: Partial<InferencePipelineArgs> = {}): InferencePipelineArgs {
    return {
        oidc: { arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${OIDC_HOST}`, url: `https://${OIDC_HOST}` },
        region: "us-east-1",
        pool: H100_POOL,
        image: "registry.example.com/team/worker:2.0.0",
        ...overrides,
    };
}

describe("InferencePipeline component", () => {
    it("protects and retains buckets and queues when asked, and only then", async () => {
        for (const protect of [true, false]) {
            const options: Record<string, pulumi.CustomResourceOptions> = {};
            const capture: pulumi.ResourceTransformation = ({ name, opts }) => {
                options[name] = opts;
                return undefined;
            };
            await record(() => new InferencePipeline("team-batch", args({ protect }), { transformations: [capture] }));
            for (const name of ["team-batch-input", "team-batch-output", "team-batch-queue", "team-batch-dlq"]) {
                assert.strictEqual(options[name].protect ?? false, protect, `${name} protect`);
                assert.strictEqual(options[name].retainOnDelete ?? false, protect, `${name} retainOnDelete`);
            }
        }
    });

    it("offers a Deployment scaled by a ScaledObject, whose scale-in waits for the message in hand", async () => {
        const { resources } = await record(
            () =>
                new InferencePipeline(
                    "svc",
                    args({ workload: "scaled-object", gpusPerWorker: 2, minReplicas: 0, maxReplicas: 3 }),
                ),
        );
        assert.strictEqual(ofType(resources, SCALED_JOB).length, 0);
        const deployment = named(resources, "kubernetes:apps/v1:Deployment", "svc-worker").inputs as any;
        const pod = deployment.spec.template.spec;
        assert.strictEqual(deployment.spec.replicas, 0);
        assert.strictEqual(pod.terminationGracePeriodSeconds, 3600);
        assert.strictEqual(pod.containers[0].resources.requests["nvidia.com/gpu"], "2");
        assert.strictEqual(pod.containers[0].resources.limits["nvidia.com/gpu"], "2");
        assert.strictEqual(pod.containers[0].env.find((e: any) => e.name === "WORKER_MODE").value, "service");
        const scaledObject = named(resources, "kubernetes:keda.sh/v1alpha1:ScaledObject", "svc-scaled-object")
            .inputs as any;
        assert.deepStrictEqual(scaledObject.spec.scaleTargetRef, { name: "svc-worker" });
        assert.strictEqual(scaledObject.spec.minReplicaCount, 0);
        assert.strictEqual(scaledObject.spec.maxReplicaCount, 3);
        assert.strictEqual(scaledObject.spec.triggers[0].type, "aws-sqs-queue");
    });

    it("uses a caller's KMS key for both buckets and lets the worker use that key only", async () => {
        const key = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
        const { resources } = await record(() => new InferencePipeline("kms", args({ kmsKeyArn: key })));
        for (const bucket of ["kms-input", "kms-output"]) {
            const [rule] = named(
                resources,
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                `${bucket}-encryption`,
            ).inputs.rules as any[];
            assert.deepStrictEqual(rule, {
                applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key },
                bucketKeyEnabled: true,
            });
        }
        const kms = json(named(resources, ROLE_POLICY, "kms-worker-irsa-policy"), "policy").Statement.find(
            (s: any) => s.Sid === "UseBucketKey",
        );
        assert.deepStrictEqual([kms.Action, kms.Resource], [["kms:Decrypt", "kms:GenerateDataKey"], [key]]);
    });

    it("uses an existing namespace, e.g. a team's, without creating one, and notifies an SNS topic from its alarms", async () => {
        const topic = `arn:aws:sns:us-east-1:${ACCOUNT}:inference-alerts`;
        const { resources } = await record(
            () =>
                new InferencePipeline(
                    "shared",
                    args({ namespace: "applied-ml", createNamespace: false, alarmTopicArn: topic }),
                ),
        );
        assert.strictEqual(ofType(resources, "kubernetes:core/v1:Namespace").length, 0);
        assert.strictEqual(
            (named(resources, SCALED_JOB, "shared-scaled-job").inputs.metadata as any).namespace,
            "applied-ml",
        );
        assert.strictEqual(
            trustedSubject(named(resources, ROLE, "shared-worker-irsa-role")),
            "system:serviceaccount:applied-ml:shared-worker",
        );
        for (const alarm of ofType(resources, ALARM)) {
            assert.deepStrictEqual([alarm.inputs.alarmActions, alarm.inputs.okActions], [[topic], [topic]], alarm.name);
        }
    });

    it("takes the pool's only GPU resource by default", async () => {
        const { resources } = await record(() => new InferencePipeline("plain", args()));
        const [worker] = (named(resources, SCALED_JOB, "plain-scaled-job").inputs as any).spec.jobTargetRef.template
            .spec.containers;
        assert.deepStrictEqual(worker.resources.limits, { memory: "16Gi", "nvidia.com/gpu": "1" });
    });

    it("rejects bad arguments with every problem named, before creating anything", async () => {
        let thrown: unknown;
        const { resources } = await record(() => {
            try {
                new InferencePipeline(
                    "bad",
                    args({
                        minReplicas: -1,
                        maxReplicas: 0,
                        jobTimeoutSeconds: 50_000,
                        messagesPerReplica: 0,
                        pool: MIG_POOL,
                    }),
                );
            } catch (err) {
                thrown = err;
            }
        });
        assert.ok(pulumi.InputPropertiesError.isInstance(thrown));
        assert.strictEqual(thrown.message, 'InferencePipeline "bad" has invalid arguments');
        assert.deepStrictEqual(
            thrown.errors.map((e) => `${e.propertyPath}: ${e.reason}`),
            [
                "minReplicas: is -1; must be 0 or more (0 lets the pipeline scale to zero)",
                "maxReplicas: is 0; must be at least 1: a pipeline needs room for one worker",
                "messagesPerReplica: is 0; must be at least 1",
                "jobTimeoutSeconds: is 50000; must be at most 43200 (12 hours), the longest SQS visibility timeout: a message must stay hidden from other workers while its job runs",
                'gpuResource: is required: pool "a100-mig" offers nvidia.com/mig-3g.40gb, nvidia.com/mig-1g.10gb; name the one the worker requests',
            ],
        );
        assert.deepStrictEqual(
            resources.filter((r) => r.custom).map((r) => r.name),
            [],
            "nothing is created",
        );
    });

    it("refuses a CPU pool, a resource the pool does not offer, and more GPUs than a node has", () => {
        const cpuPool = { name: "system", labels: {}, nodeResources: {} };
        const problems = (a: Partial<InferencePipelineArgs>) =>
            inferencePipelineArgsProblems(args(a)).map((p) => `${p.key}: ${p.message}`);
        assert.deepStrictEqual(problems({ pool: cpuPool }), [
            'pool: "system" has no GPUs; the worker needs a GPU pool',
        ]);
        assert.deepStrictEqual(problems({ pool: MIG_POOL, gpuResource: "nvidia.com/mig-7g.80gb" }), [
            'gpuResource: "nvidia.com/mig-7g.80gb" is not offered by pool "a100-mig"; it offers nvidia.com/mig-3g.40gb, nvidia.com/mig-1g.10gb',
        ]);
        assert.deepStrictEqual(problems({ gpusPerWorker: 9 }), [
            'gpusPerWorker: is 9, but one "h100" node offers 8 nvidia.com/gpu; a worker must fit on one node',
        ]);
        assert.deepStrictEqual(problems({ minReplicas: 5, maxReplicas: 2 }), [
            "minReplicas: is 5, above maxReplicas 2; minReplicas must be at most maxReplicas",
        ]);
        assert.deepStrictEqual(problems({ maxReplicas: 1.5 }), ["maxReplicas: is 1.5; must be a whole number"]);
        assert.deepStrictEqual(problems({ maxReceiveCount: 1001 }), [
            "maxReceiveCount: is 1001; SQS allows at most 1000",
        ]);
        assert.deepStrictEqual(problems({ jobTimeoutSeconds: 43_200 }), [], "12 hours is allowed");
    });

    it("refuses a worker image that is not pinned, as the stack config does", () => {
        const problems = (a: Partial<InferencePipelineArgs>) =>
            inferencePipelineArgsProblems(args(a)).map((p) => p.key);
        assert.deepStrictEqual(problems({ image: "busybox" }), ["image"], "no tag");
        assert.deepStrictEqual(
            problems({ image: "registry.example.com/team/worker:latest" }),
            ["image"],
            "latest moves",
        );
        assert.deepStrictEqual(
            problems({ image: `registry.example.com/team/worker@sha256:${"a".repeat(64)}` }),
            [],
            "a digest pins it",
        );
    });
});

describe("inferencePipelines stack config", () => {
    /** The prod stack's config with its pipeline changed by `change`. */
    function prodWith(
        change: (pipeline: Record<string, unknown>) => void,
        extra: Record<string, unknown>[] = [],
    ): string[] {
        const raw = stackConfig("prod") as Record<string, any>;
        const pipeline = { ...raw.inferencePipelines[0] };
        change(pipeline);
        raw.inferencePipelines = [pipeline, ...extra];
        return validatePlatformConfig(raw, PROJECT, "prod").problems.map((p) => `${p.key}: ${p.message}`);
    }

    it("defaults to no pipelines, and then installs no KEDA", async () => {
        const raw = stackConfig("prod") as Record<string, any>;
        delete raw.inferencePipelines;
        const result = validatePlatformConfig(raw, PROJECT, "prod");
        assert.deepStrictEqual(result.config?.inferencePipelines, []);
        const { resources } = await record(() => buildPlatform(result.config!));
        assert.deepStrictEqual(
            resources.filter((r) => /keda|inference/i.test(r.type)).map((r) => r.type),
            [],
        );
    });

    it("rejects negative replicas", () => {
        assert.deepStrictEqual(
            prodWith((p) => (p.minReplicas = -1)),
            ["inferencePipelines[0].minReplicas: is -1; must be 0 or more (0 lets the pipeline scale to zero)"],
        );
    });

    it("rejects a pool that does not exist, naming the GPU pools", () => {
        assert.deepStrictEqual(
            prodWith((p) => (p.pool = "l40s")),
            ['inferencePipelines[0].pool: "l40s" is not a node pool; GPU pools: a100-shared, a100-mig, h100'],
        );
    });

    it("rejects a CPU pool", () => {
        assert.deepStrictEqual(
            prodWith((p) => (p.pool = "system")),
            [
                'inferencePipelines[0].pool: "system" is a CPU pool (m7i.2xlarge); the worker needs a GPU pool: a100-shared, a100-mig, h100',
            ],
        );
    });

    it("rejects a job timeout longer than the queue can hide a message", () => {
        assert.deepStrictEqual(
            prodWith((p) => (p.jobTimeoutSeconds = 86_400)),
            [
                "inferencePipelines[0].jobTimeoutSeconds: is 86400; must be at most 43200 (12 hours), the longest SQS visibility timeout: a message must stay hidden from other workers while its job runs",
            ],
        );
    });

    it("rejects a MIG profile the pool does not carve, and a MIG pool without a profile", () => {
        assert.deepStrictEqual(
            prodWith((p) => (p.gpuResource = "nvidia.com/mig-7g.80gb")),
            [
                'inferencePipelines[0].gpuResource: "nvidia.com/mig-7g.80gb" is not offered by pool "a100-mig"; it offers nvidia.com/mig-3g.40gb, nvidia.com/mig-2g.20gb, nvidia.com/mig-1g.10gb',
            ],
        );
        assert.deepStrictEqual(
            prodWith((p) => delete p.gpuResource),
            [
                'inferencePipelines[0].gpuResource: is required: pool "a100-mig" offers nvidia.com/mig-3g.40gb, nvidia.com/mig-2g.20gb, nvidia.com/mig-1g.10gb; name the one the worker requests',
            ],
        );
    });

    it("rejects an unknown team, a duplicate name, bad shapes and unknown keys, all at once", () => {
        const problems = prodWith(
            (p) => {
                p.team = "vision";
                p.maxReplicas = 0;
                p.workload = "cron";
                p.retries = 2;
            },
            [{ name: "batch-embeddings", pool: "h100", image: "registry.example.com/x:1", messagesPerReplica: 1.5 }],
        );
        assert.deepStrictEqual(problems, [
            'inferencePipelines[0].workload: Invalid option: expected one of "scaled-job"|"scaled-object" (found "cron")',
            "inferencePipelines[0].retries: is not a known key; check its spelling against Pulumi.yaml",
            "inferencePipelines[1].team: is required: the pipeline's namespace is labelled with the team that owns it",
            "inferencePipelines[1].messagesPerReplica: must be a whole number (found 1.5)",
            'inferencePipelines[0].team: "vision" is not a team; defined teams: ml-research, inference, applied-ml',
            "inferencePipelines[0].maxReplicas: is 0; must be at least 1: a pipeline needs room for one worker",
            'inferencePipelines[1].name: duplicates inferencePipelines[0].name "batch-embeddings"; pipeline names must be unique',
        ]);
    });
});

describe("the team stack (examples/team-stack, the README's example)", () => {
    const EXAMPLE_PROGRAM = path.join(REPO_ROOT, "examples", "team-stack", "index.ts");

    it("is what the README shows, character for character", () => {
        const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
        const section = readme.slice(readme.indexOf("## Using a component in your own stack"));
        assert.strictEqual(/```ts\n([\s\S]*?)```/.exec(section)?.[1], fs.readFileSync(EXAMPLE_PROGRAM, "utf8"));
    });

    /** The example program, with its package import pointed at this checkout's sources (the packed package is tested in test/integration). */
    function exampleProgram(): () => Promise<Record<string, pulumi.Output<string>>> {
        const source = fs
            .readFileSync(EXAMPLE_PROGRAM, "utf8")
            .replace(
                '"@gpu-platform/components/inference"',
                JSON.stringify(path.join(REPO_ROOT, "components/inference")),
            );
        const filename = path.join(REPO_ROOT, "test", "example-team-stack.ts");
        const program = new (require("module"))(filename);
        program.filename = filename;
        program.paths = require("module")._nodeModulePaths(path.dirname(filename));
        program._compile(transformSync(source, { loader: "ts", format: "cjs" }).code, filename);
        return program.exports;
    }

    it("adds a pipeline to the platform's cluster from the platform stack's outputs", async () => {
        // An async program: it reads the stack reference before it creates anything, so record() by hand.
        recording.reset();
        const outputs = await exampleProgram()();
        await recording.settle();
        const resources = recording.resources;
        const scaledJob = named(resources, SCALED_JOB, "vision-captions-scaled-job");
        const pod = (scaledJob.inputs as any).spec.jobTargetRef.template.spec;
        assert.deepStrictEqual(
            pod.nodeSelector,
            { "gpu-platform/pool": "h100" },
            "scheduling facts from the nodePools output",
        );
        assert.strictEqual(pod.containers[0].resources.limits["nvidia.com/gpu"], "1");
        assert.ok(scaledJob.provider?.includes("platform-cluster"), "the KEDA objects go to the platform's cluster");
        assert.strictEqual(
            trustedSubject(named(resources, ROLE, "vision-captions-scaler-irsa-role")),
            "system:serviceaccount:keda:keda-operator",
            "trusts the platform's KEDA through the platform's OIDC provider",
        );
        assert.strictEqual(named(resources, QUEUE, "vision-captions-queue").inputs.visibilityTimeoutSeconds, 5400);
        assert.ok(
            named(resources, QUEUE, "vision-captions-queue").provider?.includes("ml-research-aws"),
            "the team's tagged AWS provider",
        );
        assert.strictEqual(
            await new Promise((resolve) => outputs.queueUrl.apply(resolve)),
            "https://sqs.us-east-1.amazonaws.com/123456789012/vision-captions-queue",
        );
    });
});
