/**
 * The engine's side of `pulumi preview`, offline: a gRPC resource monitor that a program's own
 * Pulumi SDK connects to exactly as it connects to the CLI's, answering from the fake cloud. The program runs in a process of its own, under the SDK's own language host
 * (`@pulumi/pulumi/cmd/run`), so what it does to its globals cannot touch what is recorded here,
 * and a team's newer or older SDK speaks the same protocol.
 *
 * The program gets no engine address: its SDK then writes its log to the console, which the plan
 * shows, instead of making one serialized RPC per line (about 450 debug lines for prod).
 *
 * Protocol: pulumi/proto/pulumi/resource.proto, as generated into
 * @pulumi/pulumi/proto; the engine computes urns as pkg/resource/urn.go does (the parent's type
 * chain, without the stack's own type).
 */
import type { Duplex } from "stream";
import * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as callbackproto from "@pulumi/pulumi/proto/callback_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as resrpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import { OUTPUT_VALUE_SIG, RESOURCE_SIG, SIG_KEY, wireSecret } from "gpu-dev-platform-policies/lib/wire";
import { FakeCloud } from "./fake-cloud";
import type { RecordedResource } from "./recorder";
import { ResourceTransforms } from "./transforms";

export const STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * Monitor features the plan answers yes to. Output values stay off (the SDK then sends plain
 * values, as to a provider without them). Resource transforms run as the engine runs them
 * (transforms.ts); invoke transforms and hooks need more of the callback protocol than the plan
 * speaks, and the SDK refuses them plainly without it.
 */
const FEATURES = new Set([
    "secrets",
    "resourceReferences",
    "deletedWith",
    "aliasSpecs",
    "parameterization",
    "transforms",
]);

export interface EngineRecording {
    /** Every resource registered or read, the stack resource excepted, in registration order. */
    readonly resources: RecordedResource[];
    /** The stack resource's urn, once the program registered it. */
    readonly stackUrn?: string;
    /** The stack's outputs, as registered with the stack resource (secrets still wrapped). */
    readonly outputs?: Record<string, unknown>;
}

/** Told of each resource as it is recorded, and of outputs a resource registers later, while the program runs. */
export interface EngineListener {
    recorded(resource: RecordedResource): void;
    outputsChanged(urn: string): void;
    /** The program's SDK says it is done (SignalAndWaitForShutdown): nothing more will be registered. */
    finished?(recording: EngineRecording): void;
}

/** Where the engine's connections come from: each accepted socket, passed on once the engine takes them. */
export interface ConnectionSource {
    handTo(accept: (socket: Duplex) => void): void;
}

type Callback<T> = (error: grpc.ServiceError | null, response?: T) => void;
type Handler<Req, Res> = (call: { request: Req }, callback: Callback<Res>) => void;

export class OfflineEngine {
    private readonly server = new grpc.Server();
    private readonly resources: RecordedResource[] = [];
    private readonly byUrn = new Map<string, RecordedResource>();
    private stackUrn?: string;
    private outputs?: Record<string, unknown>;
    private readonly transforms = new ResourceTransforms();
    private listener?: EngineListener;

    constructor(
        private readonly project: string,
        private readonly stack: string,
        private readonly cloud: FakeCloud = new FakeCloud(),
    ) {
        this.server.addService(resrpc.ResourceMonitorService, {
            supportsFeature: this.handle<resproto.SupportsFeatureRequest, resproto.SupportsFeatureResponse>((req) =>
                new resproto.SupportsFeatureResponse().setHassupport(FEATURES.has(req.getId())),
            ),
            registerResource: this.handleAsync<resproto.RegisterResourceRequest, resproto.RegisterResourceResponse>(
                async (req) => {
                    await this.transforms.apply(req);
                    return this.registerResource(req);
                },
            ),
            registerStackTransform: this.handle<callbackproto.Callback, emptyproto.Empty>((req) => {
                this.transforms.registerStack(req);
                return new emptyproto.Empty();
            }),
            registerResourceOutputs: this.handle<resproto.RegisterResourceOutputsRequest, emptyproto.Empty>((req) =>
                this.registerOutputs(req),
            ),
            readResource: this.handle<resproto.ReadResourceRequest, resproto.ReadResourceResponse>((req) =>
                this.readResource(req),
            ),
            invoke: this.handle<resproto.ResourceInvokeRequest, provproto.InvokeResponse>((req) => this.invoke(req)),
            registerPackage: this.handle<resproto.RegisterPackageRequest, resproto.RegisterPackageResponse>((req) =>
                new resproto.RegisterPackageResponse().setRef(`${req.getName()}@${req.getVersion()}`),
            ),
            signalAndWaitForShutdown: this.handle<emptyproto.Empty, emptyproto.Empty>(() => {
                this.listener?.finished?.(this.recording());
                return new emptyproto.Empty();
            }),
        });
    }

    /**
     * Serves the connections of `connections`, a server the caller opened (and may have handed to
     * the program) before this module was loaded; connections it accepted before now are served too.
     */
    serve(connections: ConnectionSource): void {
        const injector = this.server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
        connections.handTo((socket) => injector.injectConnection(socket));
    }

    listen(listener: EngineListener): void {
        this.listener = listener;
    }

    stop(): void {
        this.transforms.close();
        this.server.forceShutdown();
    }

    recording(): EngineRecording {
        return { resources: [...this.resources], stackUrn: this.stackUrn, outputs: this.outputs };
    }

    /** Wraps a handler so that a malformed request fails that call alone, never the plan. */
    private handle<Req, Res>(fn: (req: Req) => Res): Handler<Req, Res> {
        return (call, callback) => {
            try {
                callback(null, fn(call.request));
            } catch (err) {
                callback({
                    code: grpc.status.INTERNAL,
                    details: err instanceof Error ? err.message : String(err),
                } as grpc.ServiceError);
            }
        };
    }

    /** As `handle`, for a handler that waits on the program (a transform's callback). */
    private handleAsync<Req, Res>(fn: (req: Req) => Promise<Res>): Handler<Req, Res> {
        return (call, callback) => {
            fn(call.request).then(
                (response) => callback(null, response),
                (err: unknown) =>
                    callback({
                        code: grpc.status.INTERNAL,
                        details: err instanceof Error ? err.message : String(err),
                    } as grpc.ServiceError),
            );
        };
    }

    private urnOf(parent: string, type: string, name: string): string {
        const parentType = parent ? parent.split("::")[2] : undefined;
        const qualified = parentType && parentType !== STACK_TYPE ? `${parentType}$${type}` : type;
        return `urn:pulumi:${this.stack}::${this.project}::${qualified}::${name}`;
    }

    private registerResource(req: resproto.RegisterResourceRequest): resproto.RegisterResourceResponse {
        const type = req.getType();
        const parent = req.getParent();
        const urn = this.urnOf(parent, type, req.getName());
        this.transforms.remember(urn, req);
        if (type === STACK_TYPE && !parent) {
            this.stackUrn = urn;
            return new resproto.RegisterResourceResponse().setUrn(urn).setObject(structproto.Struct.fromJavaScript({}));
        }
        const inputs = this.fromWire(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps, key) => {
            propertyDependencies[key] = deps.getUrnsList();
        });
        const custom = req.getCustom();
        const { id, state } = this.cloud.newResource(
            {
                type,
                name: req.getName(),
                inputs,
                provider: req.getProvider() || undefined,
                custom,
                id: req.getImportid() || undefined,
            },
            urn,
        );
        this.record({
            urn,
            type,
            name: req.getName(),
            parent: parent && parent !== this.stackUrn ? parent : null,
            custom,
            provider: req.getProvider() || undefined,
            dependencies: uniq([...req.getDependenciesList(), ...Object.values(propertyDependencies).flat()]),
            propertyDependencies,
            inputs,
            outputs: state,
            protect: req.getProtect() || undefined,
            retainOnDelete: req.getRetainondelete() || undefined,
            id,
        });
        return new resproto.RegisterResourceResponse()
            .setUrn(urn)
            .setId(id ?? "")
            .setObject(
                structproto.Struct.fromJavaScript(toStruct(state) as Record<string, structproto.JavaScriptValue>),
            );
    }

    private readResource(req: resproto.ReadResourceRequest): resproto.ReadResourceResponse {
        const parent = req.getParent();
        const urn = this.urnOf(parent, req.getType(), req.getName());
        const inputs = this.fromWire(req.getProperties()?.toJavaScript() ?? {}) as Record<string, unknown>;
        const { state } = this.cloud.newResource(
            {
                type: req.getType(),
                name: req.getName(),
                inputs,
                provider: req.getProvider() || undefined,
                custom: true,
                id: req.getId(),
            },
            urn,
        );
        this.record({
            urn,
            type: req.getType(),
            name: req.getName(),
            parent: parent && parent !== this.stackUrn ? parent : null,
            custom: true,
            provider: req.getProvider() || undefined,
            dependencies: req.getDependenciesList(),
            propertyDependencies: {},
            inputs,
            outputs: state,
            read: true,
            id: req.getId(),
        });
        return new resproto.ReadResourceResponse()
            .setUrn(urn)
            .setProperties(
                structproto.Struct.fromJavaScript(toStruct(state) as Record<string, structproto.JavaScriptValue>),
            );
    }

    private registerOutputs(req: resproto.RegisterResourceOutputsRequest): emptyproto.Empty {
        const outputs = this.fromWire(req.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>;
        if (req.getUrn() === this.stackUrn) this.outputs = outputs;
        else {
            const resource = this.byUrn.get(req.getUrn());
            if (resource) {
                Object.assign(resource.outputs, outputs);
                this.listener?.outputsChanged(resource.urn);
            }
        }
        return new emptyproto.Empty();
    }

    private invoke(req: resproto.ResourceInvokeRequest): provproto.InvokeResponse {
        const inputs = this.fromWire(req.getArgs()?.toJavaScript() ?? {}) as Record<string, unknown>;
        const result = this.cloud.call({ token: req.getTok(), inputs, provider: req.getProvider() || undefined });
        return new provproto.InvokeResponse().setReturn(
            structproto.Struct.fromJavaScript(toStruct(result) as Record<string, structproto.JavaScriptValue>),
        );
    }

    private record(resource: RecordedResource): void {
        this.resources.push(resource);
        this.byUrn.set(resource.urn, resource);
        this.listener?.recorded(resource);
    }

    /**
     * A wire value as the engine hands it to a provider or a policy: a resource reference
     * becomes the referenced resource's id (a component's urn), an output value its value
     * (kept secret if it was); secrets keep their wrapper.
     */
    private fromWire(value: unknown): unknown {
        if (Array.isArray(value)) return value.map((v) => this.fromWire(v));
        if (value === null || typeof value !== "object") return value;
        const object = value as Record<string, unknown>;
        if (object[SIG_KEY] === RESOURCE_SIG) {
            const urn = typeof object.urn === "string" ? object.urn : "";
            const id = object.id ?? this.byUrn.get(urn)?.id;
            return id !== undefined && id !== "" ? id : urn;
        }
        if (object[SIG_KEY] === OUTPUT_VALUE_SIG) {
            const inner = this.fromWire(object.value);
            return object.secret ? wireSecret(inner) : inner;
        }
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(object)) out[key] = this.fromWire(object[key]);
        return out;
    }
}

/** A value a protobuf Struct can hold: undefined members dropped, as JSON would. */
function toStruct(value: unknown): unknown {
    return JSON.parse(JSON.stringify(value ?? {}));
}

function uniq<T>(values: T[]): T[] {
    return [...new Set(values)];
}
