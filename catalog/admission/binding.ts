/**
 * Where a rule's binding applies. A `team-namespaces` rule binds to namespaces that carry the
 * team label and not the rule's exemption label (`admission.gpu-platform/<rule>: exempt`),
 * which only the platform may set: team namespace labels are the platform's
 * (`gpu-platform-team-namespace-labels`).
 */
import { LABELS } from "../kubernetes-names";
import type { AdmissionRule, LabelSelector } from "./types";

/** Prefix of the namespace label that exempts a namespace from one rule. */
export const ADMISSION_EXEMPTION_PREFIX = "admission.gpu-platform/";

/** The label that exempts a namespace from `rule`, with the value `exempt`. */
export function admissionExemptionLabel(rule: string): string {
    return `${ADMISSION_EXEMPTION_PREFIX}${rule}`;
}

/** The binding's namespace selector: team namespaces not exempt from the rule, or none (all) for a cluster rule. */
export function bindingNamespaceSelector(rule: Pick<AdmissionRule, "name" | "scope">): LabelSelector | undefined {
    if (rule.scope === "cluster") return undefined;
    return {
        matchExpressions: [
            { key: LABELS.team, operator: "Exists" },
            { key: admissionExemptionLabel(rule.name), operator: "DoesNotExist" },
        ],
    };
}
