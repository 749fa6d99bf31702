/**
 * Every way a stack buys EC2 capacity, as one list of capacities (lib/ec2-capacity.ts
 * `Capacity`): EKS node groups, instances, spot requests, Auto Scaling groups and fleets
 * (ec2-capacity.ts), capacity reservations, Capacity Blocks and dedicated hosts, AWS Batch, EMR,
 * SageMaker, Karpenter NodePools, and CloudFormation stacks and stack sets that create any of
 * these. GPU limits, the instance-type allowlist and the stack's price all read this list.
 */
import { Capacity, LAUNCHERS, capacityOf } from "../ec2-capacity";
import type { LinkedResource } from "../references";
import { BATCH_COMPUTE_ENVIRONMENT, batchCapacities } from "./batch";
import { CFN_STACK, CFN_STACK_SET, cloudFormationCapacities } from "./cloudformation";
import { EMR_CLUSTER, EMR_INSTANCE_FLEET, EMR_INSTANCE_GROUP, emrCapacities } from "./emr";
import { karpenterCapacities } from "./karpenter";
import { CAPACITY_BLOCK, CAPACITY_RESERVATION, DEDICATED_HOST, reservationCapacities } from "./reservations";
import { sageMakerCapacities } from "./sagemaker";

type Source = <R extends LinkedResource>(resource: R, all: readonly R[]) => Capacity<R>[];

const SOURCES: Record<string, Source> = {
    ...Object.fromEntries(
        Object.keys(LAUNCHERS).map((type): [string, Source] => [
            type,
            (resource, all) => {
                const found = capacityOf(resource, all);
                return found ? [found] : [];
            },
        ]),
    ),
    [CAPACITY_RESERVATION]: (r) => reservationCapacities(r),
    [CAPACITY_BLOCK]: (r) => reservationCapacities(r),
    [DEDICATED_HOST]: (r) => reservationCapacities(r),
    [BATCH_COMPUTE_ENVIRONMENT]: (r) => batchCapacities(r),
    [EMR_CLUSTER]: (r, all) => emrCapacities(r, all),
    [EMR_INSTANCE_GROUP]: (r, all) => emrCapacities(r, all),
    [EMR_INSTANCE_FLEET]: (r, all) => emrCapacities(r, all),
    [CFN_STACK]: (r, all) => cloudFormationCapacities(r, all, capacitiesOf),
    [CFN_STACK_SET]: (r, all) => cloudFormationCapacities(r, all, capacitiesOf),
};

/** The capacities one resource buys; none for a resource that buys no instances. */
export function capacitiesOf<R extends LinkedResource>(resource: R, all: readonly R[]): Capacity<R>[] {
    const source = SOURCES[resource.type];
    if (source) return source(resource, all);
    if (resource.type.startsWith("aws:sagemaker/")) return sageMakerCapacities(resource, all);
    if (resource.type.startsWith("kubernetes:")) return karpenterCapacities(resource);
    return [];
}

/** Every capacity of the stack. */
export function allCapacities<R extends LinkedResource>(resources: readonly R[]): Capacity<R>[] {
    return resources.flatMap((r) => capacitiesOf(r, resources));
}

/** Resource types that buy capacity, for pricing: any of these, any SageMaker type, any Kubernetes object (a NodePool). */
export function buysCapacity(type: string): boolean {
    return Object.hasOwn(SOURCES, type) || type.startsWith("aws:sagemaker/") || type.startsWith("kubernetes:");
}
