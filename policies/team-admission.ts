/**
 * The cluster's tenancy admission rules (catalog/admission/tenancy.ts), run by the pack on the
 * Kubernetes objects a stack puts in a team namespace: the same CEL the API server runs
 * (lib/admission.ts), so a preview reports what the cluster would refuse a team, and the two
 * cannot drift.
 *
 * The pack cannot know who applies an object, so it judges every object in a team namespace as
 * a team's (the stricter reading). The rules that exist to keep the platform's own objects and
 * namespace labels the platform's (`platformObjects`, `namespaceLabels`, `reservedNamespaces`)
 * turn on the requester's identity, not on the object, and are left to the cluster. The
 * platform's own SecretStore in a team namespace passes on its shape (the one store the rule
 * admits), not on a label a team could copy.
 */
import { LABELS } from "@gpu-platform/catalog";
import { OLDEST_EKS_VERSION, TENANCY_RULES, tenancyRules } from "@gpu-platform/catalog/admission";
import type { AdmissionRule } from "@gpu-platform/catalog/admission";
import { AdmissionRequest, evaluate, guessResource, selects } from "./lib/admission";
import { resourcePolicy } from "./lib/define";
import { UNRESOLVED_NAMESPACE, apiVersionOf, describeNamespace, objectNamespace } from "./lib/object-namespace";
import { holdsKubernetesObjects, kubernetesObjects, podSpecsIn } from "./lib/pod-specs";
import { Props, asRecord, asString, isUnknown } from "./lib/values";
import { EKS_VERSIONS, SYSTEM_NAMESPACES, isReservedNamespace } from "@gpu-platform/catalog";

/** The rules that judge an object by its content: what the pack can decide without the requester. */
export const CONTENT_RULES: readonly string[] = [
    TENANCY_RULES.roleBindings,
    TENANCY_RULES.services,
    TENANCY_RULES.ingresses,
    TENANCY_RULES.secretStores,
    TENANCY_RULES.secretReferences,
    TENANCY_RULES.hostAccess,
    TENANCY_RULES.podSecurity,
];

/**
 * The rules about pods, run on every pod template wherever it sits (lib/pod-specs.ts: built-in
 * kinds, PyTorchJob, RayJob, JobSet, LeaderWorkerSet, KEDA ScaledJob, ...) as the Pod it becomes:
 * Pod Security admission judges those Pods in the cluster, the pack judges them at preview.
 */
const POD_RULES: readonly string[] = [TENANCY_RULES.hostAccess, TENANCY_RULES.podSecurity];
const POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce";

/** Who the pack pretends applies an object in a team namespace: a team member, never the platform. */
const TEAM_MEMBER = { username: "gpu-platform:policy-pack:team-member" };

export const teamNamespaceAdmission = resourcePolicy({
    name: "team-namespace-admission",
    description:
        "Kubernetes objects in a team namespace pass the cluster's tenancy admission rules (catalog/admission/tenancy.ts), evaluated with the " +
        "same CEL: ClusterIP Services only, no externalIPs, Ingresses of the team's own class only, no secret store and no reference to " +
        "another store, no host access or privileged pods, Pod Security restricted for every pod template (custom kinds too; " +
        "baselineNamespaces excepted), RoleBindings only to allowed ClusterRoles. Any namespace outside systemNamespaces and the " +
        "cluster's own is a team namespace. An object's namespace is its metadata.namespace, else its provider's namespace; with neither " +
        "(the kubeconfig decides, which a preview cannot see) it is judged as a team namespace.",
    enforcementLevel: "mandatory",
    config: {
        systemNamespaces: {
            type: "array",
            items: { type: "string" },
            description: "Namespaces that belong to no team: the cluster's own and the platform add-ons'.",
            default: SYSTEM_NAMESPACES,
        },
        allowedClusterRoles: {
            type: "array",
            items: { type: "string" },
            description:
                "ClusterRoles a RoleBinding in a team namespace may bind (TenancyAdmission allowedClusterRoles).",
            default: ["view", "edit"],
        },
        kubernetesVersion: {
            type: "string",
            enum: Object.keys(EKS_VERSIONS),
            description:
                "The cluster's Kubernetes minor (cluster.kubernetesVersion): Pod Security's safe sysctls grow with it. " +
                "Default the oldest minor EKS offers, whose list is the shortest.",
            default: OLDEST_EKS_VERSION,
        },
        baselineNamespaces: {
            type: "array",
            items: { type: "string" },
            description:
                'Team namespaces the platform set to Pod Security "baseline" (teams[].podSecurity); every other team namespace is held to "restricted".',
            default: [] as string[],
        },
    },
    resourceTypes: { describe: "Kubernetes objects", test: (type) => holdsKubernetesObjects(type) },
    validate: (
        { type, name, props, providerProps },
        { systemNamespaces, allowedClusterRoles, baselineNamespaces, kubernetesVersion },
        report,
    ) => {
        const { objectRules, podRules } = rulesFor(allowedClusterRoles, kubernetesVersion);
        for (const { label, kind, object, patch } of kubernetesObjects(type, name, props)) {
            if (patch || containsUnknown(object)) continue; // a patch keeps the live object's other fields; unknowns wait for the update
            const where = objectNamespace(type, kind, object, providerProps);
            if (where.state === "cluster-scoped" || where.state === "pending") continue;
            const namespace = where.state === "known" ? where.name : UNRESOLVED_NAMESPACE;
            if (where.state === "known" && (isReservedNamespace(namespace) || systemNamespaces.includes(namespace)))
                continue;
            const request = admissionRequest(type, kind, object, namespace, baselineNamespaces);
            if (!request) continue;
            const at = `${label} in ${describeNamespace(where, true)}`;
            for (const message of refusalsOf(objectRules, request)) report(`${at}: ${message}`);
            for (const pod of podSpecsIn(object)) {
                const path = pod.path === podPath(kind) ? "" : ` (${pod.path})`;
                for (const message of refusalsOf(podRules, asPodRequest(request, pod.spec, pod.metadata)))
                    report(`${label}${path} in ${describeNamespace(where, true)}: ${message}`);
            }
        }
    },
});

/** The rules for one setting of allowedClusterRoles and the cluster's version, built once: the check runs for every Kubernetes object of the stack. */
const RULES_BY_SETTINGS = new Map<string, { objectRules: AdmissionRule[]; podRules: AdmissionRule[] }>();

function rulesFor(
    allowedClusterRoles: readonly string[],
    kubernetesVersion: string,
): { objectRules: AdmissionRule[]; podRules: AdmissionRule[] } {
    const key = JSON.stringify([allowedClusterRoles, kubernetesVersion]);
    let rules = RULES_BY_SETTINGS.get(key);
    if (!rules) {
        const content = tenancyRules({ allowedClusterRoles, kubernetesVersion }).filter((r) =>
            CONTENT_RULES.includes(r.name),
        );
        rules = {
            objectRules: content.filter((r) => !POD_RULES.includes(r.name)),
            podRules: content.filter((r) => POD_RULES.includes(r.name)),
        };
        RULES_BY_SETTINGS.set(key, rules);
    }
    return rules;
}

/** Where a built-in kind keeps its pod spec; another path is named in the message. */
function podPath(kind: string): string {
    if (kind === "Pod") return "spec";
    return kind === "CronJob" ? "spec.jobTemplate.spec.template.spec" : "spec.template.spec";
}

/** The pod a template becomes, as the request Pod Security admission would see, still named after its workload. */
function asPodRequest(request: AdmissionRequest, spec: Props, metadata: Props | undefined): AdmissionRequest {
    const annotations = asRecord(metadata?.annotations);
    return {
        ...request,
        group: "",
        version: "v1",
        resource: "pods",
        object: {
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
                name: request.name ?? "",
                namespace: request.namespace,
                ...(annotations ? { annotations } : {}),
            },
            spec,
        },
    };
}

function refusalsOf(rules: readonly AdmissionRule[], request: AdmissionRequest): string[] {
    return rules.flatMap((rule) => {
        if (!selects(rule, request)) return [];
        const outcome = evaluate(rule, request);
        if (!outcome.applies) return [];
        if ("error" in outcome) return [`the cluster's rule ${rule.name} cannot evaluate it (${outcome.error})`];
        return outcome.refusals.map((m) => `${m} (admission rule ${rule.name})`);
    });
}

/** The CREATE request the API server would see for `object`, as a team member in its team namespace. */
function admissionRequest(
    type: string,
    kind: string,
    object: Props,
    namespace: string,
    baselineNamespaces: readonly string[],
): AdmissionRequest | undefined {
    const apiVersion = apiVersionOf(type, object);
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
    if (!version) return undefined;
    return {
        operation: "CREATE",
        group,
        version,
        kind,
        resource: guessResource(kind),
        namespace,
        namespaceLabels: {
            [LABELS.team]: namespace,
            [POD_SECURITY_ENFORCE]: baselineNamespaces.includes(namespace) ? "baseline" : "restricted",
        },
        name: asString(asRecord(object.metadata)?.name),
        userInfo: TEAM_MEMBER,
        // The API server fills in the namespace the provider sent the object to.
        object: { ...object, apiVersion, kind, metadata: { ...asRecord(object.metadata), namespace } },
    };
}

function containsUnknown(value: unknown, depth = 0): boolean {
    if (isUnknown(value)) return true;
    if (depth > 64 || value === null || typeof value !== "object") return false;
    return Object.values(value).some((v) => containsUnknown(v, depth + 1));
}
