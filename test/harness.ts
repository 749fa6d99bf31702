/**
 * The one mock harness every spec uses. Importing it installs Pulumi's mocks (before any code
 * under test creates a resource) with the same fake cloud and recorder the offline plan uses.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { installRecordingMocks, RecordedResource } from "@gpu-platform/offline/recorder";
import type { PlatformConfig } from "../stacks";

export const PROJECT = "gpu-platform";
export const recording = installRecordingMocks(PROJECT, "test");
export const REPO_ROOT = path.resolve(__dirname, "..");

/** The value inside an Output, for assertions. */
export function promiseOf<T>(output: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
    return new Promise((resolve) => pulumi.output(output).apply((value) => resolve(value)));
}

/** Forgets earlier resources, runs `build`, and waits until everything it registered is recorded. */
export async function record<T>(build: () => T): Promise<{ result: T; resources: RecordedResource[] }> {
    recording.reset();
    const result = build();
    await recording.settle();
    return { result, resources: [...recording.resources] };
}

export function ofType(resources: RecordedResource[], type: string): RecordedResource[] {
    return resources.filter((r) => r.type === type);
}

export function named(resources: RecordedResource[], type: string, name: string): RecordedResource {
    const found = resources.find((r) => r.type === type && r.name === name);
    if (!found)
        throw new Error(
            `no ${type} named ${name}; have: ${ofType(resources, type)
                .map((r) => r.name)
                .join(", ")}`,
        );
    return found;
}

/** The raw values of a stack file's project-namespace keys, as Pulumi would hand them to the program. */
export function stackConfig(stack: string): Record<string, unknown> {
    const file = parse(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
        config?: Record<string, unknown>;
    };
    const prefix = `${PROJECT}:`;
    return Object.fromEntries(
        Object.entries(file.config ?? {})
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), value]),
    );
}

/** A stack's validated config; fails the test with every problem if it does not validate. */
export function validStackConfig(stack: string): PlatformConfig {
    // Imported here so the mocks above are installed before any component module loads.
    const { validatePlatformConfig } = require("../stacks") as typeof import("../stacks");
    const result = validatePlatformConfig(stackConfig(stack), PROJECT, stack);
    if (!result.config)
        throw new Error(
            `Pulumi.${stack}.yaml is invalid:\n${result.problems.map((p) => `${p.key}: ${p.message}`).join("\n")}`,
        );
    return result.config;
}

/** The problems a stack's config has once `edit` has changed its raw values, one `key: message` line each. */
export function configProblems(stack: string, edit: (raw: any) => void): string[] {
    const { validatePlatformConfig } = require("../stacks") as typeof import("../stacks");
    const raw = stackConfig(stack);
    edit(raw);
    return validatePlatformConfig(raw, PROJECT, stack).problems.map((p) => `${p.key}: ${p.message}`);
}
