/**
 * The offline plan, as a function: runs a program against the offline engine, then the policy
 * pack on what it registered, then prices it. The CLI renders the result; specs call it directly.
 */
import * as path from "path";
import type * as Runner from "gpu-dev-platform-policies/runner";
import type { EngineRecording } from "@gpu-platform/offline/engine";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import type * as Cost from "./cost";
import { PlanInputError } from "./options";
import type { PlanResult } from "./render";
import { runProgram } from "./run-program";
import { readProject, resolveStack } from "./stack-config";

export interface PlanRequest {
    readonly programDir: string;
    readonly stack: string;
    readonly configFile?: string;
    readonly sets?: string[];
    /** Load TypeScript with ts-node, type-checked, as Pulumi's language host does. */
    readonly tsNode?: boolean;
    /** The platform stack whose policy config judges the plan (a team stack's cluster); default `stack`. */
    readonly policyStack?: string;
}

export async function plan(request: PlanRequest): Promise<PlanResult> {
    const project = readProject(request.programDir);
    const { config, secretKeys } = resolveStack(project, request.stack, request.configFile, request.sets ?? []);
    const pack = packWhileRunning(request.policyStack ?? request.stack);
    const run = await runProgram(project, request.stack, config, secretKeys, {
        tsNode: request.tsNode,
        whileRunning: pack.load,
        listener: pack.listener,
    });
    if (run.console.trim()) process.stderr.write(run.console.endsWith("\n") ? run.console : `${run.console}\n`);
    const created = createdOf(run.resources);
    if (created.length === 0) {
        throw new PlanInputError([
            `program ${path.relative(process.cwd(), project.main) || project.main} registered no resources: there is nothing to plan` +
                (run.outputs && Object.keys(run.outputs).length > 0 ? " (it has outputs, but creates nothing)" : ""),
        ]);
    }

    // Recorded resources carry what the policies read: inputs, computed outputs, provider and dependencies.
    const { policyConfig, violations, cost } = await pack.judge(created);
    return {
        project: project.name,
        stack: request.stack,
        program: path.relative(process.cwd(), project.main) || project.main,
        resources: run.resources,
        outputs: run.outputs ?? {},
        violations,
        cost,
        policyConfig: policyConfig.source,
        budget: stackBudgetOf(policyConfig),
        configChanges: [
            ...(request.configFile ? [`--config-file ${request.configFile}`] : []),
            ...(request.sets ?? []).map((set) => `--set ${set.slice(0, set.indexOf("=") + 1)}…`),
        ],
        stackRegion: config[`${project.name}:region`] ?? config["aws:region"],
    };
}

/**
 * The pack and the pricing, loaded once the program's process is running (two processes, two
 * cores), not before it starts: the program's own start-up is the longer path. The pack's
 * resource policies then judge each resource as the program registers it, in this process,
 * which otherwise waits; what is left (stack policies, pricing) starts when the program's SDK
 * says it is done, while its process exits. `judge` hands that on, or judges afresh what it is
 * given if the program registered anything after. A bad policy config is reported there, after
 * the program's own errors, as before.
 */
function packWhileRunning(stack: string) {
    let runner: typeof Runner | undefined;
    let cost: typeof Cost | undefined;
    let loaded: { policyConfig: Runner.PackConfig; run: Runner.PolicyRun } | { error: unknown } | undefined;
    let early: { judged: number; result: Promise<Judged> } | undefined;
    const run = () => (loaded && "run" in loaded ? loaded.run : undefined);
    const judgeNow = async (created: RecordedResource[], fromTheStart = false): Promise<Judged> => {
        if (!loaded) throw new Error("the policy pack was never loaded");
        if ("error" in loaded) throw loaded.error;
        const policyRun = fromTheStart ? new runner!.PolicyRun(loaded.policyConfig) : loaded.run;
        const violations = await policyRun.finish(created);
        return { policyConfig: loaded.policyConfig, violations, cost: cost!.estimateCost(created) };
    };
    return {
        load: () => {
            /* eslint-disable @typescript-eslint/no-require-imports */
            runner = require("gpu-dev-platform-policies/runner") as typeof Runner;
            cost = require("./cost") as typeof Cost;
            /* eslint-enable @typescript-eslint/no-require-imports */
            try {
                const policyConfig = runner.loadPackConfig(stack);
                loaded = { policyConfig, run: new runner.PolicyRun(policyConfig) };
            } catch (error) {
                loaded = { error };
            }
        },
        listener: {
            recorded: (resource: RecordedResource) => run()?.add(resource),
            outputsChanged: (urn: string) => run()?.changed(urn),
            finished: (recording: EngineRecording) => {
                const created = createdOf(recording.resources);
                if (early || created.length === 0) return;
                early = { judged: created.length, result: judgeNow(created) };
                // A program that then fails is reported as such; this result is never read.
                early.result.catch(() => undefined);
            },
        },
        judge: (created: RecordedResource[]): Promise<Judged> => {
            if (!early) return judgeNow(created);
            if (early.judged === created.length) return early.result;
            // Registered after the SDK said it was done: everything is judged again, from the start.
            return judgeNow(created, true);
        },
    };
}

interface Judged {
    readonly policyConfig: Runner.PackConfig;
    readonly violations: Runner.Violation[];
    readonly cost: Cost.CostEstimate;
}

/** What the program creates: everything it registered but what it only reads. */
function createdOf(resources: RecordedResource[]): RecordedResource[] {
    return resources.filter((r) => !r.read);
}

/** The stack's monthly budget as the pack's stack-monthly-budget policy will hold it, unless that policy is off. */
function stackBudgetOf(config: Runner.PackConfig): PlanResult["budget"] {
    const settings = config.policies["stack-monthly-budget"];
    if (!settings || settings.enforcementLevel === "disabled") return undefined;
    const monthlyUsd = settings.config.monthlyBudgetUsd;
    return typeof monthlyUsd === "number" ? { monthlyUsd, level: settings.enforcementLevel } : undefined;
}
