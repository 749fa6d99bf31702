/**
 * The NVIDIA GPU Operator, judged on the values its chart will actually render with. The
 * operator is a Helm release (or a helm.sh/v4 Chart), whose rendered objects a preview does not
 * show, so the policies compute the release's effective values as Helm does: each of
 * `valueYamlFiles` in order (YAML text, or a file the plan can read), then `values` over them,
 * maps merged key by key, anything else replaced (NVIDIA's chart, deployments/gpu-operator,
 * v26.7.0: values.yaml and templates/clusterpolicy.yaml, plugin_config.yaml, mig_config.yaml):
 * - `driver.enabled` and `toolkit.enabled` default to true and reach the ClusterPolicy as
 *   written, where the YAML reads them: only false (or a YAML 1.1 spelling of it: "false",
 *   "no", "off") turns them off;
 * - `devicePlugin.config` and `migManager.config` name a ConfigMap: the chart creates it from
 *   `data` when `create` is true and `data` is not empty; otherwise the operator reads an
 *   existing ConfigMap of that name, which must then be in this stack to be checked.
 * A ClusterPolicy (nvidia.com/v1) the stack creates directly is judged the same way.
 */
import * as fs from "fs";
import * as path from "path";
import { NamespaceResolution, objectNamespace, resolveNamespace } from "./lib/object-namespace";
import { parse } from "yaml";
import { GPU_MODELS } from "@gpu-platform/catalog";
import { ARCHIVE_SIG, ASSET_SIG, SIG_KEY } from "./lib/wire";
import { StackResource, stackPolicy } from "./lib/define";
import { kubernetesObjects } from "./lib/pod-specs";
import { Props, asList, asNumber, asRecord, asString, isUnknown } from "./lib/values";

const CHART_TYPES = ["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"];
const CLUSTER_POLICY = "kubernetes:nvidia.com/v1:ClusterPolicy";
/** The chart's name at the end of a chart reference: `gpu-operator`, `nvidia/gpu-operator`, `./charts/gpu-operator-v26.7.0.tgz`. */
const GPU_OPERATOR_CHART = /(^|\/)gpu-operator(-v?\d[^/]*)?(\.tgz)?$/;
/** Top-level values only the GPU Operator's chart takes. */
const OPERATOR_VALUE_KEYS = ["devicePlugin", "migManager", "toolkit", "dcgmExporter", "mig", "nfd"];
/** What YAML 1.1 (the Kubernetes API's YAML) reads as false. */
const YAML_FALSE = /^(false|no|off|n)$/i;
/** Value files larger than this are not read. */
const MAX_VALUES_FILE = 1024 * 1024;

/** Every MIG profile a catalog GPU can make: the allowlist when a stack's config names none. */
const CATALOG_MIG_PROFILES = [
    ...new Set(Object.values(GPU_MODELS).flatMap((model) => Object.keys(model.migProfiles))),
].sort();

/** One GPU Operator installation: a release or chart with its effective values, or a ClusterPolicy with its spec. */
interface Operator {
    readonly resource: StackResource;
    /** `GPU Operator release "gpu-operator"`, `ClusterPolicy "cluster-policy"` */
    readonly label: string;
    /** The values (or spec) the operator runs with. */
    readonly values: Props;
    /** Where a setting comes from, for messages: `values.` or `spec.`. */
    readonly prefix: string;
    /** Value sources that could not be read, each said for a message. */
    readonly unreadable: readonly string[];
    readonly namespace?: string;
    /** Config maps are created from the values' data (a chart), or only referenced (a ClusterPolicy). */
    readonly fromChart: boolean;
}

export const gpuOperatorSharing = stackPolicy({
    name: "gpu-operator-sharing",
    description:
        "The GPU Operator shares GPUs only in allowed ways: time-slicing replicas from allowedTimeSliceReplicas (more slices mean less memory " +
        "and time per pod, with no isolation) and MIG profiles from allowedMigProfiles, read from the effective values (values over valueYamlFiles) or " +
        "from the ConfigMap they name when it is not created from the values; a ConfigMap named but not in this stack cannot be checked and is a " +
        "violation. A config entry that is not valid YAML is a violation too: the device plugin or MIG manager would not start with it.",
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
            description:
                "MIG profiles a MIG config may use. Default: every profile a catalog GPU can make (catalog/gpus.ts).",
            default: CATALOG_MIG_PROFILES,
        },
    },
    validate: (resources, config, report) => {
        for (const operator of operators(resources)) {
            const at = (message: string) => report(message, operator.resource.urn);
            for (const [component, check] of [
                [
                    "devicePlugin",
                    (doc: Props, where: string) => checkTimeSlicing(doc, where, config.allowedTimeSliceReplicas, at),
                ],
                [
                    "migManager",
                    (doc: Props, where: string) => checkMigProfiles(doc, where, config.allowedMigProfiles, at),
                ],
            ] as const) {
                for (const { where, text } of sharingConfigs(operator, component, resources, at)) {
                    const doc = parseYaml(text, `${operator.label}: ${where}`, at);
                    if (doc) check(doc, `${operator.label}: ${where}`);
                }
            }
        }
    },
});

export const gpuOperatorInstall = stackPolicy({
    name: "gpu-operator-install",
    description:
        "The GPU Operator comes from NVIDIA's chart repository (chartRepositories), not a local path, a copy or another registry, so its values mean " +
        "what these policies read; and it installs neither the NVIDIA driver nor the container toolkit (driver.enabled, toolkit.enabled false in the " +
        "effective values: both default to true), which the AL2023 NVIDIA AMIs already ship. Values the plan cannot read (a value file it cannot open) " +
        "are a violation, since they may turn either back on.",
    enforcementLevel: "mandatory",
    config: {
        chartRepositories: {
            type: "array",
            items: { type: "string" },
            description: "Helm repositories the GPU Operator chart may come from.",
            default: ["https://helm.ngc.nvidia.com/nvidia"],
        },
    },
    validate: (resources, { chartRepositories }, report) => {
        for (const operator of operators(resources)) {
            const at = (message: string) => report(message, operator.resource.urn);
            if (operator.resource.type !== CLUSTER_POLICY) checkSource(operator, chartRepositories, at);
            for (const source of operator.unreadable) {
                at(
                    `${operator.label} takes values from ${source}, which cannot be read at preview, so what it installs cannot be checked; put those values in values.`,
                );
            }
            for (const component of ["driver", "toolkit"] as const) {
                const enabled = asRecord(operator.values[component])?.enabled;
                if (
                    isUnknown(enabled) ||
                    enabled === false ||
                    (typeof enabled === "string" && YAML_FALSE.test(enabled.trim()))
                )
                    continue;
                const found =
                    enabled === undefined || enabled === null
                        ? `leaves ${operator.prefix}${component}.enabled unset, which installs it`
                        : `sets ${operator.prefix}${component}.enabled to ${JSON.stringify(enabled)}`;
                at(
                    `${operator.label} ${found}: the ${component === "driver" ? "NVIDIA driver" : "NVIDIA container toolkit"} would be installed again over the one the ` +
                        `AL2023 NVIDIA AMI ships; set ${operator.prefix}${component}.enabled to false.`,
                );
            }
        }
    },
});

/** Every GPU Operator installation in the stack: releases and charts of the operator's chart (or with its values), and ClusterPolicies. */
function operators(resources: readonly StackResource[]): Operator[] {
    const found: Operator[] = [];
    for (const r of resources) {
        if (r.type === CLUSTER_POLICY) {
            found.push({
                resource: r,
                label: `ClusterPolicy "${r.name}"`,
                values: asRecord(r.props.spec) ?? {},
                prefix: "spec.",
                unreadable: [],
                fromChart: false,
            });
            continue;
        }
        if (!CHART_TYPES.includes(r.type)) continue;
        const { values, unreadable } = effectiveValues(r.props);
        const chart = asString(r.props.chart)?.trim() ?? "";
        if (!GPU_OPERATOR_CHART.test(chart) && !OPERATOR_VALUE_KEYS.some((key) => asRecord(values[key]))) continue;
        const kind = r.type.endsWith(":Chart") ? "chart" : "release";
        found.push({
            resource: r,
            label: `GPU Operator ${kind} "${r.name}"`,
            values,
            prefix: "values.",
            unreadable,
            namespace: knownName(resolveNamespace(r.props.namespace, r.providerProps)),
            fromChart: true,
        });
    }
    return found;
}

/** The values Helm renders with: each value file in order, then `values` over them. */
function effectiveValues(props: Props): { values: Props; unreadable: string[] } {
    let values: Props = {};
    const unreadable: string[] = [];
    asList(props.valueYamlFiles).forEach((file, i) => {
        const { text, source } = assetText(file, `valueYamlFiles[${i}]`);
        if (text === undefined) {
            if (source) unreadable.push(source);
            return;
        }
        try {
            const doc = parse(text, { maxAliasCount: 100 }) as unknown;
            values = mergeValues(values, asRecord(doc) ?? {});
        } catch {
            unreadable.push(`${source} (not valid YAML)`);
        }
    });
    return { values: mergeValues(values, asRecord(props.values) ?? {}), unreadable };
}

/** An asset's text: inline text, or a local file when the plan can read it; otherwise what it names. */
function assetText(asset: unknown, setting: string): { text?: string; source?: string } {
    const record = asRecord(asset);
    if (!record || isUnknown(asset)) return {};
    if (record[SIG_KEY] === ARCHIVE_SIG) return { source: `${setting} (an archive)` };
    if (typeof record.text === "string") return { text: record.text };
    const file = asString(record.path);
    if (file !== undefined) {
        try {
            const stat = fs.statSync(path.resolve(file));
            if (stat.isFile() && stat.size <= MAX_VALUES_FILE)
                return { text: fs.readFileSync(path.resolve(file), "utf8") };
        } catch {
            // Not readable from here: reported below.
        }
        return { source: `${setting} (file ${file})` };
    }
    const uri = asString(record.uri);
    return { source: `${setting} (${uri ?? (record[SIG_KEY] === ASSET_SIG ? "an asset" : "a value")})` };
}

/** Helm's merge of user values: maps merged key by key, everything else (lists included) replaced. */
function mergeValues(base: Props, over: Props): Props {
    const merged: Props = { ...base };
    for (const [key, value] of Object.entries(over)) {
        const [a, b] = [asRecord(merged[key]), asRecord(value)];
        merged[key] = a && b ? mergeValues(a, b) : value;
    }
    return merged;
}

/** Where the operator will read a component's sharing config from: the values' data, or a ConfigMap in the stack. */
function sharingConfigs(
    operator: Operator,
    component: "devicePlugin" | "migManager",
    resources: readonly StackResource[],
    report: (message: string) => void,
): { where: string; text: string }[] {
    const config = asRecord(asRecord(operator.values[component])?.config) ?? {};
    const setting = `${operator.prefix}${component}.config`;
    const data = asRecord(config.data) ?? {};
    const name = config.name;
    const fromData =
        operator.fromChart && (config.create === true || config.create === "true") && Object.keys(data).length > 0;
    if (fromData) return textEntries(data, `${setting}.data`);
    if (isUnknown(name) || typeof name !== "string" || name === "") return [];
    const maps = configMaps(resources, name, operator.namespace);
    if (maps.length === 0) {
        report(
            `${operator.label}: ${setting}.name names ConfigMap "${name}", which this stack does not create, so its sharing settings cannot be checked; ` +
                `define them in ${operator.fromChart ? `${setting}.data with ${setting}.create: true` : "a ConfigMap this stack creates"}.`,
        );
        return [];
    }
    return maps.flatMap(({ label, data: mapData }) => textEntries(mapData, `ConfigMap ${label} data`));
}

function textEntries(data: Props, where: string): { where: string; text: string }[] {
    return Object.entries(data)
        .filter((entry): entry is [string, string] => typeof entry[1] === "string")
        .map(([entry, text]) => ({ where: `${where}["${entry}"]`, text }));
}

const knownName = (where: NamespaceResolution) => (where.state === "known" ? where.name : undefined);

/** ConfigMaps (and patches of them) of that name the stack creates, also inside yaml/v2 components, in the namespace when both say one. */
function configMaps(
    resources: readonly StackResource[],
    name: string,
    namespace?: string,
): { label: string; data: Props }[] {
    return resources.flatMap((r) =>
        kubernetesObjects(r.type, r.name, r.props)
            .filter(({ kind }) => kind === "ConfigMap" || kind === "ConfigMapPatch")
            .filter(({ kind, object }) => {
                const ns = knownName(objectNamespace(r.type, kind, object, r.providerProps));
                return (
                    asRecord(object.metadata)?.name === name &&
                    (namespace === undefined || ns === undefined || ns === namespace)
                );
            })
            .map(({ object, nested, label }) => ({
                label: `"${name}" (${nested ? label : `${r.type.split(":").pop()} "${r.name}"`})`,
                data: asRecord(object.data) ?? {},
            })),
    );
}

/** The chart must be NVIDIA's: named plainly, from an allowed repository (or a URL in one). */
function checkSource(operator: Operator, repositories: readonly string[], report: (message: string) => void): void {
    const { props } = operator.resource;
    const chart = asString(props.chart)?.trim() ?? "";
    const repo = asString(asRecord(props.repositoryOpts)?.repo)?.trim().replace(/\/+$/, "");
    const allowed = repositories.map((r) => r.replace(/\/+$/, ""));
    if (isUnknown(props.chart) || isUnknown(asRecord(props.repositoryOpts)?.repo)) return;
    const fromAllowedRepo = chart === "gpu-operator" && repo !== undefined && allowed.includes(repo);
    const fromAllowedUrl = allowed.some((r) => chart.startsWith(`${r}/`) && GPU_OPERATOR_CHART.test(chart));
    if (fromAllowedRepo || fromAllowedUrl) return;
    const source = repo ? `chart "${chart}" from ${repo}` : `chart "${chart}"`;
    report(
        `${operator.label} installs ${source}, not NVIDIA's chart from ${allowed.join(" or ")}; set chart: "gpu-operator" and repositoryOpts.repo: "${allowed[0] ?? ""}" ` +
            "(a local or copied chart may render its values differently from what these policies check).",
    );
}

function parseYaml(text: string, where: string, report: (message: string) => void): Props | undefined {
    try {
        const doc = parse(text, { maxAliasCount: 100 }) as unknown;
        if (asRecord(doc)) return asRecord(doc);
        report(`${where} is not a YAML mapping; write it as a mapping with version: v1 and the component's settings.`);
    } catch (err) {
        const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
        report(`${where} does not parse as YAML (${reason}); fix the YAML.`);
    }
    return undefined;
}

function checkTimeSlicing(doc: Props, where: string, allowed: number[], report: (message: string) => void): void {
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

function checkMigProfiles(doc: Props, where: string, allowed: string[], report: (message: string) => void): void {
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
