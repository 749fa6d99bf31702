import * as pulumi from "@pulumi/pulumi";

/**
 * A problem with one setting. Pure validators return them so that a component reports its
 * arguments' problems and the stack config reports the same rule under its own key.
 */
export interface SettingProblem {
    /** The setting's path: `maxReplicas` among a component's arguments, `nodePools.h100.maxSize` in the stack config. */
    readonly key: string;
    /** What is wrong and what is allowed. */
    readonly message: string;
}

/**
 * Throws every problem with a component's arguments at once, each with its property path, as
 * Pulumi reports bad inputs (`InputPropertiesError`). Components call it before they create
 * anything.
 */
export function throwIfInvalid(component: string, name: string, problems: readonly SettingProblem[]): void {
    if (problems.length === 0) return;
    throw new pulumi.InputPropertiesError({
        message: `${component} "${name}" has invalid arguments`,
        errors: problems.map((p) => ({ propertyPath: p.key, reason: p.message })),
    });
}

/** The problem with a count that is set and is not a whole number of at least `min` (replicas, say); none otherwise. */
export function countProblems(key: string, value: number | undefined, min: number): SettingProblem[] {
    if (value === undefined || (Number.isInteger(value) && value >= min)) return [];
    return [{ key, message: `must be a whole number of at least ${min} (found ${value})` }];
}
