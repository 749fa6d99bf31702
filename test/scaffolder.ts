/**
 * Runs a Backstage software template as the scaffolder runs it, offline: the scaffolder's own
 * workflow runner (`NunjucksWorkflowRunner` of @backstage/plugin-scaffolder-backend, which
 * renders step inputs and `if:` conditions with nunjitsu and the scaffolder's filters, gives
 * `context.task.id`, skips steps after a failure unless their `if:` calls `failure()`), its real
 * `fetch:template` and `catalog:register` actions, the portal's real `gpu-platform:request-gpus`
 * and `gpu-platform:release-gpus` (backstage/plugins/scaffolder-backend-module-gpu-platform,
 * calling the cost tracker over HTTP with the portal's credential and the acting user), and a
 * double for the one action that reaches GitHub, `publish:github:pull-request` (it keeps the
 * workspace it would push).
 *
 * The runner is not part of the package's public API (its index exports the actions only), so
 * it is loaded from the file the scaffolder itself loads; the package is pinned to an exact
 * version, and a move of that file fails here, loudly.
 *
 * The portal's actions are the Backstage workspace's TypeScript source, loaded through
 * esbuild-register (as every spec is). Their runtime imports (@backstage/plugin-scaffolder-node
 * 0.13.7, @backstage/errors, @backstage/catalog-model) resolve from the root's node_modules at
 * the versions the workspace pins; they are required rather than imported so that the root's
 * type check, which does not cover backstage/ (its own `tsc` does), stays out of that workspace.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { parse } from "yaml";
import { ConfigReader } from "@backstage/config";
import { ScmIntegrations } from "@backstage/integration";
import { createCatalogRegisterAction, createFetchTemplateAction } from "@backstage/plugin-scaffolder-backend";
import type { TemplateEntityV1beta3 } from "@backstage/plugin-scaffolder-common";
import { InMemoryCatalogClient } from "@backstage/catalog-client/testUtils";
import { type Entity, type GroupEntityV1alpha1, parseEntityRef, stringifyEntityRef } from "@backstage/catalog-model";

const SCAFFOLDER_BACKEND = path.dirname(require.resolve("@backstage/plugin-scaffolder-backend/package.json"));
const { NunjucksWorkflowRunner } = require(
    path.join(SCAFFOLDER_BACKEND, "dist/scaffolder/tasks/NunjucksWorkflowRunner.cjs.js"),
);

const GPU_MODULE = path.join(__dirname, "..", "backstage", "plugins", "scaffolder-backend-module-gpu-platform", "src");

/** The shape of a scaffolder action as the runner uses it (createTemplateAction's result). */
export interface TemplateAction {
    readonly id: string;
    readonly schema?: { input?: Record<string, any>; output?: Record<string, any> };
    readonly supportsDryRun?: boolean;
    handler(ctx: any): Promise<void>;
}

/** The portal's module, as the scaffolder backend registers it (src/module.ts builds the same). */
interface GpuPlatformModule {
    createRequestGpusAction(options: GpuActionOptions): TemplateAction;
    createReleaseGpusAction(options: GpuActionOptions): TemplateAction;
    CostTrackerClient: new (options: { baseUrl: string; token: string; retryDelaysMs?: number[] }) => unknown;
}
interface GpuActionOptions {
    costTracker: unknown;
    catalog: Pick<InMemoryCatalogClient, "getEntities">;
    auth: { getOwnServiceCredentials(): Promise<unknown> };
}
const gpuPlatform: GpuPlatformModule = {
    ...require(path.join(GPU_MODULE, "actions", "requestGpus.ts")),
    ...require(path.join(GPU_MODULE, "actions", "releaseGpus.ts")),
    ...require(path.join(GPU_MODULE, "costTracker.ts")),
};

/** The portal's side of the cost tracker: where it listens and the portal's own credential. */
export interface PortalCostTracker {
    readonly baseUrl: string;
    readonly portalToken: string;
    /** The catalog's Groups: the teams, with their members (`spec.members`). */
    readonly groups: readonly GroupEntityV1alpha1[];
}

/** The real `gpu-platform:*` actions, wired as the portal's module wires them, against `tracker` and a catalog holding its Groups. */
export function gpuPlatformActions(tracker: PortalCostTracker): TemplateAction[] {
    const options: GpuActionOptions = {
        // No pause between repeats: a spec's tracker either answers or is not there at all.
        costTracker: new gpuPlatform.CostTrackerClient({
            baseUrl: tracker.baseUrl,
            token: tracker.portalToken,
            retryDelaysMs: [],
        }),
        catalog: new InMemoryCatalogClient({ entities: tracker.groups.map(withMembershipRelations) }),
        auth: { getOwnServiceCredentials: async () => ({ $$type: "@backstage/BackstageCredentials" }) },
    };
    return [gpuPlatform.createRequestGpusAction(options), gpuPlatform.createReleaseGpusAction(options)];
}

/**
 * The teams' Groups as the portal's catalog module makes them from the stack's `teams`
 * (backstage/plugins/catalog-backend-module-gpu-teams), each with its members.
 */
export function catalogTeamGroups(teams: readonly { name: string; members: string[] }[]): GroupEntityV1alpha1[] {
    const { teamGroup } = require(
        path.join(__dirname, "..", "backstage", "plugins", "catalog-backend-module-gpu-teams", "src", "teams.ts"),
    );
    return teams.map((team) => teamGroup(team));
}

/**
 * A Group as the catalog holds it once processed: each of `spec.members` a `hasMember` relation
 * to a User (a bare name in the Group's namespace), as the catalog's BuiltinKindsEntityProcessor
 * (@backstage/plugin-catalog-backend, Backstage 1.55.0) emits them. The actions and the form's
 * MyGroupsPicker both find a user's teams through that relation.
 */
function withMembershipRelations(group: GroupEntityV1alpha1): Entity {
    const namespace = group.metadata.namespace ?? "default";
    const relations = (group.spec.members ?? []).map((member) => ({
        type: "hasMember",
        targetRef: stringifyEntityRef(parseEntityRef(member, { defaultKind: "user", defaultNamespace: namespace })),
    }));
    return { ...group, relations };
}

export interface TemplateRunOptions {
    /** The form's values, as the scaffolder's router receives them. */
    parameters: Record<string, unknown>;
    /** `scaffolder.defaultEnvironment.parameters` of the app-config. */
    environment: Record<string, string>;
    /** The signed-in user's entity ref. */
    userRef: string;
    taskId: string;
    /** The cost tracker the portal's actions call, and the catalog's teams. */
    costTracker: PortalCostTracker;
    /** Makes `publish:github:pull-request` fail, as GitHub would on a missing token or branch protection. */
    failPullRequest?: string;
    /** Runs the task as the scaffolder's dry-run API does: actions without dry-run support are skipped. */
    dryRun?: boolean;
}

export interface TemplateRun {
    /** The first step's error message, when the task failed. */
    readonly error?: string;
    /** The task's log lines, colours removed. */
    readonly log: string[];
    /** Each action call in order: the step, the action, its rendered input and the outputs it set. */
    readonly calls: { step: string; action: string; input: Record<string, any>; output: Record<string, any> }[];
    /** The pull request's files (path → text), as the workspace held them when it was opened. */
    readonly pullRequestFiles: Record<string, string>;
    /** The template's rendered `output`, when the task succeeded. */
    readonly output?: Record<string, any>;
    /** Locations `catalog:register` added. */
    readonly registered: string[];
}

export function loadTemplate(file: string): TemplateEntityV1beta3 {
    return parse(fs.readFileSync(file, "utf8")) as TemplateEntityV1beta3;
}

const integrations = ScmIntegrations.fromConfig(new ConfigReader({}));

/** Runs `file`'s steps to the end or the first failure (and the `failure()` steps after it). */
export async function runTemplate(file: string, options: TemplateRunOptions): Promise<TemplateRun> {
    const template = loadTemplate(file);
    const log: string[] = [];
    const calls: TemplateRun["calls"] = [];
    const registered: string[] = [];
    let pullRequestFiles: Record<string, string> = {};

    const recorded = (action: TemplateAction): TemplateAction => ({
        ...action,
        handler: async (ctx: any) => {
            const call = { step: ctx.step.id, action: action.id, input: ctx.input, output: {} as Record<string, any> };
            calls.push(call);
            return action.handler({
                ...ctx,
                output: (name: string, value: unknown) => {
                    call.output[name] = value;
                    ctx.output(name, value);
                },
            });
        },
    });
    const catalog = {
        addLocation: async (location: { target: string; dryRun?: boolean }) => {
            // The pull request is not merged yet: the file is not on the target branch.
            if (location.dryRun) throw new Error(`NotFoundError: ${location.target} not found`);
            registered.push(location.target);
            return { location: { id: "1", type: "url", target: location.target }, entities: [] };
        },
    };
    const actions: TemplateAction[] = [
        createFetchTemplateAction({ reader: {} as any, integrations }),
        createCatalogRegisterAction({ catalog: catalog as any, integrations }),
        ...gpuPlatformActions(options.costTracker),
        {
            id: "publish:github:pull-request",
            handler: async (ctx: any) => {
                if (options.failPullRequest) throw new Error(options.failPullRequest);
                pullRequestFiles = readTree(ctx.workspacePath);
                ctx.output("remoteUrl", "https://github.com/acme/gpu-gitops/pull/7");
                ctx.output("pullRequestNumber", 7);
                ctx.output("targetBranchName", ctx.input.targetBranchName ?? "main");
            },
        },
    ].map(recorded);

    const workingDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "scaffolder-"));
    const logger = {
        error: () => undefined,
        warn: () => undefined,
        info: () => undefined,
        debug: () => undefined,
        child: () => logger,
    };
    const runner = new NunjucksWorkflowRunner({
        actionRegistry: { get: async (id: string) => actions.find((a) => a.id === id) ?? fail(`no action ${id}`) },
        integrations,
        workingDirectory,
        logger,
        config: new ConfigReader({ scaffolder: { defaultEnvironment: { parameters: options.environment } } }),
        metrics: {
            createCounter: () => ({ add: () => undefined }),
            createHistogram: () => ({ record: () => undefined }),
        },
    });
    const task = {
        spec: {
            apiVersion: template.apiVersion,
            steps: template.spec.steps,
            output: template.spec.output ?? {},
            parameters: options.parameters,
            user: { ref: options.userRef },
            templateInfo: {
                entityRef: `template:default/${template.metadata.name}`,
                baseUrl: pathToFileURL(file).href,
            },
        },
        secrets: {},
        isDryRun: options.dryRun ?? false,
        cancelSignal: new AbortController().signal,
        getWorkspaceName: async () => options.taskId,
        getInitiatorCredentials: async () => ({}),
        // eslint-disable-next-line no-control-regex -- strips the ANSI colour codes the runner writes
        emitLog: async (message: string) => void log.push(message.replace(/\x1b\[[0-9;]*m/g, "")),
    };
    try {
        const { output } = await runner.execute(task);
        return { log, calls, pullRequestFiles, output, registered };
    } catch (err) {
        return { error: err instanceof Error ? err.message : String(err), log, calls, pullRequestFiles, registered };
    } finally {
        fs.rmSync(workingDirectory, { recursive: true, force: true });
    }
}

function readTree(dir: string, prefix = ""): Record<string, string> {
    const files: Record<string, string> = {};
    for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
        const relative = path.posix.join(prefix, entry.name);
        if (entry.isDirectory()) Object.assign(files, readTree(dir, relative));
        else files[relative] = fs.readFileSync(path.join(dir, relative), "utf8");
    }
    return files;
}

function fail(message: string): never {
    throw new Error(message);
}
