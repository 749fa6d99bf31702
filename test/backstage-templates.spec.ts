/**
 * The GPU templates of backstage/templates/: valid to Backstage's own template validator, their
 * form true to the platform's pools and workload classes, their run (through the scaffolder's
 * own workflow runner, see ./scaffolder.ts) asking the real cost tracker first, and what they
 * render admitted by the policy pack, the cluster's GPU-limit admission policy and Pod Security
 * "restricted", or refused by both when a pod asks for more GPUs than its class allows.
 *
 * Figures worked by hand from catalog/instances.ts, as the cost tracker prices them: a p5.48xlarge
 * GPU $55.04/h / 8 = $6.88; a 3g.40gb slice of a p4de.24xlarge GPU 3/7 × $27.44705/8 = $1.47038;
 * a time-sliced share of a p4d.24xlarge GPU $21.957642/8/3 = $0.91490.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { validate as validateParameters } from "jsonschema";
import { parseAllDocuments } from "yaml";
import type { FastifyInstance } from "fastify";
import {
    DefaultNamespaceEntityPolicy,
    EntityPolicies,
    FieldFormatEntityPolicy,
    NoForeignRootFieldsEntityPolicy,
    entitySchemaValidator,
    type Entity,
} from "@backstage/catalog-model";
import { templateEntityV1beta3Validator } from "@backstage/plugin-scaffolder-common";
import { REPO_ROOT, validStackConfig } from "./harness";
import { admit } from "./admission";
import { restrictedViolations } from "./pod-security";
import {
    type HttpAnswer,
    type HttpRequestInput,
    type TemplateRun,
    type TemplateRunOptions,
    loadTemplate,
    runTemplate,
} from "./scaffolder";
import { DEFAULT_WORKLOAD_CLASSES, GPU_TAINT, LABELS } from "../catalog";
import { poolNodes } from "../components/cluster";
import { type PlanResource, loadPackConfig, runPolicies } from "../policies/runner";
import { configFromStack } from "../services/cost-tracker/src/demo/prod-stack";
import type { Database } from "../services/cost-tracker/src/db/database";
import { TOKEN, clock, resetDatabase, testApp, testDatabase } from "../services/cost-tracker/test/helpers";

const TEMPLATES_DIR = path.join(REPO_ROOT, "backstage", "templates");
const NOW = "2026-11-20T12:00:00.000Z";
const TASK_ID = "6f1c2a7e-0d4b-4c55-9f3e-2b8d1e0c9a41";
const PROXY_PREFIX = "/proxy/cost-tracker";
/** What the portal's app-config gives the templates (`scaffolder.defaultEnvironment.parameters`). */
const ENVIRONMENT = {
    gitopsRepoUrl: "github.com?owner=acme&repo=gpu-gitops",
    argocdUrl: "https://argocd.acme.internal",
    mlflowUrl: "https://mlflow.acme.internal",
};

type Kind = "server" | "job";
interface Sample {
    readonly template: string;
    readonly kind: Kind;
    readonly parameters: Record<string, any>;
}

/** One run per template (two for the LLM server, one per server), over the prod stack's pools, classes and teams. */
const SAMPLES: readonly Sample[] = [
    {
        template: "tensorflow-serving.yaml",
        kind: "server",
        parameters: {
            name: "fraud-tf",
            team: "group:default/inference",
            modelName: "fraud-detector",
            modelVersion: 3,
            pool: "a100-mig",
            gpuResource: "nvidia.com/mig-3g.40gb",
            gpus: 1,
            hours: 10,
            priorityClass: "production-inference",
            cpu: 4,
            memoryGi: 32,
        },
    },
    {
        template: "torchserve.yaml",
        kind: "server",
        parameters: {
            name: "resnet-ts",
            team: "group:default/applied-ml",
            modelName: "resnet50",
            modelVersion: 7,
            pool: "a100-shared",
            gpuResource: "nvidia.com/gpu.shared",
            gpus: 1,
            hours: 24,
            priorityClass: "critical-agents",
            cpu: 4,
            memoryGi: 16,
        },
    },
    {
        template: "llm-server.yaml",
        kind: "server",
        parameters: {
            name: "support-llm",
            team: "group:default/inference",
            modelName: "support-llama",
            modelVersion: 2,
            framework: "vllm",
            pool: "h100",
            gpuResource: "nvidia.com/gpu",
            gpus: 2,
            hours: 12,
            priorityClass: "production-inference",
            cpu: 16,
            memoryGi: 128,
        },
    },
    {
        template: "llm-server.yaml",
        kind: "server",
        parameters: {
            name: "support-tgi",
            team: "group:default/inference",
            modelName: "support-llama",
            modelVersion: 2,
            framework: "tgi",
            pool: "h100",
            gpuResource: "nvidia.com/gpu",
            gpus: 1,
            hours: 12,
            priorityClass: "critical-agents",
            cpu: 8,
            memoryGi: 64,
        },
    },
    {
        template: "fastapi-server.yaml",
        kind: "server",
        parameters: {
            name: "churn-api",
            team: "group:default/ml-research",
            modelName: "churn",
            modelVersion: 12,
            image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/ml-research/churn-api:1.4.0",
            healthPath: "/healthz",
            pool: "a100-shared",
            gpuResource: "nvidia.com/gpu.shared",
            gpus: 1,
            hours: 8,
            priorityClass: "development",
            cpu: 2,
            memoryGi: 8,
        },
    },
    {
        template: "gpu-training-job.yaml",
        kind: "job",
        parameters: {
            name: "llama-ft",
            team: "group:default/ml-research",
            modelName: "support-llama",
            modelVersion: 1,
            image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/ml-research/trainer:2.1.0",
            command: "python train.py --epochs 3",
            pool: "h100",
            gpuResource: "nvidia.com/gpu",
            gpus: 8,
            hours: 6,
            priorityClass: "training",
            cpu: 64,
            memoryGi: 512,
        },
    },
];
const TEMPLATE_FILES = [...new Set(SAMPLES.map((s) => s.template))];
const teamOf = (sample: Sample) => String(sample.parameters.team).split("/")[1];

/** Runs a sample's template for user ada, in the portal's environment. */
function runSample(
    sample: Sample,
    http: TemplateRunOptions["http"],
    options: Partial<TemplateRunOptions> = {},
): Promise<TemplateRun> {
    return runTemplate(path.join(TEMPLATES_DIR, sample.template), {
        parameters: sample.parameters,
        environment: ENVIRONMENT,
        userRef: "user:default/ada",
        taskId: TASK_ID,
        http,
        ...options,
    });
}

/** The manifests of a rendered pull request's workload directory, and its ArgoCD Application. */
interface Rendered {
    readonly run: TemplateRun;
    /** The cost tracker's answer to the approval request. */
    readonly approval: Record<string, any>;
    readonly application: Record<string, any>;
    /** Every Kubernetes object ArgoCD would apply from the workload's directory. */
    readonly objects: Record<string, any>[];
    readonly workload: Record<string, any>;
    readonly podSpec: Record<string, any>;
    readonly catalogInfo: Entity;
}

function rendered(sample: Sample, run: TemplateRun, approval: Record<string, any>): Rendered {
    assert.strictEqual(run.error, undefined, `${sample.template} failed:\n${run.log.join("\n")}`);
    const team = teamOf(sample);
    const dir = `workloads/${team}/${sample.parameters.name}/`;
    const docs = (file: string) =>
        parseAllDocuments(run.pullRequestFiles[file] ?? fail(`the pull request has no ${file}`)).map((d) => d.toJSON());
    const files = Object.keys(run.pullRequestFiles).sort();
    assert.deepStrictEqual(files, [
        `apps/${team}-${sample.parameters.name}.yaml`,
        `${dir}catalog-info.yaml`,
        `${dir}network-policy.yaml`,
        `${dir}workload.yaml`,
    ]);
    const objects = [...docs(`${dir}workload.yaml`), ...docs(`${dir}network-policy.yaml`)];
    const workload = objects.find((o) => o.kind === (sample.kind === "server" ? "Deployment" : "Job"))!;
    return {
        run,
        approval,
        application: docs(`apps/${team}-${sample.parameters.name}.yaml`)[0],
        objects,
        workload,
        podSpec: workload.spec.template.spec,
        catalogInfo: docs(`${dir}catalog-info.yaml`)[0],
    };
}

/** Manifests as the offline plan records `@pulumi/kubernetes` resources: the type token of their apiVersion and kind, the manifest as inputs. */
function planResources(objects: Record<string, any>[]): PlanResource[] {
    return objects.map((o) => {
        const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["core", o.apiVersion];
        const type = `kubernetes:${group}/${version}:${o.kind}`;
        return {
            urn: `urn:pulumi:gitops::workloads::${type}::${o.metadata.name}`,
            type,
            name: o.metadata.name,
            parent: null,
            inputs: o,
        };
    });
}

/** The cost tracker behind the Backstage proxy: `/proxy/cost-tracker/…` forwarded with the token the proxy adds. */
function behindProxy(app: FastifyInstance, allowedHeaders = ["idempotency-key"]) {
    return async (input: HttpRequestInput): Promise<HttpAnswer> => {
        assert.ok(
            input.path.startsWith(`${PROXY_PREFIX}/`),
            `${input.path} does not go through the cost tracker's proxy endpoint`,
        );
        // Of the headers a template sends, the proxy passes on content-type (on its safe list) and those its endpoint allows (@backstage/plugin-proxy-backend 0.6.18).
        const forwarded = Object.entries(input.headers ?? {}).filter(([name]) =>
            ["content-type", ...allowedHeaders].includes(name.toLowerCase()),
        );
        const answer = await app.inject({
            method: input.method as "POST",
            url: input.path.slice(PROXY_PREFIX.length),
            headers: { ...Object.fromEntries(forwarded), authorization: `Bearer ${TOKEN}` },
            ...(input.body === undefined ? {} : { payload: JSON.stringify(input.body) }),
        });
        return { code: answer.statusCode, body: answer.json() };
    };
}

describe("Backstage GPU templates (backstage/templates)", function () {
    this.timeout(60_000);
    const prod = validStackConfig("prod");
    const gpuPools = prod.nodePools
        .map((pool) => ({ name: pool.name, pool, nodes: poolNodes(pool.name, pool) }))
        .filter((p) => p.nodes.gpusPerNode > 0);

    describe("as Backstage reads them", () => {
        for (const file of TEMPLATE_FILES) {
            it(`${file} is a valid v1beta3 template to Backstage's validator and the catalog's entity checks, with camelCase step ids`, async () => {
                const template = loadTemplate(path.join(TEMPLATES_DIR, file));
                assert.strictEqual(await templateEntityV1beta3Validator.check(template), true);
                await assertValidEntity(template);
                for (const step of template.spec.steps)
                    assert.match(step.id ?? "", /^[a-z][a-zA-Z0-9]*$/, `step "${step.id}" in ${file}`);
            });
        }

        it("the Location in backstage/templates/catalog-info.yaml lists every template and is a valid entity", async () => {
            const location = loadTemplate(path.join(TEMPLATES_DIR, "catalog-info.yaml")) as unknown as Entity;
            await assertValidEntity(location);
            const templates = fs
                .readdirSync(TEMPLATES_DIR)
                .filter((f) => f.endsWith(".yaml") && f !== "catalog-info.yaml");
            assert.deepStrictEqual(
                [...(location.spec!.targets as string[])].sort(),
                templates.map((f) => `./${f}`).sort(),
            );
        });

        it("Backstage's validator refuses a template whose step lacks its action", async () => {
            const template = loadTemplate(path.join(TEMPLATES_DIR, "torchserve.yaml")) as any;
            delete template.spec.steps[0].action;
            await assert.rejects(
                async () => templateEntityV1beta3Validator.check(template),
                /must have required property 'action'/,
            );
        });
    });

    describe("the form", () => {
        for (const file of TEMPLATE_FILES) {
            const template = loadTemplate(path.join(TEMPLATES_DIR, file));
            const kind: Kind = SAMPLES.find((s) => s.template === file)!.kind;
            const gpuPage: any = (template.spec.parameters as any[]).find((page) => page.properties?.pool);

            it(`${file} offers the prod stack's GPU pools, each with the GPU resources its nodes advertise and the GPUs one pod can use`, () => {
                assert.deepStrictEqual([...gpuPage.properties.pool.enum].sort(), gpuPools.map((p) => p.name).sort());
                const offered = Object.fromEntries(
                    gpuPage.dependencies.pool.oneOf.map((b: any) => [
                        b.properties.pool.enum[0],
                        { resources: b.properties.gpuResource.enum, perPod: b.properties.gpus.maximum },
                    ]),
                );
                // Whole GPUs: a node's worth. A time-sliced share: one (the device plugin fails a request for more).
                // A MIG slice: one (CUDA enumerates one MIG device per process, so a second slice would sit idle).
                const expected = Object.fromEntries(
                    gpuPools.map(({ name, nodes }) => [
                        name,
                        {
                            resources: Object.keys(nodes.nodeResources),
                            perPod: nodes.gpuSharing!.mode === "exclusive" ? nodes.gpusPerNode : 1,
                        },
                    ]),
                );
                assert.deepStrictEqual(offered, expected);
                gpuPools.forEach(({ name, pool }) =>
                    assert.match(
                        gpuPage.properties.pool.enumNames[gpuPage.properties.pool.enum.indexOf(name)],
                        new RegExp(`^${name}: .*\\(${pool.instanceType}\\)$`),
                    ),
                );
            });

            it(`${file} offers the ${kind === "server" ? "inference" : "training"} classes and development, each with its GPU limit per pod`, () => {
                const wanted = DEFAULT_WORKLOAD_CLASSES.filter(
                    (c) => c.kind === (kind === "server" ? "inference" : "training") || c.kind === "development",
                );
                assert.deepStrictEqual(
                    gpuPage.properties.priorityClass.enum,
                    wanted.map((c) => c.name),
                );
                const limits = gpuPage.dependencies.priorityClass.oneOf.flatMap((b: any) =>
                    b.properties.priorityClass.enum.map((c: string) => [c, b.properties.gpus.maximum]),
                );
                assert.deepStrictEqual(
                    Object.fromEntries(limits),
                    Object.fromEntries(wanted.map((c) => [c.name, c.maxGpusPerPod])),
                );
            });
        }

        /** Validates form values as the scaffolder's router does before it starts a task: each page's schema with jsonschema. */
        const formErrors = (file: string, values: Record<string, unknown>) =>
            [loadTemplate(path.join(TEMPLATES_DIR, file)).spec.parameters ?? []]
                .flat()
                .flatMap((page) => validateParameters(values, page as any).errors.map((e) => e.stack));

        it("accepts every sample's values, as the scaffolder validates them", () => {
            for (const sample of SAMPLES)
                assert.deepStrictEqual(formErrors(sample.template, sample.parameters), [], sample.template);
        });

        it("refuses more GPUs than the class allows, a second MIG slice or time-sliced share, and a resource the pool does not offer", () => {
            const [tf, , , , , training] = SAMPLES;
            const h100 = { pool: "h100", gpuResource: "nvidia.com/gpu" };
            assert.notDeepStrictEqual(
                formErrors(tf.template, { ...tf.parameters, ...h100, gpus: 3, priorityClass: "production-inference" }),
                [],
            );
            assert.notDeepStrictEqual(
                formErrors(training.template, { ...training.parameters, gpus: 2, priorityClass: "development" }),
                [],
            );
            assert.notDeepStrictEqual(formErrors(tf.template, { ...tf.parameters, gpus: 2 }), []);
            assert.notDeepStrictEqual(formErrors(tf.template, { ...tf.parameters, gpuResource: "nvidia.com/gpu" }), []);
            assert.deepStrictEqual(
                formErrors(tf.template, { ...tf.parameters, ...h100, gpus: 2 }),
                [],
                "two whole GPUs for production-inference fit",
            );
        });
    });

    describe("a run, from the approval to the pull request", () => {
        let db: Database;
        let app: FastifyInstance;
        const runs = new Map<Sample, Rendered>();
        const config = configFromStack("prod");

        before(async () => {
            db = await testDatabase();
            await resetDatabase(db, config);
            app = await testApp(db, { config, now: clock(NOW).now });
            for (const sample of SAMPLES) {
                const run = await runSample(sample, behindProxy(app), { taskId: `${TASK_ID}-${runs.size}` });
                // Sent again with the task's key, the request gets the decision the run got.
                const approval = run.calls.find((c) => c.step === "requestGpus")!;
                const answer = await behindProxy(app)(approval.input as HttpRequestInput);
                runs.set(sample, rendered(sample, run, answer.body as Record<string, any>));
            }
        });
        after(() => app.close());

        for (const sample of SAMPLES) {
            const label = `${sample.template}${sample.parameters.framework ? ` (${sample.parameters.framework})` : ""}`;

            it(`${label}: the policy pack, the GPU-limit admission policy and Pod Security "restricted" admit what it renders`, async () => {
                const { objects, workload, podSpec } = runs.get(sample)!;
                assert.deepStrictEqual(await runPolicies(planResources(objects), loadPackConfig("prod")), []);
                assert.deepStrictEqual(admit(workload), []);
                assert.deepStrictEqual(restrictedViolations(podSpec), [], `${workload.kind} ${workload.metadata.name}`);
            });

            it(`${label}: asks for the pool's GPU resource, tolerates its taint, selects its nodes, requests what it limits, runs under the class`, () => {
                const { podSpec } = runs.get(sample)!;
                const { pool, gpuResource, gpus, priorityClass } = sample.parameters;
                assert.strictEqual(podSpec.priorityClassName, priorityClass);
                assert.deepStrictEqual(podSpec.tolerations, [
                    { key: GPU_TAINT.key, operator: "Equal", value: GPU_TAINT.value, effect: GPU_TAINT.effect },
                ]);
                assert.deepStrictEqual(podSpec.nodeSelector, { [LABELS.pool]: pool });
                const { nodes } = gpuPools.find((p) => p.name === pool)!;
                assert.strictEqual(nodes.labels[LABELS.pool], pool, "the pool's nodes carry the label selected on");
                const [main] = podSpec.containers;
                assert.deepStrictEqual(main.resources.limits, {
                    cpu: String(sample.parameters.cpu),
                    memory: `${sample.parameters.memoryGi}Gi`,
                    [gpuResource]: String(gpus),
                });
                for (const c of [...podSpec.containers, ...podSpec.initContainers])
                    assert.deepStrictEqual(c.resources.requests, c.resources.limits, `container ${c.name}`);
            });

            it(`${label}: labels the workload, its pods and its Application with the approval's id`, () => {
                const { approval, workload, application, catalogInfo } = runs.get(sample)!;
                assert.strictEqual(approval.status, "approved");
                assert.strictEqual(workload.metadata.labels[LABELS.approval], approval.id);
                assert.strictEqual(workload.spec.template.metadata.labels[LABELS.approval], approval.id);
                assert.strictEqual(application.metadata.labels[LABELS.approval], approval.id);
                assert.strictEqual(catalogInfo.metadata.annotations![LABELS.approval], approval.id);
                assert.strictEqual(workload.metadata.labels[LABELS.team], teamOf(sample));
            });

            if (sample.kind === "server") {
                it(`${label}: serves the MLflow model version, fetched before the server starts`, () => {
                    const { workload, podSpec } = runs.get(sample)!;
                    const uri = `models:/${sample.parameters.modelName}/${sample.parameters.modelVersion}`;
                    assert.strictEqual(workload.metadata.annotations["gpu-platform/model-uri"], uri);
                    const fetchModel = podSpec.initContainers.find((c: any) => c.name === "fetch-model");
                    assert.ok(fetchModel.env.some((e: any) => e.name === "MODEL_URI" && e.value === uri));
                    assert.match(
                        fetchModel.env.find((e: any) => e.name === "MLFLOW_TRACKING_URI").value,
                        /^http:\/\/mlflow\.mlflow\.svc\.cluster\.local$/,
                    );
                    assert.deepStrictEqual(workload.spec.replicas, 1);
                });
            } else {
                it(`${label}: stops the Job at the runtime limit`, () => {
                    const { workload } = runs.get(sample)!;
                    assert.strictEqual(workload.spec.activeDeadlineSeconds, sample.parameters.hours * 3600);
                    assert.strictEqual(workload.spec.template.spec.restartPolicy, "Never");
                });
            }

            it(`${label}: adds an ArgoCD Application in the team's AppProject, syncing the workload into the team's namespace`, () => {
                const { application } = runs.get(sample)!;
                const team = teamOf(sample);
                assert.strictEqual(application.metadata.name, `${team}-${sample.parameters.name}`);
                assert.deepStrictEqual(application.spec.project, team);
                assert.deepStrictEqual(application.spec.destination, {
                    server: "https://kubernetes.default.svc",
                    namespace: team,
                });
                assert.deepStrictEqual(application.spec.source, {
                    repoURL: "https://github.com/acme/gpu-gitops.git",
                    targetRevision: "main",
                    path: `workloads/${team}/${sample.parameters.name}`,
                    directory: { exclude: "catalog-info.yaml" },
                });
                for (const o of runs.get(sample)!.objects)
                    assert.strictEqual(o.metadata.namespace, team, `${o.kind} ${o.metadata.name}`);
            });

            it(`${label}: registers a valid component linking to its ArgoCD application and MLflow model`, async () => {
                const { catalogInfo, run } = runs.get(sample)!;
                await assertValidEntity(catalogInfo);
                const team = teamOf(sample);
                assert.deepStrictEqual(catalogInfo.spec!.owner, sample.parameters.team);
                assert.deepStrictEqual(
                    catalogInfo.metadata.links!.map((l) => l.url),
                    [
                        `${ENVIRONMENT.argocdUrl}/applications/${team}-${sample.parameters.name}`,
                        `${ENVIRONMENT.mlflowUrl}/#/models/${sample.parameters.modelName}/versions/${sample.parameters.modelVersion}`,
                    ],
                );
                assert.deepStrictEqual(run.registered, [
                    `https://github.com/acme/gpu-gitops/blob/main/workloads/${team}/${sample.parameters.name}/catalog-info.yaml`,
                ]);
                const pullRequest = run.calls.find((c) => c.action === "publish:github:pull-request")!.input;
                assert.strictEqual(pullRequest.repoUrl, ENVIRONMENT.gitopsRepoUrl);
                for (const field of ["branchName", "title", "description"])
                    assert.ok(pullRequest[field], `publish:github:pull-request needs ${field}`);
            });
        }

        it("prices what it asks as the cost tracker's catalog does: 8 H100s for 6 hours, $330.24, shown on the Job", () => {
            const { approval, workload } = runs.get(SAMPLES[5])!;
            assert.strictEqual(approval.estimatedCostUsd, 330.24);
            assert.strictEqual(workload.metadata.annotations["gpu-platform/estimated-cost-usd"], "330.24");
            assert.strictEqual(
                workload.metadata.annotations["gpu-platform/reservation-expires-at"],
                "2026-11-20T20:00:00.000Z",
                "6 h + the 2 h grace",
            );
        });

        it("renders a pod asking for more GPUs than its class allows, which both the policy pack and the admission policy refuse", async () => {
            for (const sample of SAMPLES) {
                const overClass = {
                    ...sample,
                    parameters: {
                        ...sample.parameters,
                        name: `${sample.parameters.name}-big`,
                        pool: "h100",
                        gpuResource: "nvidia.com/gpu",
                        gpus: 2,
                        priorityClass: "development",
                    },
                };
                const run = await runSample(overClass, behindProxy(app), {
                    taskId: `${TASK_ID}-big-${sample.parameters.name}`,
                });
                const { objects, workload } = rendered(overClass, run, {});
                const violations = (await runPolicies(planResources(objects), loadPackConfig("prod"))).map(
                    (v) => `${v.policy}: ${v.message}`,
                );
                assert.deepStrictEqual(violations, [
                    `gpu-workload-class-limit: ${workload.kind} "${workload.metadata.name}" asks for 2 GPUs per pod (container "${workload.spec.template.spec.containers[0].name}": nvidia.com/gpu 2), ` +
                        `above the 1 a "development" pod may take; lower the GPU requests and limits in spec.template.spec.containers to at most 1 in all, ` +
                        `or use a class that allows 2 (production-inference: 2, critical-agents: 2, training: 8 and research: 8).`,
                ]);
                assert.deepStrictEqual(admit(workload), [
                    "requests 2 GPUs per pod, but priority class development allows at most 1; request fewer or use a class that allows more",
                ]);
            }
        });
    });

    describe("the approval request, against the cost tracker's OpenAPI document", () => {
        let db: Database;
        let app: FastifyInstance;
        let openapi: Record<string, any>;
        const config = configFromStack("prod");
        const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));

        beforeEach(async () => {
            db = await testDatabase();
            await resetDatabase(db, config);
            app = await testApp(db, { config, now: clock(NOW).now });
            await app.ready();
            openapi = app.swagger() as Record<string, any>;
        });
        afterEach(() => app.close());

        /** The step's request, as the runner rendered it, and the OpenAPI operation it calls. */
        const operationOf = (input: HttpRequestInput) => {
            assert.ok(input.path.startsWith(`${PROXY_PREFIX}/`));
            const apiPath = input.path.slice(PROXY_PREFIX.length);
            const route = Object.keys(openapi.paths).find((p) =>
                new RegExp(`^${p.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(apiPath),
            );
            assert.ok(route, `the cost tracker has no route for ${apiPath}`);
            const operation = openapi.paths[route][input.method.toLowerCase()];
            assert.ok(operation, `${route} has no ${input.method}`);
            const sent = Object.fromEntries(Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
            for (const p of (operation.parameters ?? []).filter((p: any) => p.in === "header" && p.required))
                assert.ok(sent[p.name], `${route}: header ${p.name} is required`);
            return { route, operation, sent };
        };

        for (const file of TEMPLATE_FILES) {
            it(`${file}: path, method, headers and body match POST /v1/gpu-requests; the answers carry what the template reads`, async () => {
                const sample = SAMPLES.find((s) => s.template === file)!;
                const run = await runSample(sample, behindProxy(app));
                assert.strictEqual(run.error, undefined, run.log.join("\n"));
                const input = run.calls.find((c) => c.step === "requestGpus")!.input as HttpRequestInput;
                const { route, operation, sent } = operationOf(input);
                assert.deepStrictEqual([input.method, route], ["POST", "/v1/gpu-requests"]);
                assert.strictEqual(
                    sent["idempotency-key"],
                    TASK_ID,
                    "the key is the task's id: a retried task gets the first answer",
                );
                // The HTTP action sends an object body as JSON only under a JSON content type.
                assert.match(sent["content-type"], /json/);
                const schema = operation.requestBody.content["application/json"].schema;
                assert.ok(ajv.validate(schema, input.body), JSON.stringify(ajv.errors));
                assert.deepStrictEqual(input.body, {
                    team: teamOf(sample),
                    pool: sample.parameters.pool,
                    gpuResource: sample.parameters.gpuResource,
                    gpus: sample.parameters.gpus,
                    hours: sample.parameters.hours,
                    priorityClass: sample.parameters.priorityClass,
                    requester: "user:default/ada",
                    purpose: (input.body as any).purpose,
                    workload: {
                        namespace: teamOf(sample),
                        kind: sample.kind === "server" ? "Deployment" : "Job",
                        name: sample.parameters.name,
                    },
                });

                const approved = operation.responses["201"].content["application/json"].schema;
                const read = fieldsRead(file);
                assert.deepStrictEqual(
                    read.filter((f) => !Object.hasOwn(approved.properties, f)),
                    [],
                    "every field the template reads is in the 201 answer",
                );
                assert.ok(["id", "estimatedCostUsd", "remainingUsd", "expiresAt"].every((f) => read.includes(f)));
                const rejected = operation.responses["409"].content["application/json"].schema;
                assert.deepStrictEqual(
                    [
                        rejected.properties.status.enum,
                        rejected.properties.reason.type,
                        rejected.properties.remainingUsd.type,
                    ],
                    [["rejected"], "string", "number"],
                );

                const release = run.calls.find((c) => c.step === "releaseReservation");
                assert.strictEqual(release, undefined, "nothing to release after a run that succeeded");
                const [releaseStep] = loadTemplate(path.join(TEMPLATES_DIR, file)).spec.steps.filter(
                    (s) => s.id === "releaseReservation",
                );
                const releaseInput = {
                    ...(releaseStep.input as any),
                    path: (releaseStep.input as any).path.replace(
                        /\$\{\{[^}]+\}\}/,
                        "5b0a9a52-34a3-4c7b-8f43-7b1b4a5c0d11",
                    ),
                };
                assert.strictEqual(operationOf(releaseInput).route, "/v1/gpu-requests/{id}/release");
            });
        }

        it("a 409 stops the template: the log shows the reason and the remaining budget, and nothing reaches Git or the catalog", async () => {
            await spend(app, "applied-ml", 39_990);
            const sample = SAMPLES[1]; // TorchServe for applied-ml, 1 time-sliced share for 24 h under critical-agents: $21.96
            const run = await runSample(sample, behindProxy(app));
            assert.strictEqual(run.error, "Unable to complete request");
            const answer = run.log.find((line) => line.includes("Status code: 409"));
            assert.ok(answer, run.log.join("\n"));
            const body: Record<string, unknown> = JSON.parse(
                answer.slice(answer.indexOf("Response body: ") + "Response body: ".length),
            );
            const rejected = openapi.paths["/v1/gpu-requests"].post.responses["409"].content["application/json"].schema;
            assert.ok(ajv.validate(rejected, body), JSON.stringify(ajv.errors));
            assert.deepStrictEqual(
                { ...body, id: "…" },
                {
                    id: "…",
                    status: "rejected",
                    reason: "over-budget",
                    message:
                        "over budget: $21.96 asked, $10 of $40000 left after $39990 spent and $0 reserved this month",
                    estimatedCostUsd: 21.96,
                    remainingUsd: 10,
                },
            );
            assert.deepStrictEqual(
                run.calls.map((c) => c.step),
                ["requestGpus"],
            );
            assert.deepStrictEqual(run.pullRequestFiles, {});
            assert.deepStrictEqual(run.registered, []);
        });

        it("a failure after the approval releases the reservation, so the budget is not held for a workload that never runs", async () => {
            const run = await runSample(SAMPLES[5], behindProxy(app), {
                failPullRequest: "Resource not accessible by integration",
            });
            assert.strictEqual(run.error, "Resource not accessible by integration");
            assert.deepStrictEqual(
                run.calls.map((c) => c.step),
                ["requestGpus", "renderWorkload", "openPullRequest", "releaseReservation"],
            );
            const requests = (await app.inject({ method: "GET", url: "/v1/gpu-requests?team=ml-research" })).json();
            assert.deepStrictEqual(
                requests.map((r: any) => [r.status, r.reservation]),
                [["approved", "released"]],
            );
            const team = (await app.inject({ method: "GET", url: "/v1/teams" }))
                .json()
                .find((t: any) => t.name === "ml-research");
            assert.strictEqual(team.reservedUsd, 0);
        });

        it("needs the proxy to pass Idempotency-Key on: without it the cost tracker refuses the request, naming the header", async () => {
            const run = await runSample(SAMPLES[0], behindProxy(app, []));
            assert.strictEqual(run.error, "Unable to complete request");
            assert.ok(
                run.log.some((line) => /Status code: 400 .*"field":"Idempotency-Key"/i.test(line)),
                run.log.join("\n"),
            );
        });
    });
});

/** The fields of the approval's answer a template reads: `steps.requestGpus.output.body.<field>` in it, `values.approval.<field>` in the skeleton. */
function fieldsRead(file: string): string[] {
    const skeleton = readAll(path.join(TEMPLATES_DIR, "skeleton"));
    const text = fs.readFileSync(path.join(TEMPLATES_DIR, file), "utf8");
    const fields = [
        ...text.matchAll(/steps\.requestGpus\.output\.body\.(\w+)/g),
        ...skeleton.matchAll(/values\.approval\.(\w+)/g),
    ].map((m) => m[1]);
    return [...new Set(fields)].sort();
}

function readAll(dir: string): string {
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .map((e) =>
            e.isDirectory() ? readAll(path.join(dir, e.name)) : fs.readFileSync(path.join(dir, e.name), "utf8"),
        )
        .join("\n");
}

/** Month-to-date GPU spend for `team`, pushed as a team's gateway would. */
async function spend(app: FastifyInstance, team: string, amountUsd: number): Promise<void> {
    const answer = await app.inject({
        method: "POST",
        url: "/v1/usage",
        headers: { authorization: `Bearer ${TOKEN}`, "idempotency-key": `spend-${team}` },
        payload: { records: [{ team, category: "gpu", amountUsd, occurredAt: NOW }] },
    });
    assert.strictEqual(answer.statusCode, 201, answer.body);
}

/** The catalog's own checks of an entity's envelope, schema and field formats (as its processing does). */
async function assertValidEntity(entity: Entity): Promise<void> {
    entitySchemaValidator()(entity);
    const policies = EntityPolicies.allOf([
        new DefaultNamespaceEntityPolicy(),
        new NoForeignRootFieldsEntityPolicy(),
        new FieldFormatEntityPolicy(),
    ]);
    assert.ok(
        await policies.enforce(entity),
        `${entity.kind} ${entity.metadata.name} is refused by the catalog's policies`,
    );
}

function fail(message: string): never {
    throw new Error(message);
}
