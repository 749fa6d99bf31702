/**
 * A Helm release's effective values, as pulumi-kubernetes hands them to Helm: each of
 * `valueYamlFiles` in order, then `values` over them (maps merged key by key, anything else
 * replaced, as Helm merges). A file whose text the policy cannot read (a file path or a remote
 * asset, whose content is not in the preview) is reported, so a check fails closed rather than
 * judge half the values.
 */
import { parse } from "yaml";
import { SIG_KEY, ASSET_SIG } from "./wire";
import { Props, asList, asRecord, asString, isUnknown } from "./values";

export const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

export interface EffectiveValues {
    readonly values: Props;
    /** `valueYamlFiles[i]` entries whose content could not be read, each with why. */
    readonly unreadable: string[];
}

export function effectiveValues(props: Props): EffectiveValues {
    const layers: Props[] = [];
    const unreadable: string[] = [];
    asList(props.valueYamlFiles).forEach((file, i) => {
        const text = assetText(file);
        if (text === undefined)
            return void unreadable.push(
                `valueYamlFiles[${i}] is not a text asset (a file or remote asset is read only at update time)`,
            );
        try {
            layers.push(asRecord(parse(text)) ?? {});
        } catch (err) {
            unreadable.push(
                `valueYamlFiles[${i}] does not parse as YAML (${err instanceof Error ? err.message.split("\n")[0] : String(err)})`,
            );
        }
    });
    layers.push(asRecord(props.values) ?? {});
    return { values: layers.reduce((merged, layer) => merge(merged, layer), {} as Props), unreadable };
}

/** True when the release installs `chart` (its name alone, behind a repository alias, or as a packaged file). */
export function installsChart(props: Props, chart: string): boolean {
    const name = asString(props.chart) ?? "";
    return new RegExp(`(^|/)${chart}(-\\d[\\w.+-]*\\.tgz)?$`).test(name);
}

/** The text of a StringAsset, on the wire (offline plan) or deserialized (the engine's policy host). */
function assetText(asset: unknown): string | undefined {
    const record = asRecord(asset);
    if (!record || isUnknown(asset)) return undefined;
    if (record[SIG_KEY] !== undefined && record[SIG_KEY] !== ASSET_SIG) return undefined;
    return typeof record.text === "string" ? record.text : undefined;
}

function merge(base: Props, over: Props): Props {
    const result: Props = { ...base };
    for (const [key, value] of Object.entries(over)) {
        const current = asRecord(result[key]);
        const next = asRecord(value);
        result[key] = current && next ? merge(current, next) : value;
    }
    return result;
}
