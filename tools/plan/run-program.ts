/**
 * Runs a Pulumi TypeScript program in-process under the recording mocks, with a stack's config,
 * and returns what it registered. Errors a user can fix come back as PlanInputError lines.
 */
import * as pulumi from "@pulumi/pulumi";
import { installRecordingMocks, RecordedResource } from "../offline/recorder";
import { PlanInputError } from "./options";
import type { ProgramProject, StackConfig } from "./stack-config";

export async function runProgram(project: ProgramProject, stack: string, config: StackConfig): Promise<RecordedResource[]> {
    const recording = installRecordingMocks(project.name, stack);
    pulumi.runtime.setAllConfig(config);

    const failures: unknown[] = [];
    const onRejection = (reason: unknown) => failures.push(reason);
    process.on("unhandledRejection", onRejection);
    // A program's own console output must not mix into --json on stdout.
    const log = console.log;
    console.log = console.error;
    // The SDK captures a stack trace for every promise and resource, for the engine's source
    // positions and leak reports; the plan needs neither, and capturing them is a third of its time.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        require(project.main);
        await recording.settle();
    } catch (err) {
        failures.push(err);
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
        console.log = log;
        process.off("unhandledRejection", onRejection);
    }
    if (failures.length > 0) throw new PlanInputError(failures.flatMap((f) => describeFailure(f, project)));
    return recording.resources;
}

function describeFailure(err: unknown, project: ProgramProject): string[] {
    if (pulumi.RunError.isInstance(err)) return (err as Error).message.split("\n").map((line) => line.trimEnd());
    if (pulumi.InputPropertiesError.isInstance(err)) {
        return [err.message, ...err.errors.map((e) => `  - ${e.propertyPath}: ${e.reason}`)];
    }
    if (pulumi.InputPropertyError.isInstance(err)) return [`${err.propertyPath}: ${err.reason}`];
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    return [`program ${project.main} failed: ${message}`];
}
