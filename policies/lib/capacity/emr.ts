/**
 * EMR clusters and their instance groups and fleets (@pulumi/aws 7.x `emr.Cluster`,
 * `emr.InstanceGroup`, `emr.InstanceFleet`, `emr.ManagedScalingPolicy`). A group runs
 * `instanceCount` instances (1 when unset), up to its automatic scaling policy's
 * `Constraints.MaxCapacity`; a fleet runs its on-demand plus spot target capacity in weighted
 * units. A managed scaling policy on the cluster lets its core and task nodes grow to
 * `maximumCapacityUnits` (instances, fleet units or vCPUs): each core or task group and fleet is
 * then judged at that maximum, the worst case however EMR shares it out.
 */
import { INSTANCE_TYPES, isKnownInstanceType } from "@gpu-platform/catalog";
import { parseJsonOr } from "@gpu-platform/catalog/json";
import { Capacity, Collector, standingCapacity, unboundedWhen } from "../ec2-capacity";
import { LinkedResource, referencedBy } from "../references";
import { Props, asList, asNumber, asRecord, asString } from "../values";

export const EMR_CLUSTER = "aws:emr/cluster:Cluster";
export const EMR_INSTANCE_GROUP = "aws:emr/instanceGroup:InstanceGroup";
export const EMR_INSTANCE_FLEET = "aws:emr/instanceFleet:InstanceFleet";
const MANAGED_SCALING = "aws:emr/managedScalingPolicy:ManagedScalingPolicy";

/** The most units managed scaling lets core and task nodes reach, and in what unit. */
interface ManagedLimit {
    readonly units: number;
    readonly unitType: string;
}

function managedLimit(cluster: LinkedResource | undefined, all: readonly LinkedResource[]): ManagedLimit | undefined {
    if (!cluster) return undefined;
    const policy = all.find((r) => r.type === MANAGED_SCALING && referencedBy(r, "clusterId", [cluster]).length > 0);
    const limit = asRecord(asList(policy?.props.computeLimits)[0]);
    const units = asNumber(limit?.maximumCapacityUnits);
    return units === undefined ? undefined : { units, unitType: asString(limit?.unitType) ?? "Instances" };
}

/** `Constraints.MaxCapacity` of an EMR automatic scaling policy (a JSON string). */
function autoscalingMax(policy: unknown): number | undefined {
    const doc = typeof policy === "string" ? parseJsonOr<unknown>(policy, undefined) : policy;
    return asNumber(asRecord(asRecord(doc)?.Constraints)?.MaxCapacity);
}

const vcpusOf = (type: string) => (isKnownInstanceType(type) ? INSTANCE_TYPES[type].vcpu : 1);

function group<R extends LinkedResource>(
    resource: R,
    label: string,
    at: string,
    spec: Props,
    managed: ManagedLimit | undefined,
): Capacity<R> {
    const found = new Collector(resource, [], []);
    const byVcpu = managed?.unitType === "VCPU";
    found.type(spec.instanceType, `${at}instanceType`, 1, byVcpu ? vcpusOf : undefined);
    const count = spec.instanceCount === undefined ? 1 : asNumber(spec.instanceCount);
    const max = Math.max(count ?? 0, autoscalingMax(spec.autoscalingPolicy) ?? 0, managed?.units ?? 0);
    return standingCapacity(resource, label, found.result().types, {
        units: count === undefined ? undefined : max,
        min: count,
        setting: managed ? "the managed scaling policy's maximumCapacityUnits" : `${at}instanceCount`,
        unbounded: unboundedWhen(spec.instanceCount, `${at}instanceCount`),
    });
}

function fleet<R extends LinkedResource>(
    resource: R,
    label: string,
    at: string,
    spec: Props,
    managed: ManagedLimit | undefined,
): Capacity<R> {
    const found = new Collector(resource, [], []);
    asList(spec.instanceTypeConfigs).forEach((c, i) => {
        const config = asRecord(c) ?? {};
        found.type(config.instanceType, `${at}instanceTypeConfigs[${i}].instanceType`, config.weightedCapacity);
    });
    const target = (asNumber(spec.targetOnDemandCapacity) ?? 0) + (asNumber(spec.targetSpotCapacity) ?? 0);
    return standingCapacity(
        resource,
        label,
        found.result().types,
        {
            units: Math.max(target, managed?.unitType === "InstanceFleetUnits" ? managed.units : 0),
            setting: `${at}targetOnDemandCapacity + ${at}targetSpotCapacity`,
        },
        { spot: (asNumber(spec.targetSpotCapacity) ?? 0) > 0 },
    );
}

export function emrCapacities<R extends LinkedResource>(resource: R, all: readonly R[]): Capacity<R>[] {
    const p = resource.props;
    const name = resource.name;
    switch (resource.type) {
        case EMR_CLUSTER: {
            const managed = managedLimit(resource, all);
            const found: Capacity<R>[] = [];
            const master = asRecord(p.masterInstanceGroup);
            const core = asRecord(p.coreInstanceGroup);
            const masterFleet = asRecord(p.masterInstanceFleet);
            const coreFleet = asRecord(p.coreInstanceFleet);
            if (master)
                found.push(
                    group(resource, `EMR cluster "${name}" primary group`, "masterInstanceGroup.", master, undefined),
                );
            if (core)
                found.push(group(resource, `EMR cluster "${name}" core group`, "coreInstanceGroup.", core, managed));
            if (masterFleet)
                found.push(
                    fleet(
                        resource,
                        `EMR cluster "${name}" primary fleet`,
                        "masterInstanceFleet.",
                        masterFleet,
                        undefined,
                    ),
                );
            if (coreFleet)
                found.push(
                    fleet(resource, `EMR cluster "${name}" core fleet`, "coreInstanceFleet.", coreFleet, managed),
                );
            return found;
        }
        case EMR_INSTANCE_GROUP:
        case EMR_INSTANCE_FLEET: {
            const cluster = referencedBy(
                resource,
                "clusterId",
                all.filter((r) => r.type === EMR_CLUSTER),
            )[0];
            const managed = managedLimit(cluster, all);
            return resource.type === EMR_INSTANCE_GROUP
                ? [group(resource, `EMR instance group "${name}"`, "", p, managed)]
                : [fleet(resource, `EMR instance fleet "${name}"`, "", p, managed)];
        }
    }
    return [];
}
