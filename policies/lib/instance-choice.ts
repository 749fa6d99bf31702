/**
 * What instance types one setting lets AWS launch, however it is written: an exact type, the
 * same type in another letter case, a SageMaker `ml.` type, an instance family (`p4d`, as AWS
 * Batch takes them), a wildcard (`p4d.*`, as attribute-based selection takes them), AWS Batch's
 * `optimal` and `default_*` bundles, attribute-based selection (`instanceRequirements`), or a
 * value the preview does not know yet. The answer is the catalog types it may launch, and
 * whether it may also launch types the catalog does not know, with or without GPUs: what the
 * allowlist, the GPU limits and the price read, so a type counts however it is spelled and an
 * unknown one is judged as the worst it could be, never as free.
 */
import {
    INSTANCE_TYPES,
    InstanceTypeName,
    gpuOf,
    instanceType,
    isAcceleratedInstanceType,
    isKnownInstanceType,
} from "@gpu-platform/catalog";
import { AnyOf, Props, asList, asNumber, asRecord, asString, isUnknown } from "./values";

export interface InstanceChoice {
    /** As written, for messages: `p4d.24xlarge`, `ml.p5.48xlarge`, `family p4d`, `a value computed during the update`. */
    readonly written: string;
    /** Catalog types it may launch (a SageMaker `ml.` type counts as its EC2 type). */
    readonly catalog: readonly InstanceTypeName[];
    /** It may also launch types the catalog does not know. */
    readonly open: boolean;
    /** Some of those unknown types may carry GPUs or other accelerators. */
    readonly unknownMayBeGpu: boolean;
    /** Written as a SageMaker `ml.` type: billed at SageMaker's rate, not EC2's. */
    readonly sageMaker: boolean;
}

const ALL_CATALOG = Object.keys(INSTANCE_TYPES) as InstanceTypeName[];

/**
 * AWS Batch's type bundles, which pick from CPU families only (AWS Batch API, ComputeResource
 * `instanceTypes`: optimal from c4, m4, r4, c5, m5, r5, and, since 2025-11-01, as
 * default_x86_64; default_x86_64 from m6i, c6i, r6i, c7i; default_arm64 from m6g, c6g, r6g, c7g).
 */
const BATCH_BUNDLES: Readonly<Record<string, readonly string[]>> = {
    optimal: ["c4", "m4", "r4", "c5", "m5", "r5", "m6i", "c6i", "r6i", "c7i"],
    default_x86_64: ["m6i", "c6i", "r6i", "c7i"],
    default_arm64: ["m6g", "c6g", "r6g", "c7g"],
};

/** The letters EC2's accelerated families start with (catalog `isAcceleratedInstanceType`). */
const ACCELERATED_FAMILY_LETTERS = ["dl", "f", "g", "gr", "inf", "p", "trn", "vt"];

const FAMILY = /^[a-z]+\d[a-z0-9-]*$/;

/** A value the preview will only know during the update: any type at all. */
export function computedChoice(): InstanceChoice {
    return {
        written: "a value computed during the update",
        catalog: ALL_CATALOG,
        open: true,
        unknownMayBeGpu: true,
        sageMaker: false,
    };
}

/** The types one written instance type (or family, wildcard, bundle) may launch. */
export function choiceOf(value: unknown): InstanceChoice | undefined {
    if (isUnknown(value)) return computedChoice();
    if (value instanceof AnyOf) {
        const choices = value.values.map(choiceOf).filter((c): c is InstanceChoice => c !== undefined);
        return unionOf(choices.map((c) => c.written).join(" or "), choices);
    }
    // An expression in place of a type (a pipeline parameter, a template intrinsic left unresolved) is chosen at run time: any type.
    if (typeof value === "object" && value !== null) return { ...computedChoice(), written: "a value set at run time" };
    if (typeof value !== "string" || value.trim() === "") return undefined;
    // Types are matched as written: EC2 names them in lower case, and "P5.48XLARGE" is not a type the catalog knows.
    const written = value.trim();
    if (/^ml\./i.test(written)) {
        const ec2 = choiceOf(written.slice(3))!;
        return { ...ec2, written, sageMaker: true };
    }
    const name = written;
    if (isKnownInstanceType(name)) return closed(written, [name]);
    const bundle = Object.hasOwn(BATCH_BUNDLES, name) ? BATCH_BUNDLES[name] : undefined;
    if (bundle) {
        const catalog = ALL_CATALOG.filter((t) => bundle.includes(familyOf(t)));
        return { written, catalog, open: true, unknownMayBeGpu: false, sageMaker: false };
    }
    if (/[*?]/.test(name)) return wildcard(written, name.toLowerCase());
    if (!name.includes(".") && FAMILY.test(name)) {
        const catalog = ALL_CATALOG.filter((t) => familyOf(t) === name);
        return {
            written: `${written} (a family)`,
            catalog,
            open: true,
            unknownMayBeGpu: isAcceleratedInstanceType(name),
            sageMaker: false,
        };
    }
    return { written, catalog: [], open: true, unknownMayBeGpu: isAcceleratedInstanceType(name), sageMaker: false };
}

function closed(written: string, catalog: InstanceTypeName[]): InstanceChoice {
    return { written, catalog, open: false, unknownMayBeGpu: false, sageMaker: false };
}

/** `p4d.24xlarge` → `p4d`. */
export function familyOf(type: string): string {
    return type.split(".")[0];
}

/** `p4d.*`, `g5*`, `*`: as EC2 matches allowedInstanceTypes, `*` any run of characters. */
function wildcard(written: string, pattern: string): InstanceChoice {
    const regex = new RegExp(
        `^${pattern
            .replace(/[.+^${}()|[\]\\]/g, "\\$&")
            .replace(/\*/g, ".*")
            .replace(/\?/g, ".")}$`,
    );
    const prefix = pattern.split(/[*?]/)[0];
    const letters = /^[a-z]*$/.test(prefix);
    const mayBeGpu =
        prefix === "" ||
        isAcceleratedInstanceType(`${prefix}1`) ||
        isAcceleratedInstanceType(prefix) ||
        (letters && ACCELERATED_FAMILY_LETTERS.some((f) => f.startsWith(prefix)));
    return {
        written,
        catalog: ALL_CATALOG.filter((t) => regex.test(t)),
        open: true,
        unknownMayBeGpu: mayBeGpu,
        sageMaker: false,
    };
}

/** Several choices as one: what any of them may launch. */
export function unionOf(written: string, choices: readonly InstanceChoice[]): InstanceChoice {
    return {
        written,
        catalog: [...new Set(choices.flatMap((c) => c.catalog))],
        open: choices.some((c) => c.open),
        unknownMayBeGpu: choices.some((c) => c.open && c.unknownMayBeGpu),
        sageMaker: choices.some((c) => c.sageMaker),
    };
}

/** Inside `{ min, max }`, either end unset or unknown meaning no bound. */
function within(value: number, range: unknown): boolean {
    const r = asRecord(range);
    if (!r) return true;
    const min = asNumber(r.min);
    const max = asNumber(r.max);
    return (min === undefined || value >= min) && (max === undefined || value <= max);
}

/**
 * EC2 attribute-based selection (launch templates, fleets and Auto Scaling overrides,
 * `instanceRequirements`): the catalog types that meet its constraints, and unknown types
 * unless `allowedInstanceTypes` names only catalog types. Accelerators are ruled out only by
 * `acceleratorCount.max: 0`. Shapes: @pulumi/aws 7.x `LaunchTemplateInstanceRequirements`.
 */
export function requirementsChoice(value: unknown, written: string): InstanceChoice | undefined {
    if (isUnknown(value)) return { ...computedChoice(), written };
    const r = asRecord(value);
    if (!r) return undefined;
    const allowed = asList(r.allowedInstanceTypes)
        .map(choiceOf)
        .filter((c): c is InstanceChoice => c !== undefined);
    const base = allowed.length > 0 ? unionOf(written, allowed) : { ...computedChoice(), written };
    const excluded = new Set(asList(r.excludedInstanceTypes).flatMap((e) => choiceOf(e)?.catalog ?? []));
    const accelerators = asRecord(r.acceleratorCount);
    const noAccelerators = !isUnknown(accelerators?.max) && asNumber(accelerators?.max) === 0;
    const catalog = base.catalog.filter((t) => {
        const spec = instanceType(t);
        const gpus = spec.gpu?.count ?? 0;
        return (
            !excluded.has(t) &&
            within(spec.vcpu, r.vcpuCount) &&
            within(spec.memoryGiB * 1024, r.memoryMib) &&
            within(gpus, r.acceleratorCount) &&
            (gpus === 0 || acceleratorMatches(t, r))
        );
    });
    return { ...base, catalog, unknownMayBeGpu: base.unknownMayBeGpu && !noAccelerators };
}

/** acceleratorManufacturers / acceleratorNames / acceleratorTypes, when set, name this type's GPU. */
function acceleratorMatches(type: InstanceTypeName, r: Props): boolean {
    const gpu = gpuOf(type);
    if (!gpu) return true;
    const listed = (key: string) => asList(r[key]).map((v) => asString(v)?.toLowerCase() ?? "");
    const names = listed("acceleratorNames");
    const makers = listed("acceleratorManufacturers");
    const kinds = listed("acceleratorTypes");
    const model = gpu.id.split("-")[0];
    return (
        (names.length === 0 || names.includes(model)) &&
        (makers.length === 0 || makers.includes("nvidia")) &&
        (kinds.length === 0 || kinds.includes("gpu"))
    );
}

/** True when it may launch a type with GPUs: a catalog GPU type, or an unknown accelerated one. */
export function mayLaunchGpus(choice: InstanceChoice): boolean {
    return choice.catalog.some((t) => (gpuOf(t)?.count ?? 0) > 0) || (choice.open && choice.unknownMayBeGpu);
}

/** The catalog's GPU types it may launch. */
export function catalogGpuTypes(choice: InstanceChoice): InstanceTypeName[] {
    return choice.catalog.filter((t) => (gpuOf(t)?.count ?? 0) > 0);
}
