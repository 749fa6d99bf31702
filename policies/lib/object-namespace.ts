/**
 * The namespace a Kubernetes object lands in, read as @pulumi/kubernetes places it: the object's
 * `metadata.namespace`, else its provider's `namespace` (ProviderArgs.namespace; precedence in
 * @pulumi/kubernetes 4.x provider.d.ts), else the kubeconfig context's namespace, else `default`.
 * A Helm release without `namespace` goes the same way (pulumi-kubernetes
 * provider/pkg/provider/helm_release.go, Check: an empty namespace takes the provider's default).
 *
 * The kubeconfig the engine will use is not something the pack sees (the ambient one, or a secret
 * that is unknown at preview), so past the provider's `namespace` the answer is "unresolved", and
 * every rule that judges by namespace judges an unresolved one as a team namespace: the
 * strictest reading, never a skip. Every pack rule that reads an object's namespace goes through
 * here, so none reads `metadata.namespace` alone.
 */
import { isClusterScoped } from "@gpu-platform/catalog/kubernetes-scopes";
import { Props, asRecord, isUnknown } from "./values";

export type NamespaceResolution =
    /** Written on the object, or on its provider. */
    | { readonly state: "known"; readonly name: string; readonly from: "metadata.namespace" | "provider" }
    /** A value the preview cannot see yet (an output of another resource); the update judges it. */
    | { readonly state: "pending" }
    /** Neither the object nor its provider names one: the kubeconfig decides, which the pack cannot see. */
    | { readonly state: "unresolved" }
    /** A cluster-scoped kind: it has no namespace at all. */
    | { readonly state: "cluster-scoped" };

/** How to fix an unresolved namespace; every rule's message ends with it. */
export const UNRESOLVED_NAMESPACE_FIX =
    "set metadata.namespace on the object, or namespace on its Kubernetes provider (new k8s.Provider(..., { namespace }))";

/** A stand-in for an unresolved namespace in messages and admission requests: no namespace can have this name. */
export const UNRESOLVED_NAMESPACE = "(unresolved)";

/** The namespace `written` (a `metadata.namespace`, a release's `namespace`) resolves to, given the provider's properties. */
export function resolveNamespace(written: unknown, providerProps: Props | undefined): NamespaceResolution {
    if (isUnknown(written)) return { state: "pending" };
    if (typeof written === "string" && written !== "")
        return { state: "known", name: written, from: "metadata.namespace" };
    const fromProvider = providerProps?.namespace;
    if (isUnknown(fromProvider)) return { state: "pending" };
    if (typeof fromProvider === "string" && fromProvider !== "")
        return { state: "known", name: fromProvider, from: "provider" };
    return { state: "unresolved" };
}

/** An object's `apiVersion`: its own, else the one its resource type names (`kubernetes:apps/v1:Deployment` is `apps/v1`). */
export function apiVersionOf(type: string, object: Props): string {
    if (typeof object.apiVersion === "string") return object.apiVersion;
    return /^kubernetes:([^:]+):/.exec(type)?.[1]?.replace(/^core\//, "") ?? "";
}

/** The namespace of a Kubernetes object of resource type `type`, given its provider's properties. */
export function objectNamespace(
    type: string,
    kind: string,
    object: Props,
    providerProps: Props | undefined,
): NamespaceResolution {
    const apiVersion = apiVersionOf(type, object);
    const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
    if (isClusterScoped(group, kind.replace(/Patch$/, ""))) return { state: "cluster-scoped" };
    return resolveNamespace(asRecord(object.metadata)?.namespace, providerProps);
}

/** `namespace "x"`, or the unresolved case with how to fix it, for messages. */
export function describeNamespace(resolution: NamespaceResolution, teamNamespace = false): string {
    if (resolution.state === "known")
        return `${teamNamespace ? "team namespace" : "namespace"} "${resolution.name}"${resolution.from === "provider" ? " (its provider's namespace)" : ""}`;
    return `no namespace the pack can see (judged as a team namespace; ${UNRESOLVED_NAMESPACE_FIX})`;
}
