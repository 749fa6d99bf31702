/**
 * An in-process engine for a Pulumi program: `pulumi.runtime.setMocks` with the fake cloud,
 * plus a record of every resource the program registers (urn, type, name, parent, inputs).
 * The test harness and the offline plan both run programs through it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import type { PlanResource } from "gpu-dev-platform-policies/runner";
import { FakeCloud } from "./fake-cloud";

/**
 * A resource as the offline engine and the mock harness record it: what the policy runner
 * takes (policies/runner.ts `PlanResource`: urn, type, name, parent, provider, inputs with
 * secrets still wrapped, outputs, dependencies, property dependencies, protect), and more.
 */
export interface RecordedResource extends PlanResource {
    /** False for component resources. */
    readonly custom: boolean;
    /** Urns of the resources it depends on, explicitly or through its inputs. */
    readonly dependencies: string[];
    /** Outputs the fake cloud gave it, and a component's registered outputs. */
    readonly outputs: Record<string, unknown>;
    /** The id the fake cloud gave a custom resource. */
    readonly id?: string;
    /** True for a resource the program read (`Resource.get`) rather than created. */
    readonly read?: boolean;
    readonly retainOnDelete?: boolean;
}

export interface Recording {
    readonly resources: RecordedResource[];
    /** Forgets what was recorded, for the next program or test. */
    reset(): void;
    /** Waits until every registration the program started has completed. */
    settle(): Promise<void>;
}

interface PendingRegistration {
    urn: string;
    parent: string | null;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    protect?: boolean;
    retainOnDelete?: boolean;
}

/**
 * Installs the mocks and returns the recording. Call before the program under test creates
 * its first resource.
 */
export function installRecordingMocks(project: string, stack: string, cloud: FakeCloud = new FakeCloud()): Recording {
    const resources: RecordedResource[] = [];
    let pending: PendingRegistration | undefined;

    void pulumi.runtime.setMocks(
        {
            newResource(args) {
                const registration = pending ?? {
                    urn: `urn:pulumi:${stack}::${project}::${args.type}::${args.name}`,
                    parent: null,
                    dependencies: [],
                    propertyDependencies: {},
                };
                pending = undefined;
                const result = cloud.newResource(args, registration.urn);
                resources.push({
                    urn: registration.urn,
                    type: args.type,
                    name: args.name,
                    parent: registration.parent,
                    custom: args.custom !== false,
                    provider: args.provider || undefined,
                    dependencies: registration.dependencies,
                    propertyDependencies: registration.propertyDependencies,
                    inputs: toPlain(args.inputs ?? {}) as Record<string, unknown>,
                    outputs: result.state,
                    protect: registration.protect,
                    retainOnDelete: registration.retainOnDelete,
                });
                return result;
            },
            call: (args) => cloud.call(args),
        },
        project,
        stack,
        false,
    );

    // The mock monitor does not pass a resource's parent to the mocks; capture it on the way in.
    // `newResource` runs synchronously at the start of `registerResource`, before any await.
    const monitor = settings.getMonitor() as unknown as {
        registerResource(req: RegisterRequest, callback: unknown): Promise<void>;
        newUrn(parent: string, type: string, name: string): string;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        const parent = req.getParent() || null;
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps, key) => {
            propertyDependencies[key] = deps.getUrnsList();
        });
        pending = {
            urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
            parent,
            dependencies: req.getDependenciesList(),
            propertyDependencies,
            protect: req.getProtect() || undefined,
            retainOnDelete: req.getRetainondelete() || undefined,
        };
        return register(req, callback);
    };

    return {
        resources,
        reset: () => resources.splice(0, resources.length),
        // Internal to the SDK (not in its typings), and what `pulumi up` itself waits on.
        settle: () => (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs(),
    };
}

interface RegisterRequest {
    getParent(): string;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(fn: (deps: { getUrnsList(): string[] }, key: string) => void): void };
    getType(): string;
    getName(): string;
    getProtect(): boolean;
    getRetainondelete(): boolean;
}

/** Inputs as plain JSON data: resources referenced by their urn, secrets and unknowns unwrapped. */
function toPlain(value: unknown): unknown {
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map(toPlain);
    if (pulumi.Resource.isInstance(value))
        return { resource: (value as { __pulumiType?: string }).__pulumiType ?? "resource" };
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
}
