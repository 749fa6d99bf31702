/**
 * Where Kubernetes objects keep their pod specs, and what GPUs the pods ask for.
 *
 * A pod spec is found wherever one sits, not only in the built-in workload kinds: any object
 * holding a `containers` list is one (`spec` of a Pod, `spec.template.spec` of a Deployment,
 * `spec.pytorchReplicaSpecs.Worker.template.spec` of a PyTorchJob, the head and worker groups
 * of a RayJob, a KEDA ScaledJob's `spec.jobTargetRef.template.spec`, ...). Objects come from a
 * resource's own properties, or from the `objs` and `yaml` of a yaml/v2 ConfigGroup or
 * ConfigFile, which a preview shows as one component (a real preview also shows the objects it
 * creates as resources of their own, checked as any other).
 *
 * A GPU is one unit of `nvidia.com/gpu` (a whole GPU), `nvidia.com/gpu.shared` (a time-sliced
 * replica) or any `nvidia.com/mig-<profile>` resource (a MIG slice); see
 * catalog/workload-classes.ts. Amounts are Kubernetes quantities, read as the API server reads
 * them (catalog/kubernetes-quantity.ts): "16000m" is 16.
 */
import { parseAllDocuments } from "yaml";
import { isGpuResource } from "@gpu-platform/catalog";
import { Quantity, isWholeQuantity, parseQuantity, quantityValue } from "@gpu-platform/catalog/kubernetes-quantity";
import { Props, asList, asRecord, asString, isUnknown } from "./values";

const YAML_V2_COMPONENTS = ["kubernetes:yaml/v2:ConfigGroup", "kubernetes:yaml/v2:ConfigFile"];
/** Kubernetes resource types that are not API objects: charts, manifests, kustomizations (components or releases). */
const NOT_OBJECTS = /^kubernetes:(helm\.sh|yaml|kustomize)\//;
/** Deeper than any real object; a hostile one stops here instead of exhausting the stack. */
const MAX_DEPTH = 64;

/** True for every type whose properties may hold Kubernetes objects with pod specs. */
export function holdsKubernetesObjects(type: string): boolean {
    return (
        YAML_V2_COMPONENTS.includes(type) ||
        (type.startsWith("kubernetes:") &&
            !NOT_OBJECTS.test(type) &&
            type !== "kubernetes:yaml:ConfigGroup" &&
            type !== "kubernetes:yaml:ConfigFile")
    );
}

/** One Kubernetes object: a resource's own properties, or an object inside a yaml/v2 component. */
export interface KubernetesObject {
    /** `Deployment "web"`, or `ConfigGroup "jobs": PyTorchJob "train"`. */
    readonly label: string;
    /** `Deployment`, `NamespacePatch`, or an inner object's `kind`. */
    readonly kind: string;
    /** An object inside a yaml/v2 component rather than the resource itself. */
    readonly nested: boolean;
    /** Where the object sits in the resource's properties (`objs[0].`), prepended to paths inside it. */
    readonly pathPrefix: string;
    readonly object: Props;
    /** A patch (`DeploymentPatch` and friends): what it leaves out keeps the live object's value. */
    readonly patch: boolean;
}

export function kubernetesObjects(type: string, name: string, props: Props): KubernetesObject[] {
    const kindOfType = type.split(":").pop() ?? type;
    if (!YAML_V2_COMPONENTS.includes(type))
        return [
            {
                label: `${kindOfType} "${name}"`,
                kind: kindOfType,
                nested: false,
                pathPrefix: "",
                object: props,
                patch: kindOfType.endsWith("Patch"),
            },
        ];
    const inner = (object: Props, pathPrefix: string): KubernetesObject => ({
        label: `${kindOfType} "${name}": ${asString(object.kind) ?? "object"} "${asString(asRecord(object.metadata)?.name) ?? "?"}"`,
        kind: asString(object.kind) ?? "",
        nested: true,
        pathPrefix,
        object,
        patch: false,
    });
    const found: [unknown, string][] = asList(props.objs).flatMap((o, i): [unknown, string][] =>
        Array.isArray(o) ? o.map((x, j): [unknown, string] => [x, `objs[${i}][${j}].`]) : [[o, `objs[${i}].`]],
    );
    const yamlTexts =
        typeof props.yaml === "string"
            ? [props.yaml]
            : asList(props.yaml).filter((y): y is string => typeof y === "string");
    yamlTexts.forEach((text, i) =>
        yamlObjects(text).forEach((o, j) =>
            found.push([o, `yaml${yamlTexts.length > 1 ? `[${i}]` : ""} document ${j + 1}: `]),
        ),
    );
    return found.flatMap(([o, at]) => {
        const object = asRecord(o);
        return object ? [inner(object, at)] : [];
    });
}

/** The objects of a multi-document YAML text; documents that do not parse are left out (the provider refuses them). */
function yamlObjects(text: string): unknown[] {
    try {
        return parseAllDocuments(text).flatMap((doc) =>
            doc.errors.length > 0 ? [] : [doc.toJS({ maxAliasCount: 100 }) as unknown],
        );
    } catch {
        return [];
    }
}

export interface PodSpec {
    /** Where it sits, e.g. `spec.template.spec`. */
    readonly path: string;
    readonly spec: Props;
    /** The metadata beside it (a template's or the Pod's own), where Pod Security reads annotations. */
    readonly metadata?: Props;
}

/** Every pod spec in the object, wherever it sits; its metadata and status are not searched. */
export function podSpecsIn(object: Props): PodSpec[] {
    const found: PodSpec[] = [];
    const visit = (node: unknown, path: string, depth: number, parent?: Props) => {
        if (depth > MAX_DEPTH || node === null || typeof node !== "object") return;
        if (Array.isArray(node)) {
            node.forEach((item, i) => visit(item, `${path}[${i}]`, depth + 1));
            return;
        }
        const record = node as Props;
        if (Array.isArray(record.containers) && path !== "") {
            found.push({ path, spec: record, metadata: asRecord(parent?.metadata) });
            return;
        }
        for (const key of Object.keys(record)) {
            if (depth === 0 && (key === "metadata" || key === "status")) continue;
            visit(record[key], path === "" ? pathKey(key) : `${path}.${pathKey(key)}`, depth + 1, record);
        }
    };
    // A bare pod spec at the top (`containers` beside `apiVersion`) is not an object Kubernetes takes; start one level down.
    visit(object, "", 0);
    return found;
}

function pathKey(key: string): string {
    return /^[A-Za-z_][\w-]*$/.test(key) ? key : `["${key}"]`;
}

/** An amount of a GPU resource as written, with its value when Kubernetes takes it as a count of GPUs. */
export interface GpuAmount {
    /** As written: `"16000m"`, or a number. */
    readonly written: string;
    /** The quantity's value; undefined when the API server refuses it as a quantity. */
    readonly value?: number;
    /** A whole, non-negative number: the only GPU amounts the API server accepts. */
    readonly valid: boolean;
}

export type ContainerRole = "container" | "init container" | "sidecar";

/** One GPU resource one container names, with what it requests and limits. */
export interface GpuAsk {
    /** `containers[0]`, `initContainers[1]`, relative to the pod spec. */
    readonly container: string;
    readonly containerName: string;
    readonly role: ContainerRole;
    /** The container's index in its list. */
    readonly index: number;
    readonly resource: string;
    readonly request?: GpuAmount;
    readonly limit?: GpuAmount;
}

export function gpuAmount(written: unknown): GpuAmount | undefined {
    if (written === undefined || written === null || isUnknown(written)) return undefined;
    const quantity: Quantity | undefined = parseQuantity(written);
    const value = quantity && quantityValue(quantity);
    return {
        written: typeof written === "string" ? written : JSON.stringify(written),
        value,
        valid: quantity !== undefined && isWholeQuantity(quantity) && value! >= 0,
    };
}

export function gpuAsks(spec: Props): GpuAsk[] {
    const asks: GpuAsk[] = [];
    for (const field of ["containers", "initContainers"] as const) {
        asList(spec[field]).forEach((c, index) => {
            const container = asRecord(c) ?? {};
            const resources = asRecord(container.resources) ?? {};
            const requests = asRecord(resources.requests) ?? {};
            const limits = asRecord(resources.limits) ?? {};
            const role: ContainerRole =
                field === "containers"
                    ? "container"
                    : container.restartPolicy === "Always"
                      ? "sidecar"
                      : "init container";
            for (const resource of new Set([...Object.keys(requests), ...Object.keys(limits)].filter(isGpuResource))) {
                asks.push({
                    container: `${field}[${index}]`,
                    containerName: asString(container.name) ?? `#${index}`,
                    role,
                    index,
                    resource,
                    request: gpuAmount(requests[resource]),
                    limit: gpuAmount(limits[resource]),
                });
            }
        });
    }
    return asks;
}

/** What one ask holds: its request, or its limit (which Kubernetes copies into a missing request), whichever is more. */
const units = (a: GpuAsk) => Math.max(a.request?.valid ? a.request.value! : 0, a.limit?.valid ? a.limit.value! : 0);

/**
 * GPUs one pod holds, as the scheduler counts them (k8s.io/component-helpers resource
 * `AggregateContainerRequests`, per the sidecar KEP 753), for each GPU resource:
 * the larger of (app containers + every sidecar) and, over the init containers in order,
 * (an init container + the sidecars started before it) or (the sidecars started so far);
 * then the GPU resources added up, each unit one GPU.
 */
export function gpusPerPod(asks: readonly GpuAsk[]): number {
    return [...gpusPerPodByResource(asks).values()].reduce((t, n) => t + n, 0);
}

/** As `gpusPerPod`, per GPU resource (`nvidia.com/gpu`, `nvidia.com/mig-3g.40gb`, ...). */
export function gpusPerPodByResource(asks: readonly GpuAsk[]): Map<string, number> {
    const byResource = new Map<string, number>();
    for (const resource of new Set(asks.map((a) => a.resource))) {
        const mine = asks.filter((a) => a.resource === resource);
        const sum = (list: readonly GpuAsk[]) => list.reduce((t, a) => t + units(a), 0);
        const sidecars = mine.filter((a) => a.role === "sidecar");
        const running = sum(mine.filter((a) => a.role === "container")) + sum(sidecars);
        const initPeaks = mine
            .filter((a) => a.role !== "container")
            .map((a) => sum(sidecars.filter((s) => s.index < a.index)) + units(a));
        byResource.set(resource, Math.max(running, ...initPeaks));
    }
    return byResource;
}

/** `container "trainer": nvidia.com/gpu 16`; an amount written otherwise shows how (`"16000m" (= 16)`). */
export function describeAsks(asks: readonly GpuAsk[]): string {
    return asks.map((a) => `${a.role} "${a.containerName}": ${a.resource} ${describeAmount(a)}`).join(", ");
}

function describeAmount({ request, limit }: GpuAsk): string {
    const shown = request && limit ? ((request.value ?? 0) > (limit.value ?? 0) ? request : limit) : (limit ?? request);
    if (!shown) return "0";
    return shown.value !== undefined && shown.written === String(shown.value)
        ? shown.written
        : `"${shown.written}"${shown.value !== undefined ? ` (= ${shown.value})` : ""}`;
}
