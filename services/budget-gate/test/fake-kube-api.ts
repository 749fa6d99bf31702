/**
 * A Kubernetes API server on 127.0.0.1 that speaks the subset the budget gate uses, with the
 * API server's rules where the gate depends on them:
 * - Workloads (kueue.x-k8s.io/v1beta2): list with the collection's resourceVersion, watch from a
 *   resourceVersion (newline-delimited watch events, streamed), status by server-side apply
 *   (`application/apply-patch+yaml`, `fieldManager` required, `status.admissionChecks` merged by
 *   `name` as the CRD's `x-kubernetes-list-map-keys` says), merge patches of the object
 *   (`application/merge-patch+json`, RFC 7386), a `metadata.resourceVersion` in either body as a
 *   precondition (409 Conflict), deletion held by finalizers (`deletionTimestamp` set, gone when
 *   the last finalizer is removed);
 * - Events (create), Leases (get, create, replace with a resourceVersion precondition), Pods and
 *   ReplicaSets (get).
 * Anything else is a 404 and recorded in `unexpected`, so a spec can assert the gate used no
 * other route. Errors are `Status` objects as the API server sends them.
 *
 * The test plays Kueue (and the Job controller) through `put`, `update` and `remove`.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import * as k8s from "@kubernetes/client-node";
import type { Workload } from "../src/workload";

interface KubeObject {
    metadata: { name: string; namespace: string; resourceVersion?: string; [k: string]: unknown };
    spec?: { holderIdentity?: string; leaseTransitions?: number; [k: string]: unknown };
}

interface WatchEvent {
    readonly rv: number;
    readonly type: "ADDED" | "MODIFIED" | "DELETED";
    readonly object: Workload;
}

export interface RecordedEvent {
    readonly namespace: string;
    readonly involvedObject: { name: string; uid: string; kind: string };
    readonly type: string;
    readonly reason: string;
    readonly message: string;
}

const WORKLOADS = /^\/apis\/kueue\.x-k8s\.io\/v1beta2\/(?:namespaces\/([^/]+)\/)?workloads(?:\/([^/]+))?(\/status)?$/;
const EVENTS = /^\/api\/v1\/namespaces\/([^/]+)\/events$/;
const LEASES = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/;
const OWNED = /^\/(?:api\/v1\/namespaces\/([^/]+)\/pods|apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets)\/([^/]+)$/;

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return clone(patch);
    const out: Record<string, unknown> =
        target && typeof target === "object" && !Array.isArray(target)
            ? { ...(target as Record<string, unknown>) }
            : {};
    for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) continue;
        if (value === null) delete out[key];
        else out[key] = mergePatch(out[key], value);
    }
    return out;
}

function status(code: number, reason: string, message: string) {
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

export class FakeKubeApi {
    readonly unexpected: string[] = [];
    readonly events: RecordedEvent[] = [];
    /** Every request as `METHOD path`, in order. */
    readonly requests: string[] = [];
    private readonly workloads = new Map<string, Workload>();
    private readonly leases = new Map<string, KubeObject>();
    private readonly owned = new Map<string, unknown>();
    private readonly history: WatchEvent[] = [];
    private readonly watchers = new Set<{ res: http.ServerResponse; after: number }>();
    private readonly observers = new Set<(event: WatchEvent) => void>();
    private readonly faults: { method: string; path: RegExp; code: number }[] = [];
    private rv = 1000;
    private server?: http.Server;
    url = "";

    async start(): Promise<this> {
        this.server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
            req.on("end", () => this.handle(req, res, body));
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        return this;
    }

    async close(): Promise<void> {
        for (const w of this.watchers) w.res.end();
        this.watchers.clear();
        this.server?.closeAllConnections();
        await new Promise<void>((resolve) => this.server?.close(() => resolve()));
    }

    /** A kubeconfig for this server, as a pod's in-cluster config would be (a bearer token). */
    kubeConfig(): k8s.KubeConfig {
        const kc = new k8s.KubeConfig();
        kc.loadFromOptions({
            clusters: [{ name: "fake", server: this.url, skipTLSVerify: true }],
            users: [{ name: "budget-gate", token: "service-account-token" }],
            contexts: [{ name: "fake", cluster: "fake", user: "budget-gate" }],
            currentContext: "fake",
        });
        return kc;
    }

    get(namespace: string, name: string): Workload | undefined {
        const w = this.workloads.get(`${namespace}/${name}`);
        return w && clone(w);
    }

    /** Creates or replaces a workload (as Kueue writes it). */
    put(w: Workload): Workload {
        const key = `${w.metadata.namespace}/${w.metadata.name}`;
        const type = this.workloads.has(key) ? "MODIFIED" : "ADDED";
        return this.store(clone(w), type);
    }

    update(namespace: string, name: string, change: (w: Workload) => Workload): Workload {
        const current = this.get(namespace, name);
        if (!current) throw new Error(`no workload ${namespace}/${name}`);
        return this.store(change(current), "MODIFIED");
    }

    /** DELETE: held while finalizers remain, as the API server does. */
    remove(namespace: string, name: string, at: string): void {
        const current = this.get(namespace, name);
        if (!current) return;
        if ((current.metadata.finalizers ?? []).length > 0)
            this.store(
                { ...current, metadata: { ...current.metadata, deletionTimestamp: at as unknown as Date } },
                "MODIFIED",
            );
        else this.drop(current);
    }

    /** A Pod or ReplicaSet the gate may read to find a workload's top owner. */
    addOwned(kind: "Pod" | "ReplicaSet", namespace: string, name: string, owner: k8s.V1OwnerReference): void {
        this.owned.set(`${kind}/${namespace}/${name}`, {
            metadata: { name, namespace, uid: `${kind}-${name}`, ownerReferences: [owner] },
        });
    }

    /** The next `times` workload writes matching `method` and `path` fail with `code` (an API server fault). */
    failNext(method: string, path: RegExp, times = 1, code = 500): void {
        for (let i = 0; i < times; i++) this.faults.push({ method, path, code });
    }

    clearFaults(): void {
        this.faults.length = 0;
    }

    /**
     * Calls `observer` with every workload write as it is stored (the object is the stored one:
     * read it, never change it). A benchmark times decisions this way instead of polling.
     */
    observe(observer: (event: WatchEvent) => void): () => void {
        this.observers.add(observer);
        return () => this.observers.delete(observer);
    }

    lease(namespace: string, name: string): KubeObject | undefined {
        return this.leases.get(`${namespace}/${name}`);
    }

    private store(w: Workload, type: "ADDED" | "MODIFIED"): Workload {
        const stored = { ...w, metadata: { ...w.metadata, resourceVersion: String(++this.rv) } } as Workload;
        this.workloads.set(`${w.metadata.namespace}/${w.metadata.name}`, stored);
        this.emit({ rv: this.rv, type, object: stored });
        return clone(stored);
    }

    private drop(w: Workload): void {
        this.workloads.delete(`${w.metadata.namespace}/${w.metadata.name}`);
        const gone = { ...w, metadata: { ...w.metadata, resourceVersion: String(++this.rv) } } as Workload;
        this.emit({ rv: this.rv, type: "DELETED", object: gone });
    }

    private emit(event: WatchEvent): void {
        this.history.push(event);
        for (const observer of this.observers) observer(event);
        for (const w of this.watchers) if (event.rv > w.after) this.send(w.res, event);
    }

    private send(res: http.ServerResponse, e: WatchEvent): void {
        res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
        const url = new URL(req.url ?? "/", this.url);
        const method = req.method ?? "GET";
        this.requests.push(`${method} ${url.pathname}${url.search}`);
        const json = (code: number, answer: unknown) =>
            void res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(answer));
        try {
            let m: RegExpExecArray | null;
            if ((m = WORKLOADS.exec(url.pathname))) return this.workloadRoute(req, res, url, m, body, json);
            if ((m = EVENTS.exec(url.pathname)) && method === "POST") return this.createEvent(m[1], body, json);
            if ((m = LEASES.exec(url.pathname))) return this.leaseRoute(method, m[1], m[2], body, json);
            if ((m = OWNED.exec(url.pathname)) && method === "GET") {
                const kind = m[1] ? "Pod" : "ReplicaSet";
                const found = this.owned.get(`${kind}/${m[1] ?? m[2]}/${m[3]}`);
                return found ? json(200, found) : json(404, status(404, "NotFound", `${kind} "${m[3]}" not found`));
            }
        } catch (err) {
            return json(400, status(400, "BadRequest", (err as Error).message));
        }
        this.unexpected.push(`${method} ${url.pathname}${url.search}`);
        json(404, status(404, "NotFound", "the server could not find the requested resource"));
    }

    private workloadRoute(
        req: http.IncomingMessage,
        res: http.ServerResponse,
        url: URL,
        m: RegExpExecArray,
        body: string,
        json: (code: number, answer: unknown) => void,
    ): void {
        const [, namespace, name, statusSub] = m;
        if (req.method === "GET" && !name) {
            if (url.searchParams.get("watch") === "true") return this.watch(res, url);
            const items = [...this.workloads.values()].filter((w) => !namespace || w.metadata.namespace === namespace);
            return json(200, {
                apiVersion: "kueue.x-k8s.io/v1beta2",
                kind: "WorkloadList",
                metadata: { resourceVersion: String(this.rv) },
                items,
            });
        }
        const current = namespace && name ? this.workloads.get(`${namespace}/${name}`) : undefined;
        if (req.method === "GET" && name)
            return current ? json(200, current) : json(404, status(404, "NotFound", `workloads "${name}" not found`));
        if (req.method !== "PATCH" || !name) {
            this.unexpected.push(`${req.method} ${url.pathname}`);
            return json(405, status(405, "MethodNotAllowed", `${req.method} is not served here`));
        }
        if (!current) return json(404, status(404, "NotFound", `workloads.kueue.x-k8s.io "${name}" not found`));
        const fault = this.faults.findIndex((f) => f.method === req.method && f.path.test(url.pathname));
        if (fault >= 0) {
            const [{ code }] = this.faults.splice(fault, 1);
            return json(code, status(code, "InternalError", "injected by the test"));
        }
        const patch = JSON.parse(body) as Partial<Workload> & { metadata?: { resourceVersion?: string } };
        const precondition = patch.metadata?.resourceVersion;
        if (precondition !== undefined && precondition !== current.metadata.resourceVersion)
            return json(
                409,
                status(
                    409,
                    "Conflict",
                    `Operation cannot be fulfilled on workloads.kueue.x-k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
                ),
            );
        const type = req.headers["content-type"] ?? "";
        if (statusSub) {
            if (!type.startsWith("application/apply-patch+yaml"))
                return json(415, status(415, "UnsupportedMediaType", `the gate applies status; got ${type}`));
            if (!url.searchParams.get("fieldManager"))
                return json(400, status(400, "BadRequest", "fieldManager is required for apply requests"));
            return json(200, this.applyStatus(current, patch));
        }
        if (!type.startsWith("application/merge-patch+json"))
            return json(415, status(415, "UnsupportedMediaType", `expected a merge patch; got ${type}`));
        const { metadata, spec } = mergePatch(current, { metadata: patch.metadata, spec: patch.spec }) as Workload;
        const next = { ...current, metadata: { ...metadata, resourceVersion: current.metadata.resourceVersion }, spec };
        if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
            this.drop(next);
            return json(200, next);
        }
        json(200, this.store(next, "MODIFIED"));
    }

    /** Server-side apply of `status.admissionChecks`: a list map keyed by `name`, the applied entries replace theirs. */
    private applyStatus(current: Workload, patch: Partial<Workload>): Workload {
        const checks = [...(current.status?.admissionChecks ?? [])];
        for (const applied of patch.status?.admissionChecks ?? []) {
            const at = checks.findIndex((c) => c.name === applied.name);
            if (at >= 0) checks[at] = applied;
            else checks.push(applied);
        }
        return this.store({ ...current, status: { ...current.status, admissionChecks: checks } }, "MODIFIED");
    }

    private watch(res: http.ServerResponse, url: URL): void {
        const after = Number(url.searchParams.get("resourceVersion") || "0");
        res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
        res.flushHeaders();
        for (const e of this.history) if (e.rv > after) this.send(res, e);
        const watcher = { res, after };
        this.watchers.add(watcher);
        res.on("close", () => this.watchers.delete(watcher));
    }

    private createEvent(namespace: string, body: string, json: (code: number, answer: unknown) => void): void {
        const event = JSON.parse(body) as RecordedEvent & { metadata: { generateName?: string } };
        this.events.push({ ...event, namespace });
        json(201, {
            ...event,
            metadata: { ...event.metadata, name: `${event.metadata.generateName ?? ""}${this.rv}` },
        });
    }

    private leaseRoute(
        method: string,
        namespace: string,
        name: string | undefined,
        body: string,
        json: (code: number, answer: unknown) => void,
    ): void {
        if (method === "GET" && name) {
            const lease = this.leases.get(`${namespace}/${name}`);
            return lease ? json(200, lease) : json(404, status(404, "NotFound", `leases "${name}" not found`));
        }
        const lease = JSON.parse(body) as KubeObject;
        const key = `${namespace}/${lease.metadata.name}`;
        const current = this.leases.get(key);
        if (method === "POST" && !name) {
            if (current)
                return json(409, status(409, "AlreadyExists", `leases "${lease.metadata.name}" already exists`));
        } else if (method === "PUT" && name) {
            if (!current) return json(404, status(404, "NotFound", `leases "${name}" not found`));
            if (lease.metadata.resourceVersion !== current.metadata.resourceVersion)
                return json(409, status(409, "Conflict", `Operation cannot be fulfilled on leases "${name}"`));
        } else return void this.unexpected.push(`${method} lease ${key}`);
        const stored = { ...lease, metadata: { ...lease.metadata, namespace, resourceVersion: String(++this.rv) } };
        this.leases.set(key, stored);
        json(method === "POST" ? 201 : 200, stored);
    }
}
