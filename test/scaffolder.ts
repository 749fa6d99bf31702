/**
 * Runs a Backstage software template as the scaffolder runs it, offline: the scaffolder's own
 * workflow runner (`NunjucksWorkflowRunner` of @backstage/plugin-scaffolder-backend, which
 * renders step inputs and `if:` conditions with nunjitsu and the scaffolder's filters, gives
 * `context.task.id`, skips steps after a failure unless their `if:` calls `failure()`), its real
 * `fetch:template` and `catalog:register` actions, and doubles for the actions that reach other
 * systems: `http:backstage:request` (answered by a function, as the Backstage proxy would
 * forward it) and `publish:github:pull-request` (keeps the workspace it would push).
 *
 * The runner is not part of the package's public API (its index exports the actions only), so
 * it is loaded from the file the scaffolder itself loads; the package is pinned to an exact
 * version, and a move of that file fails here, loudly.
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

const SCAFFOLDER_BACKEND = path.dirname(require.resolve("@backstage/plugin-scaffolder-backend/package.json"));
const { NunjucksWorkflowRunner } = require(
    path.join(SCAFFOLDER_BACKEND, "dist/scaffolder/tasks/NunjucksWorkflowRunner.cjs.js"),
);

/** What one `http:backstage:request` step asked for, as its input was rendered. */
export interface HttpRequestInput {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: unknown;
}

/** The answer a `http:backstage:request` double gives: the status and the parsed JSON body. */
export interface HttpAnswer {
    code: number;
    body: unknown;
}

export interface TemplateRunOptions {
    /** The form's values, as the scaffolder's router receives them. */
    parameters: Record<string, unknown>;
    /** `scaffolder.defaultEnvironment.parameters` of the app-config. */
    environment: Record<string, string>;
    /** The signed-in user's entity ref. */
    userRef: string;
    taskId: string;
    /** Answers each `http:backstage:request`. */
    http: (input: HttpRequestInput) => Promise<HttpAnswer>;
    /** Makes `publish:github:pull-request` fail, as GitHub would on a missing token or branch protection. */
    failPullRequest?: string;
}

export interface TemplateRun {
    /** The first step's error message, when the task failed. */
    readonly error?: string;
    /** The task's log lines, colours removed. */
    readonly log: string[];
    /** Each action call in order: the step, the action and its rendered input. */
    readonly calls: { step: string; action: string; input: Record<string, any> }[];
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

    const recorded = (action: { id: string; handler: (ctx: any) => Promise<void> }) => ({
        ...action,
        handler: async (ctx: any) => {
            calls.push({ step: ctx.step.id, action: action.id, input: ctx.input });
            return action.handler(ctx);
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
    const actions = [
        createFetchTemplateAction({ reader: {} as any, integrations }),
        createCatalogRegisterAction({ catalog: catalog as any, integrations }),
        {
            id: "http:backstage:request",
            // As @roadiehq/scaffolder-backend-module-http-request 5.8.0 (actions/run/helpers): an answer of 400 or more is logged with its body and fails the step.
            handler: async (ctx: any) => {
                const { code, body } = await options.http(ctx.input);
                if (code >= 400) {
                    ctx.logger.error(
                        `There was an issue with your request. Status code: ${code} Response body: ${JSON.stringify(body)}`,
                    );
                    throw new Error("Unable to complete request");
                }
                ctx.output("code", code);
                ctx.output("body", body);
            },
        },
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
        isDryRun: false,
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
