/**
 * The NVIDIA GPU Operator's sharing configs. The operator is a Helm release, whose rendered
 * objects CrossGuard never sees, so the policy reads the release's `values` as NVIDIA's chart
 * takes them (deployments/gpu-operator/values.yaml, v26.7.0):
 * - `devicePlugin.config.data.<entry>`: a k8s-device-plugin config as a YAML string, whose
 *   `sharing.timeSlicing.resources[].replicas` cuts each GPU into that many time slices;
 * - `migManager.config.data["config.yaml"]`: the MIG manager's YAML, whose
 *   `mig-configs.<name>[].mig-devices` maps MIG profiles to how many of each a GPU gets.
 */
import { parse } from "yaml";
import { GPU_MODELS } from "../catalog";
import { resourcePolicy } from "./lib/define";
import { Props, asList, asNumber, asRecord, asString, isUnknown } from "./lib/values";

const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
/** The chart's name, alone or behind a repository alias (`nvidia/gpu-operator`). */
const GPU_OPERATOR_CHART = /(^|\/)gpu-operator$/;

/** Every MIG profile a catalog GPU can make: the allowlist when a stack's config names none. */
const CATALOG_MIG_PROFILES = [...new Set(Object.values(GPU_MODELS).flatMap((model) => Object.keys(model.migProfiles)))].sort();

type Report = (message: string) => void;

export const gpuOperatorSharing = resourcePolicy({
    name: "gpu-operator-sharing",
    description:
        "The GPU Operator release shares GPUs only in allowed ways: time-slicing replicas from allowedTimeSliceReplicas (more slices mean less memory " +
        "and time per pod, with no isolation) and MIG profiles from allowedMigProfiles. A config entry that is not valid YAML is a violation too: " +
        "the device plugin or MIG manager would not start with it.",
    enforcementLevel: "mandatory",
    config: {
        allowedTimeSliceReplicas: {
            type: "array",
            items: { type: "integer", minimum: 1 },
            description: "How many time slices one GPU may be cut into.",
            default: [2, 3, 4],
        },
        allowedMigProfiles: {
            type: "array",
            items: { type: "string" },
            description: "MIG profiles a MIG config may use. Default: every profile a catalog GPU can make (catalog/gpus.ts).",
            default: CATALOG_MIG_PROFILES,
        },
    },
    resourceTypes: [HELM_RELEASE],
    validate: ({ name, props }, config, report) => {
        if (!GPU_OPERATOR_CHART.test(asString(props.chart) ?? "")) return;
        const values = asRecord(props.values) ?? {};
        const prefix = `GPU Operator release "${name}"`;
        for (const [entry, text] of configData(values, "devicePlugin")) {
            const setting = `values.devicePlugin.config.data["${entry}"]`;
            const doc = parseYaml(text, `${prefix}: ${setting}`, report);
            if (doc) checkTimeSlicing(doc, `${prefix}: ${setting}`, config.allowedTimeSliceReplicas, report);
        }
        for (const [entry, text] of configData(values, "migManager")) {
            const setting = `values.migManager.config.data["${entry}"]`;
            const doc = parseYaml(text, `${prefix}: ${setting}`, report);
            if (doc) checkMigProfiles(doc, `${prefix}: ${setting}`, config.allowedMigProfiles, report);
        }
    },
});

/** The `<component>.config.data` entries that are known strings. */
function configData(values: Props, component: "devicePlugin" | "migManager"): [string, string][] {
    const data = asRecord(asRecord(asRecord(values[component])?.config)?.data) ?? {};
    return Object.entries(data).filter((entry): entry is [string, string] => typeof entry[1] === "string");
}

function parseYaml(text: string, where: string, report: Report): Props | undefined {
    try {
        const doc = parse(text) as unknown;
        if (asRecord(doc)) return asRecord(doc);
        report(`${where} is not a YAML mapping; write it as a mapping with version: v1 and the component's settings.`);
    } catch (err) {
        const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
        report(`${where} does not parse as YAML (${reason}); fix the YAML.`);
    }
    return undefined;
}

function checkTimeSlicing(doc: Props, where: string, allowed: number[], report: Report): void {
    const resources = asList(asRecord(asRecord(doc.sharing)?.timeSlicing)?.resources);
    resources.forEach((r, i) => {
        const resource = asRecord(r) ?? {};
        const replicas = asNumber(resource.replicas);
        if (isUnknown(resource.replicas) || (replicas !== undefined && allowed.includes(replicas))) return;
        report(
            `${where} sets sharing.timeSlicing.resources[${i}].replicas to ${String(resource.replicas)} for ${asString(resource.name) ?? "a resource"}; ` +
                `use one of ${allowed.join(", ")} (allowedTimeSliceReplicas).`,
        );
    });
}

function checkMigProfiles(doc: Props, where: string, allowed: string[], report: Report): void {
    for (const [configName, layouts] of Object.entries(asRecord(doc["mig-configs"]) ?? {})) {
        asList(layouts).forEach((layout, i) => {
            const devices = asRecord(asRecord(layout)?.["mig-devices"]) ?? {};
            for (const profile of Object.keys(devices).filter((p) => !allowed.includes(p))) {
                report(
                    `${where} uses MIG profile "${profile}" in mig-configs.${configName}[${i}].mig-devices, which is not allowed; ` +
                        `use one of ${allowed.join(", ")} (allowedMigProfiles).`,
                );
            }
        });
    }
}
