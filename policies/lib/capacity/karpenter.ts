/**
 * Karpenter NodePools (karpenter.sh v1 and v1beta1, and the v1alpha5 Provisioner before them),
 * and EKS Auto Mode's node pools (the same kind): whatever their requirements let Karpenter
 * launch, bounded by `spec.limits`. Found as typed resources (`kubernetes:karpenter.sh/v1:NodePool`,
 * a CustomResource of that kind) and inside yaml/v2 ConfigGroup and ConfigFile objects.
 *
 * Requirements are read on Karpenter's well-known labels (aws/karpenter-provider-aws,
 * hack/validation/labels.sh): `node.kubernetes.io/instance-type`, `<domain>/instance-family`,
 * `-category`, `-gpu-count`, `-gpu-name`, `-gpu-manufacturer`, where the domain is
 * `karpenter.k8s.aws` (or `eks.amazonaws.com` under Auto Mode). Without a requirement that
 * rules GPUs out, a NodePool may launch any GPU type a pod asks for. Limits stop new nodes once
 * reached, so a pool holds at most one node past them; with no limit on CPU, memory or
 * `nvidia.com/gpu`, it has no bound at all.
 */
import { GPU_RESOURCE, InstanceTypeName, gpuOf, instanceType, isKnownInstanceType } from "@gpu-platform/catalog";
import { parseQuantity, quantityValue } from "@gpu-platform/catalog/kubernetes-quantity";
import { Capacity, Collector, standingCapacity } from "../ec2-capacity";
import { InstanceChoice, choiceOf, computedChoice, familyOf, unionOf } from "../instance-choice";
import { holdsKubernetesObjects, kubernetesObjects } from "../pod-specs";
import type { LinkedResource } from "../references";
import { Props, asList, asRecord, asString } from "../values";
import { memoryGiB } from "../quantities";

const DOMAINS = ["karpenter.k8s.aws/", "eks.amazonaws.com/"];
const ACCELERATED_CATEGORIES = ["dl", "f", "g", "gr", "inf", "p", "trn", "vt"];

interface Requirement {
    readonly key: string;
    readonly operator: string;
    readonly values: string[];
}

const labelOf = (key: string) => {
    if (key === "node.kubernetes.io/instance-type") return "instance-type";
    const domain = DOMAINS.find((d) => key.startsWith(d));
    return domain ? key.slice(domain.length) : undefined;
};

const categoryOf = (type: string) => /^[a-z]+/.exec(familyOf(type))?.[0] ?? "";

/** What a catalog type shows for a Karpenter label, or undefined when the label is absent on it. */
function labelValue(type: InstanceTypeName, label: string): string | undefined {
    const gpu = gpuOf(type);
    switch (label) {
        case "instance-type":
            return type;
        case "instance-family":
            return familyOf(type);
        case "instance-category":
            return categoryOf(type);
        case "instance-gpu-count":
            return gpu ? String(gpu.count) : undefined;
        case "instance-gpu-name":
            return gpu ? gpu.id.split("-")[0] : undefined;
        case "instance-gpu-manufacturer":
            return gpu ? "nvidia" : undefined;
        case "instance-cpu":
            return String(instanceType(type).vcpu);
    }
    return undefined;
}

/** Node selector operators (In, NotIn, Exists, DoesNotExist, Gt, Lt) on one type's label. */
function satisfies(value: string | undefined, r: Requirement): boolean {
    switch (r.operator) {
        case "In":
            return value !== undefined && r.values.includes(value);
        case "NotIn":
            return value === undefined || !r.values.includes(value);
        case "Exists":
            return value !== undefined;
        case "DoesNotExist":
            return value === undefined;
        case "Gt":
            return value !== undefined && Number(value) > Number(r.values[0]);
        case "Lt":
            return value !== undefined && Number(value) < Number(r.values[0]);
    }
    return true;
}

/** Whether a requirement still lets Karpenter pick GPU types the catalog does not know. */
function allowsUnknownGpus(r: Requirement, label: string): boolean {
    switch (label) {
        case "instance-gpu-count":
        case "instance-gpu-name":
        case "instance-gpu-manufacturer":
            return (
                r.operator !== "DoesNotExist" &&
                !(r.operator === "Lt" && Number(r.values[0]) <= 1) &&
                !(r.operator === "In" && r.values.every((v) => v === "0"))
            );
        case "instance-category":
            return r.operator === "In"
                ? r.values.some((v) => ACCELERATED_CATEGORIES.includes(v))
                : r.operator !== "NotIn" || !ACCELERATED_CATEGORIES.every((c) => r.values.includes(c));
        case "instance-type":
        case "instance-family":
            return (
                r.operator !== "In" ||
                unionOf(
                    "",
                    r.values.map((v) => choiceOf(v)!),
                ).unknownMayBeGpu
            );
    }
    return true;
}

export function requirementsOf(list: unknown): Requirement[] {
    return asList(list).flatMap((entry) => {
        const r = asRecord(entry);
        const key = asString(r?.key);
        if (!r || !key) return [];
        return [{ key, operator: asString(r.operator) ?? "In", values: asList(r.values).map((v) => String(v)) }];
    });
}

/** What a set of Karpenter requirements lets it launch. */
export function karpenterChoice(requirements: readonly Requirement[], written: string): InstanceChoice {
    let choice: InstanceChoice = { ...computedChoice(), written };
    for (const r of requirements) {
        const label = labelOf(r.key);
        if (!label) continue;
        const open =
            choice.open &&
            !(
                r.operator === "In" &&
                (label === "instance-type" || label === "instance-family") &&
                r.values.every((v) => choiceOf(v)?.open === false)
            );
        choice = {
            ...choice,
            catalog: choice.catalog.filter((t) => satisfies(labelValue(t, label), r)),
            open,
            unknownMayBeGpu: choice.unknownMayBeGpu && allowsUnknownGpus(r, label),
        };
    }
    return choice;
}

function limitValue(value: unknown): number | undefined {
    const q = parseQuantity(value);
    return q && quantityValue(q);
}

/** Most nodes of a type the limits allow: one past each bound (Karpenter stops once a limit is reached), the tightest bound winning. */
function instancesUnder(limits: Props): ((type: string) => number | undefined) | undefined {
    const gpus = limitValue(limits[GPU_RESOURCE]);
    const cpu = limitValue(limits.cpu);
    const memory = memoryGiB(limits.memory);
    if (gpus === undefined && cpu === undefined && memory === undefined) return undefined;
    return (type) => {
        if (!isKnownInstanceType(type)) return undefined;
        const spec = instanceType(type);
        const bounds: number[] = [];
        const perGpu = spec.gpu?.count ?? 0;
        if (gpus !== undefined && perGpu > 0) bounds.push(Math.floor(gpus / perGpu) + 1);
        if (cpu !== undefined) bounds.push(Math.floor(cpu / spec.vcpu) + 1);
        if (memory !== undefined) bounds.push(Math.floor(memory / spec.memoryGiB) + 1);
        return bounds.length > 0 ? Math.min(...bounds) : undefined;
    };
}

function nodePoolCapacity<R extends LinkedResource>(
    resource: R,
    label: string,
    at: string,
    object: Props,
): Capacity<R> {
    const spec = asRecord(object.spec) ?? {};
    const v1alpha5 = asString(object.kind) === "Provisioner";
    const requirementsAt = v1alpha5 ? "spec.requirements" : "spec.template.spec.requirements";
    const requirements = v1alpha5 ? spec.requirements : asRecord(asRecord(spec.template)?.spec)?.requirements;
    const limits = asRecord(v1alpha5 ? asRecord(spec.limits)?.resources : spec.limits) ?? {};
    const choice = karpenterChoice(
        requirementsOf(requirements),
        `types its requirements allow (${at}${requirementsAt})`,
    );
    const bound = instancesUnder(limits);
    const found = new Collector(resource, [], []);
    found.chosen(choice, `${at}${requirementsAt}`, true);
    const [launched] = found.result().types;
    return standingCapacity(resource, label, [{ ...launched, instancesOf: bound }], {
        units: bound ? 1 : undefined,
        min: 0,
        setting: `${at}${v1alpha5 ? "spec.limits.resources" : "spec.limits"}`,
        unbounded: bound
            ? undefined
            : `${at}${v1alpha5 ? "spec.limits.resources" : "spec.limits"} sets no limit on cpu, memory or ${GPU_RESOURCE}`,
    });
}

const isNodePool = (o: Props) => {
    const api = asString(o.apiVersion) ?? "";
    const kind = asString(o.kind);
    return (kind === "NodePool" || kind === "Provisioner") && api.startsWith("karpenter.sh/");
};

export function karpenterCapacities<R extends LinkedResource>(resource: R): Capacity<R>[] {
    if (!holdsKubernetesObjects(resource.type)) return [];
    const typed = /^kubernetes:karpenter\.sh\/[^:]+:(NodePool|Provisioner)$/.exec(resource.type);
    return kubernetesObjects(resource.type, resource.name, resource.props).flatMap(
        ({ label, pathPrefix, object, nested }) => {
            const kindFromType = typed && !nested;
            const apiObject = kindFromType ? { ...object, apiVersion: "karpenter.sh/", kind: typed[1] } : object;
            if (!isNodePool(apiObject)) return [];
            return [nodePoolCapacity(resource, `Karpenter ${label}`, pathPrefix, apiObject)];
        },
    );
}
