/**
 * The cluster's admission rules (catalog/admission), evaluated offline with the evaluator the
 * policy pack uses (policies/lib/admission.ts), so specs can hold objects against them.
 */
import { DEFAULT_WORKLOAD_CLASSES } from "@gpu-platform/catalog";
import {
    AdmissionRule,
    GPU_LIMIT_EXEMPT_NAMESPACES,
    gpuLimitRule,
    tenancyRules,
} from "@gpu-platform/catalog/admission";
import type { TenancyAdmissionSettings } from "@gpu-platform/catalog/admission";
import { AdmissionRequest, evaluate, guessResource, selects } from "gpu-dev-platform-policies/lib/admission";

/** The messages the GPU-limit policy refuses `object` with (a Pod or a workload), none when it admits it. */
export function admit(object: unknown): string[] {
    const kind = String((object as { kind?: string }).kind ?? "Pod");
    return refusals(gpuLimitRule([...DEFAULT_WORKLOAD_CLASSES], GPU_LIMIT_EXEMPT_NAMESPACES), {
        operation: "CREATE",
        group: kind === "Pod" ? "" : ["Job", "CronJob"].includes(kind) ? "batch" : "apps",
        version: "v1",
        kind,
        resource: guessResource(kind),
        namespace: "ml-research",
        userInfo: { username: "team" },
        object,
    });
}

/** The refusals of `rule` for `request`; a CEL error fails the spec (the API server would refuse with it). */
export function refusals(rule: AdmissionRule, request: AdmissionRequest): string[] {
    const outcome = evaluate(rule, request);
    if (!outcome.applies) return [];
    if ("error" in outcome) throw new Error(`CEL error in ${rule.name}: ${outcome.error}`);
    return outcome.refusals;
}

/** A tenancy rule by name, with `settings`. */
export function tenancyRule(name: string, settings: TenancyAdmissionSettings = {}): AdmissionRule {
    const rule = tenancyRules(settings).find((r) => r.name === name);
    if (!rule) throw new Error(`no tenancy rule ${name}`);
    return rule;
}

export { selects };
