/**
 * What the policy pack will expect of this stack, read from `policies/config.<stack>.json` as
 * data (the file CI passes to `pulumi preview --policy-pack-config`), so that a config the pack
 * would fail is refused here, before anything is created.
 *
 * Priority classes: the pack judges GPU pods by per-class limits in that file
 * (`maxGpusPerPodByClass`, default the catalog's five classes), while the cluster gets the
 * stack's `priorityClasses`. The two are checked to agree rather than one derived from the
 * other: CI's preview reads only the JSON file, so deriving the pack's limits from the stack
 * config would hold in the offline plan and fail in CI. A stack that defines its own classes
 * writes the same names and limits into its policy config.
 */
import * as fs from "fs";
import * as path from "path";
import {
    BUDGET_ENVIRONMENTS,
    BUDGET_TAG_KEYS,
    BUDGET_TAG_VALUE_PATTERNS,
    BudgetTagSettings,
} from "@gpu-platform/catalog/aws-tags";
import { DEFAULT_WORKLOAD_CLASSES } from "@gpu-platform/catalog";
import { parseJsonOr } from "@gpu-platform/catalog/json";
import type { SettingProblem } from "../components/shared/problems";

/** The pack's policies that read per-class GPU limits. */
export const CLASS_LIMIT_POLICIES = ["gpu-workload-priority-class", "gpu-workload-class-limit"] as const;

export interface PolicyPackSettings {
    /** Where the settings came from, for messages: `policies/config.dev.json` or "the pack's defaults". */
    readonly source: string;
    readonly budgetTags: BudgetTagSettings;
    /** Per enabled class-limit policy, the limits it applies by class name. */
    readonly classLimits: ReadonlyArray<{ readonly policy: string; readonly limits: ReadonlyMap<string, number> }>;
    /**
     * The file's document and the project its stacks belong to (this repository's Pulumi.yaml),
     * when read from this repository's policies folder: its per-stack facts are checked against
     * the stack config (stacks/policy-facts.ts). Unset for the pack's defaults.
     */
    readonly file?: { readonly document: Record<string, unknown>; readonly project: string };
}

/** The settings of a policy config document (`{ "<policy>": level | { enforcementLevel, ...config }, "all": level }`). */
export function policyPackSettingsOf(doc: unknown, source: string): PolicyPackSettings {
    const entries = isRecord(doc) ? doc : {};
    const entry = (policy: string): Record<string, unknown> | undefined => {
        const value = Object.hasOwn(entries, policy) ? entries[policy] : undefined;
        return typeof value === "string" ? { enforcementLevel: value } : isRecord(value) ? value : undefined;
    };
    const all = entry("all");
    const enabled = (policy: string) => (entry(policy)?.enforcementLevel ?? all?.enforcementLevel) !== "disabled";

    const tagsEntry = entry("budget-tags") ?? {};
    const budgetTags: BudgetTagSettings = {
        requiredTags: stringList(tagsEntry.requiredTags) ?? BUDGET_TAG_KEYS,
        tagValuePatterns: stringMap(tagsEntry.tagValuePatterns) ?? BUDGET_TAG_VALUE_PATTERNS,
        allowedEnvironments: stringList(tagsEntry.allowedEnvironments) ?? BUDGET_ENVIRONMENTS,
    };
    const defaults = new Map(DEFAULT_WORKLOAD_CLASSES.map((c) => [c.name, c.maxGpusPerPod]));
    const classLimits = CLASS_LIMIT_POLICIES.filter(enabled).map((policy) => {
        const configured = entry(policy)?.maxGpusPerPodByClass;
        return {
            policy,
            limits: isRecord(configured)
                ? new Map(Object.entries(configured).filter((e): e is [string, number] => typeof e[1] === "number"))
                : defaults,
        };
    });
    return {
        source,
        budgetTags: enabled("budget-tags")
            ? budgetTags
            : { requiredTags: [], tagValuePatterns: {}, allowedEnvironments: [] },
        classLimits,
    };
}

/** `policies/config.<stack>.json` of this repository, or the pack's defaults when the stack has none. */
export function policyPackSettings(stack: string): PolicyPackSettings {
    const file = path.join(__dirname, "..", "policies", `config.${stack}.json`);
    // Stack names are letters, digits, `-`, `_` and `.`; anything else names no file of ours.
    if (!/^[\w.-]+$/.test(stack) || !fs.existsSync(file)) return policyPackSettingsOf({}, "the pack's defaults");
    const document = parseJsonOr(fs.readFileSync(file, "utf8"), {});
    const project = /^name:\s*([\w.-]+)/m.exec(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8"))?.[1];
    const settings = policyPackSettingsOf(document, `policies/config.${stack}.json`);
    return isRecord(document) && project ? { ...settings, file: { document, project } } : settings;
}

/**
 * The stack's priority classes against the pack's per-class limits: every class the cluster
 * gets has the same limit in every class-limit policy, and the pack knows no class the cluster
 * lacks. `configured` tells whether the stack set `priorityClasses` (keys name it) or took the
 * defaults.
 */
export function priorityClassAgreementProblems(
    classes: ReadonlyArray<{ name: string; maxGpusPerPod: number } | undefined>,
    configured: boolean,
    pack: PolicyPackSettings,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const names = new Set<string>();
    classes.forEach((pc, i) => {
        if (!pc) return;
        names.add(pc.name);
        const key = configured ? `priorityClasses[${i}]` : "priorityClasses";
        const missing = pack.classLimits.filter(({ limits }) => !limits.has(pc.name)).map(({ policy }) => policy);
        const differing = pack.classLimits.filter(
            ({ limits }) => limits.has(pc.name) && limits.get(pc.name) !== pc.maxGpusPerPod,
        );
        if (missing.length > 0) {
            problems.push({
                key: configured ? `${key}.name` : key,
                message:
                    `class "${pc.name}" has no GPU limit in ${pack.source} (${missing.join(", ")}): the pack would refuse its GPU pods; ` +
                    `add "${pc.name}": ${pc.maxGpusPerPod} to maxGpusPerPodByClass of each, or use a class the pack knows`,
            });
        }
        for (const { policy, limits } of differing) {
            problems.push({
                key: configured ? `${key}.maxGpusPerPod` : key,
                message: `class "${pc.name}" allows ${pc.maxGpusPerPod} GPUs per pod, but ${pack.source} gives ${policy} ${limits.get(pc.name)}; make the two agree`,
            });
        }
    });
    for (const { policy, limits } of pack.classLimits) {
        const unknown = [...limits.keys()].filter((name) => !names.has(name));
        if (unknown.length > 0 && classes.every((pc) => pc !== undefined)) {
            problems.push({
                key: "priorityClasses",
                message:
                    `${pack.source} gives ${policy} limits for ${unknown.map((n) => `"${n}"`).join(", ")}, not classes of this stack: ` +
                    "pods naming one would pass the pack and be refused by the cluster; make the two lists agree",
            });
        }
    }
    return problems;
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] | undefined {
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
}

function stringMap(value: unknown): Record<string, string> | undefined {
    return isRecord(value) && Object.values(value).every((v) => typeof v === "string")
        ? (value as Record<string, string>)
        : undefined;
}
