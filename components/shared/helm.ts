import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ChartPin } from "./charts";

export type HelmValues = { [key: string]: unknown };

/**
 * Merges Helm values: objects key by key, everything else (lists included, as Helm does)
 * replaced by the later value. Used so a caller's overrides win over the component's defaults.
 */
export function mergeValues(base: HelmValues, ...overrides: (HelmValues | undefined)[]): HelmValues {
    const result: HelmValues = { ...base };
    for (const override of overrides) {
        for (const [key, value] of Object.entries(override ?? {})) {
            const current = result[key];
            result[key] = isPlainObject(current) && isPlainObject(value) ? mergeValues(current, value) : value;
        }
    }
    return result;
}

function isPlainObject(value: unknown): value is HelmValues {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A Helm release of a pinned chart. `helm.v3.Release` (not `helm.v4.Chart`) so the release
 * and its values stay one resource that CrossGuard policies can read. A chart in an OCI
 * registry is named by its full reference (`oci://<registry>/<path>/<chart>`), without
 * repository options, as Helm takes it.
 */
export function pinnedRelease(
    name: string,
    pin: ChartPin,
    values: pulumi.Input<HelmValues>,
    opts: pulumi.CustomResourceOptions,
    namespace: string = pin.namespace,
): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
        name,
        {
            name: pin.chart,
            ...(pin.repository.startsWith("oci://")
                ? { chart: `${pin.repository}/${pin.chart}` }
                : { chart: pin.chart, repositoryOpts: { repo: pin.repository } }),
            version: pin.version,
            namespace,
            createNamespace: namespace !== "kube-system",
            values,
            atomic: true,
            cleanupOnFail: true,
            // GPU nodes take minutes to boot; releases that wait on pods need room.
            timeout: 900,
        },
        opts,
    );
}
