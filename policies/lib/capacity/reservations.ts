/**
 * Capacity bought ahead of use: On-Demand Capacity Reservations and Capacity Blocks for ML
 * (billed for every reserved instance-hour, used or not) and Dedicated Hosts (billed per host).
 * Shapes: @pulumi/aws 7.x `ec2.CapacityReservation`, `ec2.CapacityBlockReservation`,
 * `ec2.DedicatedHost`.
 */
import { Capacity, Collector, standingCapacity, unboundedWhen } from "../ec2-capacity";
import type { LinkedResource } from "../references";
import { computedChoice } from "../instance-choice";
import { asNumber } from "../values";

export const CAPACITY_RESERVATION = "aws:ec2/capacityReservation:CapacityReservation";
export const CAPACITY_BLOCK = "aws:ec2/capacityBlockReservation:CapacityBlockReservation";
export const DEDICATED_HOST = "aws:ec2/dedicatedHost:DedicatedHost";

export function reservationCapacities<R extends LinkedResource>(resource: R): Capacity<R>[] {
    const p = resource.props;
    const found = new Collector(resource, [], []);
    switch (resource.type) {
        case CAPACITY_RESERVATION: {
            found.type(p.instanceType, "instanceType");
            return [
                standingCapacity(resource, `capacity reservation "${resource.name}"`, found.result().types, {
                    units: asNumber(p.instanceCount),
                    setting: "instanceCount",
                    unbounded: unboundedWhen(p.instanceCount, "instanceCount"),
                }),
            ];
        }
        case CAPACITY_BLOCK: {
            // The type and count come from the offering (capacityBlockOfferingId) and are outputs: a preview
            // shows them only when the offering is read in the same program; otherwise they are judged unknown.
            if (p.instanceType === undefined) found.chosen(computedChoice(), "capacityBlockOfferingId", false);
            else found.type(p.instanceType, "instanceType");
            const count = asNumber(p.instanceCount);
            return [
                standingCapacity(resource, `Capacity Block "${resource.name}"`, found.result().types, {
                    units: count,
                    setting: "instanceCount",
                    unbounded:
                        count === undefined
                            ? "its instance count comes from the offering and is not known here"
                            : undefined,
                }),
            ];
        }
        case DEDICATED_HOST: {
            if (p.instanceType !== undefined) found.type(p.instanceType, "instanceType");
            else found.type(p.instanceFamily, "instanceFamily");
            return [
                standingCapacity(
                    resource,
                    `dedicated host "${resource.name}"`,
                    found.result().types,
                    { units: 1, setting: "" },
                    {
                        priceFloor:
                            "a host is billed per host-hour, which the catalog does not list: priced as one instance of its largest type, a floor",
                    },
                ),
            ];
        }
    }
    return [];
}
