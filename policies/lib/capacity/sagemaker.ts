/**
 * SageMaker instances, wherever a SageMaker resource names an `ml.` type: endpoint
 * configurations' production and shadow variants, notebook instances, training and tuning jobs,
 * Studio apps and spaces, monitoring and data-quality jobs, and the steps of a pipeline's JSON
 * definition. Any object holding an `instanceType` (`InstanceType` in a pipeline definition) is
 * one slot, sized by its `instanceCount` / `initialInstanceCount` (1 when unset) and, for a
 * variant, `managedInstanceScaling.maxInstanceCount` or an Application Auto Scaling target's
 * `maxCapacity`. A serverless variant names no type: SageMaker Serverless Inference runs no GPUs.
 *
 * An `ml.` type counts as its EC2 type for GPUs (catalog/instances.ts) and is priced at
 * SageMaker's rate when catalog/sagemaker.ts has one, else at the EC2 rate as a floor.
 * Shapes: @pulumi/aws 7.x `sagemaker.*`; pipeline definitions: the SageMaker Pipelines JSON
 * schema (`Steps[].Arguments.ResourceConfig`, `ProcessingResources.ClusterConfig`).
 */
import { HOURS_PER_MONTH } from "@gpu-platform/catalog";
import { parseJsonOr } from "@gpu-platform/catalog/json";
import { Capacity, Collector, standingCapacity, unboundedWhen } from "../ec2-capacity";
import { computedChoice } from "../instance-choice";
import { LinkedResource, referencedThrough } from "../references";
import { Props, asList, asNumber, asRecord, asString, isUnknown } from "../values";

const SAGEMAKER = "aws:sagemaker/";
export const ENDPOINT_CONFIGURATION = "aws:sagemaker/endpointConfiguration:EndpointConfiguration";
const ENDPOINT = "aws:sagemaker/endpoint:Endpoint";
const TRAINING_JOB = "aws:sagemaker/trainingJob:TrainingJob";
const TUNING_JOB = "aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob";
const PIPELINE = "aws:sagemaker/pipeline:Pipeline";
const SCALING_TARGET = "aws:appautoscaling/target:Target";

/** SageMaker stops a training job after one day unless StoppingCondition.MaxRuntimeInSeconds says otherwise (SageMaker API, StoppingCondition). */
const DEFAULT_TRAINING_SECONDS = 86_400;
const MAX_DEPTH = 32;

/** One object naming an instance type, where it sits, and how many instances it runs. */
interface Slot {
    readonly at: string;
    readonly spec: Props;
}

/** Every object below `node` that names an instance type (camelCase, or PascalCase in JSON definitions). */
function slotsIn(node: unknown, at: string, depth = 0): Slot[] {
    if (depth > MAX_DEPTH || node === null || typeof node !== "object") return [];
    if (Array.isArray(node)) return node.flatMap((item, i) => slotsIn(item, `${at}[${i}]`, depth + 1));
    const record = node as Props;
    const own =
        Object.hasOwn(record, "instanceType") || Object.hasOwn(record, "InstanceType") ? [{ at, spec: record }] : [];
    const nested = Object.keys(record)
        .filter((key) => key !== "tags" && key !== "tagsAll")
        .flatMap((key) => slotsIn(record[key], at === "" ? key : `${at}.${key}`, depth + 1));
    return [...own, ...nested];
}

const first = (spec: Props, keys: string[]) => keys.map((k) => spec[k]).find((v) => v !== undefined);

function slotCapacity<R extends LinkedResource>(
    resource: R,
    label: string,
    slot: Slot,
    multiplier: { units?: number; setting?: string; hours: number; scaledMax?: number },
): Capacity<R> {
    const found = new Collector(resource, [], []);
    const prefix = slot.at === "" ? "" : `${slot.at}.`;
    const typeKey = Object.hasOwn(slot.spec, "instanceType") ? "instanceType" : "InstanceType";
    found.type(slot.spec[typeKey], `${prefix}${typeKey}`);
    const countValue = first(slot.spec, [
        "instanceCount",
        "initialInstanceCount",
        "InstanceCount",
        "InitialInstanceCount",
    ]);
    const count = countValue === undefined ? 1 : asNumber(countValue);
    const managed = asNumber(asRecord(slot.spec.managedInstanceScaling)?.maxInstanceCount);
    const perSlot = count === undefined ? undefined : Math.max(count, managed ?? 0, multiplier.scaledMax ?? 0);
    const times = multiplier.units ?? 1;
    return standingCapacity(
        resource,
        label,
        found.result().types,
        {
            units: perSlot === undefined ? undefined : perSlot * times,
            min: count === undefined ? undefined : count * times,
            setting:
                multiplier.setting ?? `${prefix}${countValue === undefined ? "instanceCount" : "its instance count"}`,
            unbounded: unboundedWhen(countValue, `${prefix}instance count`),
        },
        { hoursPerMonth: multiplier.hours },
    );
}

const hoursOf = (seconds: unknown) => Math.min(HOURS_PER_MONTH, (asNumber(seconds) ?? DEFAULT_TRAINING_SECONDS) / 3600);

/** Variants of an endpoint configuration, once per endpoint of the stack that serves it (once when none does: it is there to be served). */
function endpointConfigurationCapacities<R extends LinkedResource>(resource: R, all: readonly R[]): Capacity<R>[] {
    const endpoints = all.filter(
        (e) =>
            e.type === ENDPOINT &&
            referencedThrough(e, "endpointConfigName", [e.props.endpointConfigName], [resource], ["name", "id"])
                .length > 0,
    );
    const servedBy = Math.max(1, endpoints.length);
    return ["productionVariants", "shadowProductionVariants"].flatMap((field) =>
        asList(resource.props[field]).flatMap((v, i) => {
            const variant = asRecord(v) ?? {};
            if (variant.instanceType === undefined) return []; // serverless
            const name = asString(variant.variantName) ?? `#${i}`;
            const scaledMax = Math.max(
                0,
                ...all
                    .filter((t) => t.type === SCALING_TARGET && asString(t.props.serviceNamespace) === "sagemaker")
                    .filter((t) => asString(t.props.resourceId)?.endsWith(`/variant/${name}`))
                    .map((t) => asNumber(t.props.maxCapacity) ?? 0),
            );
            const label = `SageMaker endpoint configuration "${resource.name}" variant "${name}"${servedBy > 1 ? ` (served by ${servedBy} endpoints)` : ""}`;
            return [
                slotCapacity(
                    resource,
                    label,
                    { at: `${field}[${i}]`, spec: variant },
                    {
                        units: servedBy,
                        hours: HOURS_PER_MONTH,
                        scaledMax,
                    },
                ),
            ];
        }),
    );
}

/** An endpoint whose configuration this stack does not create: its instances cannot be seen, so they are judged unknown. */
function foreignEndpoint<R extends LinkedResource>(resource: R, all: readonly R[]): Capacity<R>[] {
    const configs = all.filter((c) => c.type === ENDPOINT_CONFIGURATION);
    const own = referencedThrough(resource, "endpointConfigName", [resource.props.endpointConfigName], configs, [
        "name",
        "id",
    ]);
    if (own.length > 0) return [];
    const found = new Collector(resource, [], []);
    found.chosen(
        { ...computedChoice(), written: "instances of an endpoint configuration this stack does not create" },
        "endpointConfigName",
        false,
    );
    return [
        standingCapacity(resource, `SageMaker endpoint "${resource.name}"`, found.result().types, {
            units: undefined,
            setting: "endpointConfigName",
            unbounded: `its endpoint configuration (${String(asString(resource.props.endpointConfigName) ?? "computed")}) is not created in this stack`,
        }),
    ];
}

function trainingCapacities<R extends LinkedResource>(resource: R): Capacity<R>[] {
    const p = resource.props;
    const label = (at: string) => `SageMaker training job "${resource.name}"${at ? ` ${at}` : ""}`;
    const hours = hoursOf(asRecord(p.stoppingCondition)?.maxRuntimeInSeconds);
    return slotsIn(p.resourceConfig, "resourceConfig").map((slot) =>
        slotCapacity(resource, label(slot.at), slot, { hours }),
    );
}

function tuningCapacities<R extends LinkedResource>(resource: R): Capacity<R>[] {
    const limits = asRecord(asRecord(resource.props.config)?.resourceLimits) ?? {};
    const parallel = asNumber(limits.maxParallelTrainingJobs) ?? 1;
    const jobs = asNumber(limits.maxNumberOfTrainingJobs);
    const definitions = [resource.props.trainingJobDefinition, ...asList(resource.props.trainingJobDefinitions)];
    return definitions.flatMap((d, i) => {
        const definition = asRecord(d);
        if (!definition) return [];
        const perJob = hoursOf(asRecord(definition.stoppingCondition)?.maxRuntimeInSeconds);
        const bounds = [HOURS_PER_MONTH, jobs === undefined ? Infinity : Math.ceil(jobs / parallel) * perJob];
        if (asNumber(limits.maxRuntimeInSeconds) !== undefined)
            bounds.push(asNumber(limits.maxRuntimeInSeconds)! / 3600);
        const at = i === 0 ? "trainingJobDefinition" : `trainingJobDefinitions[${i - 1}]`;
        return slotsIn(definition, at).map((slot) =>
            slotCapacity(resource, `SageMaker tuning job "${resource.name}" ${slot.at}`, slot, {
                units: parallel,
                setting: "config.resourceLimits.maxParallelTrainingJobs × the instance count",
                hours: Math.min(...bounds),
            }),
        );
    });
}

/** A pipeline's steps, from its JSON definition; a definition kept in S3 is not in the preview and is judged unknown. */
function pipelineCapacities<R extends LinkedResource>(resource: R): Capacity<R>[] {
    const p = resource.props;
    const text = p.pipelineDefinition;
    if (typeof text !== "string") {
        if (text === undefined && p.pipelineDefinitionS3Location === undefined) return [];
        const found = new Collector(resource, [], []);
        found.chosen(
            { ...computedChoice(), written: "the steps of a definition the preview cannot read" },
            "pipelineDefinition",
            false,
        );
        return [
            standingCapacity(resource, `SageMaker pipeline "${resource.name}"`, found.result().types, {
                units: undefined,
                setting: "pipelineDefinition",
                unbounded: isUnknown(text)
                    ? "its pipelineDefinition is computed during the update"
                    : "its definition is in S3 (pipelineDefinitionS3Location), which the preview cannot read; inline it as pipelineDefinition",
            }),
        ];
    }
    const definition = parseJsonOr<unknown>(text, undefined);
    return slotsIn(definition, "pipelineDefinition").map((slot) =>
        slotCapacity(resource, `SageMaker pipeline "${resource.name}" ${slot.at}`, slot, { hours: HOURS_PER_MONTH }),
    );
}

export function sageMakerCapacities<R extends LinkedResource>(resource: R, all: readonly R[]): Capacity<R>[] {
    if (!resource.type.startsWith(SAGEMAKER)) return [];
    switch (resource.type) {
        case ENDPOINT_CONFIGURATION:
            return endpointConfigurationCapacities(resource, all);
        case ENDPOINT:
            return foreignEndpoint(resource, all);
        case TRAINING_JOB:
            return trainingCapacities(resource);
        case TUNING_JOB:
            return tuningCapacities(resource);
        case PIPELINE:
            return pipelineCapacities(resource);
    }
    const kind = resource.type.split(":").pop() ?? resource.type;
    return slotsIn(resource.props, "").map((slot) =>
        slotCapacity(resource, `SageMaker ${kind} "${resource.name}"${slot.at ? ` ${slot.at}` : ""}`, slot, {
            hours: HOURS_PER_MONTH,
        }),
    );
}
