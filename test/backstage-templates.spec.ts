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
 *
 * The approval and the release go through the portal's own actions (`gpu-platform:request-gpus`,
 * `gpu-platform:release-gpus`), which read the user's teams from the catalog (a double holding
 * the teams' Groups, made by the portal's catalog module) and call the cost tracker, listening on
 * loopback, with the portal's credential and the acting user: the identity path end to end.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { validate as validateParameters } from "jsonschema";
import { parseAllDocuments } from "yaml";
import type { AddressInfo } from "net";
import type { FastifyInstance } from "fastify";
import type { GroupEntityV1alpha1 } from "@backstage/catalog-model";
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
    type PortalCostTracker,
    type TemplateRun,
    type TemplateRunOptions,
    catalogTeamGroups,
    gpuPlatformActions,
    loadTemplate,
    runTemplate,
} from "./scaffolder";
import { DEFAULT_WORKLOAD_CLASSES, GPU_TAINT, LABELS } from "@gpu-platform/catalog";
import { GITOPS_APPS_PATH } from "@gpu-platform/catalog/gitops";
import { poolNodes } from "../components/cluster";
import { teamApplicationSet, teamProject } from "../components/portal/gitops";
import { type PlanResource, loadPackConfig, runPolicies } from "gpu-dev-platform-policies/runner";
import { costTrackerConfigFromStack } from "../tools/cost-tracker/stack-config";
import type { Database } from "@gpu-platform/cost-tracker/src/db/database";
import { TOKEN, clock, resetDatabase, testApp, testDatabase } from "@gpu-platform/cost-tracker/test/helpers";
import { TRAINING_FORM } from "./training-form";

const TEMPLATES_DIR = path.join(REPO_ROOT, "backstage", "templates");
const NOW = "2026-11-20T12:00:00.000Z";
const TASK_ID = "6f1c2a7e-0d4b-4c55-9f3e-2b8d1e0c9a41";
/** The portal's own credential at the cost tracker (COST_TRACKER_TOKEN_PORTAL). */
const PORTAL_TOKEN = "portal-token-0123456789abcdef";
const ADA = "user:default/ada";
/** A member of inference only. */
const GRACE = "user:default/grace";
const GITOPS_REPO = "https://github.com/acme/gpu-gitops.git";
const BACKSTAGE = path.join(REPO_ROOT, "backstage");
/** What the portal's app-config gives the templates (`scaffolder.defaultEnvironment.parameters`). */
const ENVIRONMENT = {
    gitopsRepoUrl: "github.com?owner=acme&repo=gpu-gitops",
    argocdUrl: "https://argocd.acme.internal",
    mlflowUrl: "https://mlflow.acme.internal",
    teamSecretsPrefix: "gpu-platform-prod",
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
        parameters: TRAINING_FORM,
    },
];
const TEMPLATE_FILES = [...new Set(SAMPLES.map((s) => s.template))];
const teamOf = (sample: Sample) => String(sample.parameters.team).split("/")[1];

/**
 * The teams' Groups as the portal's catalog module makes them from the stack's `teams`
 * (backstage/plugins/catalog-backend-module-gpu-teams): ada is in the three teams the samples
 * use, grace in inference only.
 */
function teamGroups(): GroupEntityV1alpha1[] {
    return catalogTeamGroups([
        { name: "ml-research", members: ["ada"] },
        { name: "applied-ml", members: ["ada"] },
        { name: "inference", members: ["ada", "grace"] },
    ]);
}

/** The prod stack's cost tracker with the portal's credential, listening on loopback, and what reached it. */
interface Tracker {
    readonly app: FastifyInstance;
    readonly portal: PortalCostTracker;
    /** Every write that reached it: method, path, headers, body. */
    readonly writes: { method: string; url: string; headers: Record<string, any>; body: unknown }[];
}

async function startTracker(db: Database): Promise<Tracker> {
    const config = costTrackerConfigFromStack("prod");
    await resetDatabase(db, config);
    const app = await testApp(db, {
        config,
        now: clock(NOW).now,
        credentials: [{ kind: "portal", tokens: [PORTAL_TOKEN] }],
    });
    const writes: Tracker["writes"] = [];
    // Recorded as it arrives, before any check of the cost tracker's can refuse it; the body once parsed.
    const received = new WeakMap<object, Tracker["writes"][number]>();
    app.addHook("onRequest", async (request) => {
        if (request.method === "GET") return;
        const write = {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: undefined as unknown,
        };
        received.set(request, write);
        writes.push(write);
    });
    app.addHook("preValidation", async (request) => {
        const write = received.get(request);
        if (write) write.body = request.body;
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;
    return {
        app,
        writes,
        portal: { baseUrl: `http://127.0.0.1:${port}`, portalToken: PORTAL_TOKEN, groups: teamGroups() },
    };
}

/** Runs a sample's template for user ada, in the portal's environment. */
function runSample(sample: Sample, tracker: Tracker, options: Partial<TemplateRunOptions> = {}): Promise<TemplateRun> {
    return runTemplate(path.join(TEMPLATES_DIR, sample.template), {
        parameters: sample.parameters,
        environment: ENVIRONMENT,
        userRef: ADA,
        taskId: TASK_ID,
        costTracker: tracker.portal,
        ...options,
    });
}

/** The outputs of the run's `requestGpus` step. */
const approvalOf = (run: TemplateRun) => run.calls.find((c) => c.step === "requestGpus")?.output ?? {};

/** The manifests of a rendered pull request's application directory, and its catalog entity. */
interface Rendered {
    readonly run: TemplateRun;
    /** The outputs of gpu-platform:request-gpus. */
    readonly approval: Record<string, any>;
    /** Every Kubernetes object Argo CD would apply from the application's directory. */
    readonly objects: Record<string, any>[];
    readonly workload: Record<string, any>;
    readonly podSpec: Record<string, any>;
    readonly catalogInfo: Entity;
}

function rendered(sample: Sample, run: TemplateRun, approval: Record<string, any>): Rendered {
    assert.strictEqual(run.error, undefined, `${sample.template} failed:\n${run.log.join("\n")}`);
    const team = teamOf(sample);
    const dir = `${GITOPS_APPS_PATH}/${team}/${sample.parameters.name}/`;
    const catalogFile = `catalog/${team}/${sample.parameters.name}/catalog-info.yaml`;
    const docs = (file: string) =>
        parseAllDocuments(run.pullRequestFiles[file] ?? fail(`the pull request has no ${file}`)).map((d) => d.toJSON());
    const files = Object.keys(run.pullRequestFiles).sort();
    assert.deepStrictEqual(files, [
        `${dir}mlflow-credentials.yaml`,
        `${dir}network-policy.yaml`,
        `${dir}workload.yaml`,
        catalogFile,
    ]);
    const objects = [
        ...docs(`${dir}workload.yaml`),
        ...docs(`${dir}network-policy.yaml`),
        ...docs(`${dir}mlflow-credentials.yaml`),
    ];
    const workload = objects.find((o) => o.kind === (sample.kind === "server" ? "Deployment" : "Job"))!;
    return {
        run,
        approval,
        objects,
        workload,
        podSpec: workload.spec.template.spec,
        catalogInfo: docs(catalogFile)[0],
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

        /** The name the portal's plugin registers its cost preview under (backstage/plugins/gpu-platform/src/plugin.tsx). */
        const costPreviewField = () => {
            const plugin = fs.readFileSync(path.join(BACKSTAGE, "plugins/gpu-platform/src/plugin.tsx"), "utf8");
            const [, name] =
                plugin.match(/createFormField\(\{\s*name: '([^']+)'/) ?? fail("plugin.tsx registers no form field");
            return name;
        };

        for (const file of TEMPLATE_FILES) {
            const template = loadTemplate(path.join(TEMPLATES_DIR, file));
            const pages = template.spec.parameters as any[];

            it(`${file} offers as owning team only the user's own Groups (MyGroupsPicker), never any group`, () => {
                const fields = pages.flatMap((page) => Object.entries<any>(page.properties ?? {}));
                const [, team] = fields.find(([name]) => name === "team")!;
                // @backstage/plugin-scaffolder 1.39.0 (Backstage 1.55.0): MyGroupsPicker lists the Groups with
                // `relations.hasMember` of the signed-in user, and gives the chosen one's entity ref.
                assert.deepStrictEqual(
                    [team.type, team["ui:field"], team["ui:options"]],
                    ["string", "MyGroupsPicker", undefined],
                );
                assert.deepStrictEqual(
                    fields.filter(([, f]) => ["OwnerPicker", "EntityPicker"].includes(f["ui:field"])).map(([n]) => n),
                    [],
                );
            });

            it(`${file} shows the cost preview on the GPU page, holding no value`, () => {
                const gpuPage = pages.find((page) => page.properties?.pool);
                const previews = Object.entries<any>(gpuPage.properties).filter(
                    ([, f]) => f["ui:field"] === costPreviewField(),
                );
                assert.strictEqual(previews.length, 1);
                const [[name, preview]] = previews;
                assert.strictEqual(preview.type, "null");
                assert.ok(!(gpuPage.required ?? []).includes(name));
                // The field reads the ask from the form's own names (its ui:options.fields maps others).
                for (const key of ["pool", "gpuResource", "gpus", "hours", "priorityClass"])
                    assert.ok(gpuPage.properties[key] ?? gpuPage.dependencies.pool.oneOf[0].properties[key], key);
            });

            it(`${file} orders the GPU page: the pool's GPU resource beside the pool, the cost preview last`, () => {
                const gpuPage = pages.find((page) => page.properties?.pool);
                const [name] = Object.entries<any>(gpuPage.properties).find(
                    ([, f]) => f["ui:field"] === costPreviewField(),
                )!;
                // react-jsonschema-form puts what `dependencies` adds (gpuResource) after every declared field, the
                // preview included, unless the page's ui:order says otherwise; "*" stands for the fields not named.
                assert.deepStrictEqual(gpuPage["ui:order"], ["pool", "gpuResource", "*", name]);
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
        let tracker: Tracker;
        const runs = new Map<Sample, Rendered>();

        before(async () => {
            tracker = await startTracker(await testDatabase());
            for (const sample of SAMPLES) {
                const run = await runSample(sample, tracker, { taskId: `${TASK_ID}-${runs.size}` });
                runs.set(sample, rendered(sample, run, approvalOf(run)));
            }
        });
        after(() => tracker.app.close());

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

            it(`${label}: labels the workload, its pods and its component with the reservation the cost tracker approved for the user`, async () => {
                const { approval, workload, catalogInfo } = runs.get(sample)!;
                assert.strictEqual(approval.status, "approved");
                const id = approval.reservationId;
                const recorded = (
                    await tracker.app.inject({ method: "GET", url: `/v1/gpu-requests?team=${teamOf(sample)}` })
                )
                    .json()
                    .find((r: any) => r.id === id);
                assert.ok(recorded, `the cost tracker has no request ${id}`);
                assert.deepStrictEqual(
                    [recorded.status, recorded.requester],
                    ["approved", `${ADA} via portal`],
                    "the requester is the identity the portal's credential proves",
                );
                assert.strictEqual(workload.metadata.labels[LABELS.approval], id);
                assert.strictEqual(workload.spec.template.metadata.labels[LABELS.approval], id);
                assert.strictEqual(catalogInfo.metadata.annotations![LABELS.approval], id);
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
                    // MLflow's basic auth: the team's user, from the Secret the workload's ExternalSecret writes.
                    assert.deepStrictEqual(
                        fetchModel.env.find((e: any) => e.name === "MLFLOW_TRACKING_PASSWORD").valueFrom,
                        {
                            secretKeyRef: {
                                name: `${sample.parameters.name}-mlflow`,
                                key: "MLFLOW_TRACKING_PASSWORD",
                            },
                        },
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

            it(`${label}: syncs the team's own MLflow user through the team's store, for every container that calls MLflow`, () => {
                const { objects, podSpec } = runs.get(sample)!;
                const team = teamOf(sample);
                const sync = objects.find((o) => o.kind === "ExternalSecret")!;
                assert.deepStrictEqual(sync.spec.secretStoreRef, { kind: "SecretStore", name: "team-secrets" });
                assert.deepStrictEqual(
                    sync.spec.data.map((d: any) => [d.secretKey, d.remoteRef.key, d.remoteRef.property]),
                    [
                        ["MLFLOW_TRACKING_USERNAME", `gpu-platform-prod/teams/${team}/mlflow`, "username"],
                        ["MLFLOW_TRACKING_PASSWORD", `gpu-platform-prod/teams/${team}/mlflow`, "password"],
                    ],
                );
                for (const container of [...(podSpec.initContainers ?? []), ...podSpec.containers]) {
                    const names = (container.env ?? []).map((e: any) => e.name);
                    if (names.includes("MLFLOW_TRACKING_URI"))
                        assert.ok(
                            names.includes("MLFLOW_TRACKING_USERNAME") && names.includes("MLFLOW_TRACKING_PASSWORD"),
                            `${container.name} calls MLflow without credentials`,
                        );
                }
            });

            it(`${label}: writes plain manifests into apps/<team>/<name>/, which the team's ApplicationSet deploys into the team's namespace and project`, () => {
                const { objects, run, catalogInfo } = runs.get(sample)!;
                const team = teamOf(sample);
                const appSet: any = teamApplicationSet(
                    { name: team, namespace: team },
                    { repoUrl: GITOPS_REPO, path: GITOPS_APPS_PATH, targetRevision: "main" },
                );
                // The git generator's one directory pattern, `apps/<team>/*`: each file sits one level below it.
                const [{ path: pattern }] = appSet.generators[0].git.directories;
                assert.strictEqual(pattern, `${GITOPS_APPS_PATH}/${team}/*`);
                const appDirs = new Set(
                    Object.keys(run.pullRequestFiles)
                        .filter((f) => f.startsWith(`${GITOPS_APPS_PATH}/`))
                        .map((f) => path.posix.dirname(f)),
                );
                assert.deepStrictEqual([...appDirs], [`${GITOPS_APPS_PATH}/${team}/${sample.parameters.name}`]);
                assert.deepStrictEqual(
                    [appSet.template.spec.project, appSet.template.spec.destination.namespace],
                    [team, team],
                );
                // The Application's name, as Argo CD renders the template for this directory (a name already normalised).
                const appName = appSet.template.metadata.name.replace(
                    "{{ .path.basenameNormalized }}",
                    sample.parameters.name,
                );
                assert.strictEqual(catalogInfo.metadata.annotations!["argocd/app-name"], appName);
                // Argo CD applies every file of the directory: each object a kind the team's project allows, none of Argo CD's.
                const allowed: { group: string; kind: string }[] = (
                    teamProject({ name: team, namespace: team }, GITOPS_REPO) as any
                ).namespaceResourceWhitelist;
                for (const o of objects) {
                    const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
                    assert.ok(
                        allowed.some((k) => k.group === group && k.kind === o.kind),
                        `${o.kind} (${group || "core"}) is not in the team project's allowlist`,
                    );
                    assert.strictEqual(o.metadata.namespace, team, `${o.kind} ${o.metadata.name}`);
                }
            });

            it(`${label}: registers a valid component linking to its ArgoCD application and MLflow model`, async () => {
                const { catalogInfo, run } = runs.get(sample)!;
                await assertValidEntity(catalogInfo);
                const team = teamOf(sample);
                assert.deepStrictEqual(catalogInfo.spec!.owner, sample.parameters.team);
                // The ApplicationSet names the Application `<team>.<directory>` (components/portal/gitops.ts).
                const argoApp = `${team}.${sample.parameters.name}`;
                assert.strictEqual(catalogInfo.metadata.annotations!["argocd/app-name"], argoApp);
                assert.deepStrictEqual(
                    catalogInfo.metadata.links!.map((l) => l.url),
                    [
                        `${ENVIRONMENT.argocdUrl}/applications/${argoApp}`,
                        `${ENVIRONMENT.mlflowUrl}/#/models/${sample.parameters.modelName}/versions/${sample.parameters.modelVersion}`,
                    ],
                );
                assert.deepStrictEqual(run.registered, [
                    `https://github.com/acme/gpu-gitops/blob/main/catalog/${team}/${sample.parameters.name}/catalog-info.yaml`,
                ]);
                const pullRequest = run.calls.find((c) => c.action === "publish:github:pull-request")!.input;
                assert.strictEqual(pullRequest.repoUrl, ENVIRONMENT.gitopsRepoUrl);
                for (const field of ["branchName", "title", "description"])
                    assert.ok(pullRequest[field], `publish:github:pull-request needs ${field}`);
            });
        }

        it("prices what it asks as the cost tracker's catalog does: 8 H100s for 6 hours, $330.24, shown on the Job", () => {
            const { approval, workload } = runs.get(SAMPLES[5])!;
            // 8 × 6 h × $6.88
            assert.strictEqual(approval.estimatedCostUsd, 330.24);
            // ml-research's $120,000 − $7.32 (the FastAPI sample before it: one share for 8 h, 8 × $0.91490) − $330.24
            assert.strictEqual(approval.remainingUsd, 119_662.44);
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
                const run = await runSample(overClass, tracker, {
                    taskId: `${TASK_ID}-big-${sample.parameters.name}`,
                });
                const { objects, workload } = rendered(overClass, run, approvalOf(run));
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

    describe("the approval and the release, through the portal's actions, as the cost tracker receives them", () => {
        let tracker: Tracker;
        let openapi: Record<string, any>;
        const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
        const actions = new Map(
            gpuPlatformActions({ baseUrl: "http://127.0.0.1:9", portalToken: "unused", groups: [] }).map((a) => [
                a.id,
                a,
            ]),
        );

        beforeEach(async () => {
            tracker = await startTracker(await testDatabase());
            openapi = tracker.app.swagger() as Record<string, any>;
        });
        afterEach(() => tracker.app.close());

        const writesTo = (route: RegExp) => tracker.writes.filter((w) => route.test(w.url));
        const requestsOf = async (team: string) =>
            (await tracker.app.inject({ method: "GET", url: `/v1/gpu-requests?team=${team}` })).json();

        for (const file of TEMPLATE_FILES) {
            it(`${file}: approves and releases with the portal's actions, their declared inputs only, and reads only their outputs`, () => {
                const template = loadTemplate(path.join(TEMPLATES_DIR, file));
                const step = (id: string) => template.spec.steps.find((s) => s.id === id)!;
                const uses = [
                    [step("requestGpus"), "gpu-platform:request-gpus"],
                    [step("releaseReservation"), "gpu-platform:release-gpus"],
                ] as const;
                for (const [s, id] of uses) {
                    assert.strictEqual(s.action, id, `step ${s.id}`);
                    const schema = actions.get(id)!.schema!.input!;
                    const given = Object.keys(s.input ?? {});
                    assert.deepStrictEqual(
                        given.filter((k) => !Object.hasOwn(schema.properties, k)),
                        [],
                        `${s.id}`,
                    );
                    assert.deepStrictEqual(
                        schema.required.filter((k: string) => !given.includes(k)),
                        [],
                        `${s.id}`,
                    );
                }
                assert.match(
                    String(step("releaseReservation").if),
                    /failure\(\) and steps\.requestGpus\.output\.reservationId/,
                );
                assert.ok(
                    !fs.readFileSync(path.join(TEMPLATES_DIR, file), "utf8").includes("/proxy/cost-tracker"),
                    "no step writes through the proxy, which is GET only",
                );
                const outputs = actions.get("gpu-platform:request-gpus")!.schema!.output!.properties;
                const read = fieldsRead(file);
                assert.deepStrictEqual(
                    read.filter((f) => !Object.hasOwn(outputs, f)),
                    [],
                    "every field the template reads is an output of gpu-platform:request-gpus",
                );
                assert.ok(
                    ["reservationId", "estimatedCostUsd", "remainingUsd", "expiresAt"].every((f) => read.includes(f)),
                );
            });

            it(`${file}: POST /v1/gpu-requests gets the portal's credential, the user, the user's catalog teams, the task's key and a body the OpenAPI document accepts`, async () => {
                const sample = SAMPLES.find((s) => s.template === file)!;
                const run = await runSample(sample, tracker);
                assert.strictEqual(run.error, undefined, run.log.join("\n"));
                assert.deepStrictEqual(
                    tracker.writes.map((w) => `${w.method} ${w.url}`),
                    ["POST /v1/gpu-requests"],
                );
                const [write] = tracker.writes;
                assert.deepStrictEqual(
                    {
                        authorization: write.headers.authorization,
                        "x-acting-user": write.headers["x-acting-user"],
                        "x-acting-user-teams": write.headers["x-acting-user-teams"],
                        "idempotency-key": write.headers["idempotency-key"],
                    },
                    {
                        authorization: `Bearer ${PORTAL_TOKEN}`,
                        "x-acting-user": ADA,
                        // ada's three Groups in the catalog double, by name.
                        "x-acting-user-teams": "applied-ml,inference,ml-research",
                        // One key per task and step: a retried task gets the first decision.
                        "idempotency-key": `backstage:${TASK_ID}:requestGpus`,
                    },
                );
                const schema = openapi.paths["/v1/gpu-requests"].post.requestBody.content["application/json"].schema;
                assert.ok(ajv.validate(schema, write.body), JSON.stringify(ajv.errors));
                assert.deepStrictEqual(write.body, {
                    team: teamOf(sample),
                    pool: sample.parameters.pool,
                    gpuResource: sample.parameters.gpuResource,
                    gpus: sample.parameters.gpus,
                    hours: sample.parameters.hours,
                    priorityClass: sample.parameters.priorityClass,
                    requester: ADA,
                    purpose: (write.body as any).purpose,
                    workload: {
                        namespace: teamOf(sample),
                        kind: sample.kind === "server" ? "Deployment" : "Job",
                        name: sample.parameters.name,
                    },
                });
                assert.strictEqual(
                    run.calls.find((c) => c.step === "releaseReservation"),
                    undefined,
                    "nothing to release after a run that succeeded",
                );
            });
        }

        it("a user outside the team is refused by the action before the cost tracker is asked: nothing reserved, nothing written", async () => {
            const run = await runSample(SAMPLES[5], tracker, { userRef: GRACE }); // ml-research's training Job
            assert.strictEqual(
                run.error,
                "user:default/grace is not a member of team ml-research, so cannot spend its GPU budget; your teams: inference.",
            );
            assert.deepStrictEqual(tracker.writes, []);
            assert.deepStrictEqual(await requestsOf("ml-research"), []);
            assert.deepStrictEqual(
                run.calls.map((c) => c.step),
                ["requestGpus"],
            );
            assert.deepStrictEqual(run.pullRequestFiles, {});
        });

        it("the cost tracker itself refuses the portal's credential for a team outside the acting user's, and without an acting user (403)", async () => {
            const write = (headers: Record<string, string>) =>
                tracker.app.inject({
                    method: "POST",
                    url: "/v1/gpu-requests",
                    headers: { authorization: `Bearer ${PORTAL_TOKEN}`, "idempotency-key": "direct-1", ...headers },
                    payload: {
                        team: "ml-research",
                        pool: "h100",
                        gpuResource: "nvidia.com/gpu",
                        gpus: 1,
                        hours: 1,
                        priorityClass: "research",
                        requester: GRACE,
                    },
                });
            const outside = await write({ "x-acting-user": GRACE, "x-acting-user-teams": "inference" });
            assert.strictEqual(outside.statusCode, 403, outside.body);
            assert.match(outside.json().message, /may not act for ml-research; it may act for inference/);
            const anonymous = await write({});
            assert.strictEqual(anonymous.statusCode, 403, anonymous.body);
            assert.match(anonymous.json().message, /^X-Acting-User: /);
            assert.deepStrictEqual(await requestsOf("ml-research"), []);
        });

        it("a rejection stops the template with the reason and the remaining budget in words; nothing reaches Git or the catalog", async () => {
            await spend(tracker.app, "applied-ml", 39_990);
            // TorchServe for applied-ml: 1 time-sliced share for 24 h, 24 × $0.91490 = $21.96, under critical-agents,
            // a class that passes the budget only for the admin and the platform, not the portal.
            const run = await runSample(SAMPLES[1], tracker);
            assert.strictEqual(
                run.error,
                "Not approved: 1 × nvidia.com/gpu.shared on a100-shared for 24 h is estimated at $21.96, and team applied-ml " +
                    "has $10.00 left this month after what is spent and reserved. It fits once money is freed (running work ends, " +
                    "reservations are released or expire, or a new month starts): try again later, or ask for fewer GPUs or fewer hours.",
            );
            const [decision] = await requestsOf("applied-ml");
            assert.deepStrictEqual([decision.status, decision.requester], ["rejected", `${ADA} via portal`]);
            assert.deepStrictEqual(
                run.calls.map((c) => c.step),
                ["requestGpus"],
            );
            assert.deepStrictEqual(run.pullRequestFiles, {});
            assert.deepStrictEqual(run.registered, []);
        });

        it("a failure after the approval releases the reservation as the same user, so the budget is not held for a workload that never runs", async () => {
            const run = await runSample(SAMPLES[5], tracker, {
                failPullRequest: "Resource not accessible by integration",
            });
            assert.strictEqual(run.error, "Resource not accessible by integration");
            assert.deepStrictEqual(
                run.calls.map((c) => c.step),
                ["requestGpus", "renderWorkload", "openPullRequest", "releaseReservation"],
            );
            const id = approvalOf(run).reservationId;
            const [release] = writesTo(/\/release$/);
            assert.strictEqual(release.url, `/v1/gpu-requests/${id}/release`);
            assert.deepStrictEqual(
                [release.headers.authorization, release.headers["x-acting-user"]],
                [`Bearer ${PORTAL_TOKEN}`, ADA],
            );
            const requests = await requestsOf("ml-research");
            assert.deepStrictEqual(
                requests.map((r: any) => [r.status, r.reservation]),
                [["approved", "released"]],
            );
            const team = (await tracker.app.inject({ method: "GET", url: "/v1/teams" }))
                .json()
                .find((t: any) => t.name === "ml-research");
            assert.strictEqual(team.reservedUsd, 0);
        });

        it("a dry run prices the ask from the cost tracker's pools and reserves nothing", async () => {
            const run = await runSample(SAMPLES[5], tracker, { dryRun: true }); // 8 H100s for 6 h for ml-research
            assert.strictEqual(run.error, undefined, run.log.join("\n"));
            assert.deepStrictEqual(approvalOf(run), {
                reservationId: "dry-run",
                status: "dry-run",
                team: "ml-research",
                estimatedCostUsd: 330.24, // 8 × 6 h × $6.88
                remainingUsd: 119_669.76, // $120,000 − $330.24
                overBudget: false,
            });
            assert.deepStrictEqual(tracker.writes, []);
            assert.deepStrictEqual(await requestsOf("ml-research"), []);
            assert.ok(
                !run.calls.some((c) => c.action === "publish:github:pull-request"),
                "a dry run opens no pull request",
            );
        });

        it("a retried task gets the first decision: one reservation, the same id", async () => {
            const first = await runSample(SAMPLES[5], tracker);
            const second = await runSample(SAMPLES[5], tracker);
            assert.strictEqual(second.error, undefined, second.log.join("\n"));
            assert.strictEqual(approvalOf(second).reservationId, approvalOf(first).reservationId);
            assert.strictEqual((await requestsOf("ml-research")).length, 1);
        });
    });
});

/** The outputs of the approval a template reads: `steps.requestGpus.output.<field>` in it, `values.approval.<field>` in the skeleton. */
function fieldsRead(file: string): string[] {
    const skeleton = readAll(path.join(TEMPLATES_DIR, "skeleton"));
    const text = fs.readFileSync(path.join(TEMPLATES_DIR, file), "utf8");
    const fields = [
        ...text.matchAll(/steps\.requestGpus\.output\.(\w+)/g),
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
