/**
 * AWS Batch managed compute environments (`aws.batch.ComputeEnvironment`, @pulumi/aws 7.x):
 * `computeResources.instanceTypes` names types, families (`p4d`, any size of it) or the
 * `optimal` / `default_*` bundles, and `maxVcpus` bounds them. Batch may exceed maxVcpus by at
 * most one instance (AWS Batch API, ComputeResource `maxvCpus`), so the most instances of a type
 * are maxVcpus over its vCPUs, rounded up. Fargate environments run no GPUs; unmanaged ones
 * launch nothing themselves. Batch ignores a launch template's instance type (the environment's
 * `instanceTypes` decide), so only `instanceTypes` is read.
 */
import { INSTANCE_TYPES, isKnownInstanceType } from "@gpu-platform/catalog";
import { Capacity, Collector, standingCapacity, unboundedWhen } from "../ec2-capacity";
import type { LinkedResource } from "../references";
import { asList, asNumber, asRecord, asString, isUnknown } from "../values";

export const BATCH_COMPUTE_ENVIRONMENT = "aws:batch/computeEnvironment:ComputeEnvironment";

const vcpusOf = (type: string) => (isKnownInstanceType(type) ? INSTANCE_TYPES[type].vcpu : 1);

export function batchCapacities<R extends LinkedResource>(resource: R): Capacity<R>[] {
    const compute = asRecord(resource.props.computeResources);
    const kind = asString(compute?.type)?.toUpperCase();
    const unmanaged = asString(resource.props.type)?.toUpperCase() === "UNMANAGED";
    if (!compute || unmanaged || kind === "FARGATE" || kind === "FARGATE_SPOT") return [];
    const found = new Collector(resource, [], []);
    const types = compute.instanceTypes;
    if (isUnknown(types)) found.type(types, "computeResources.instanceTypes", 1, vcpusOf);
    asList(types).forEach((t, i) => found.type(t, `computeResources.instanceTypes[${i}]`, 1, vcpusOf));
    return [
        standingCapacity(
            resource,
            `Batch compute environment "${resource.name}"`,
            found.result().types,
            {
                units: asNumber(compute.maxVcpus),
                min: asNumber(compute.minVcpus) ?? 0,
                setting: "computeResources.maxVcpus",
                unbounded: unboundedWhen(compute.maxVcpus, "computeResources.maxVcpus"),
            },
            { spot: kind === "SPOT" },
        ),
    ];
}
