/**
 * The tenancy rules: what no team may do in its namespace, whoever asks (kubectl with the team's
 * role, a team's Pulumi stack, Argo CD syncing the team's GitOps directory, a pod's service
 * account). The cluster runs them as ValidatingAdmissionPolicies (TenancyAdmission in
 * components/tenancy); the pack evaluates the same CEL at preview (policies/tenancy-admission.ts).
 *
 * Who "the platform" is: the IAM roles that deploy it and administer the cluster (their EKS
 * user names, `arn:<partition>:sts::<account>:assumed-role/<role>/<session>`), EKS's own
 * components (`eks:*`) and Kubernetes' controllers (`system:kube-controller-manager`, service
 * accounts in kube-system: the namespace controller deletes everything in a namespace being
 * deleted). Argo CD's controller is not the platform: it acts for teams.
 *
 * Policies and bindings are never themselves subject to admission policies (Kubernetes
 * documentation, "Validating Admission Policy"): teams are kept away from them by RBAC (their
 * access is `edit` in their namespace only) and by the AppProject allowlists (no cluster-scoped
 * kind). The rules take no params object, so there is nothing else to protect.
 */
import { LABELS, RESERVED_NAMESPACE_PREFIXES, SYSTEM_NAMESPACES } from "../kubernetes-names";
import { EKS_VERSIONS } from "../services";
import { ADMISSION_EXEMPTION_PREFIX } from "./binding";
import { POD_SPEC_EXPRESSION } from "./gpu-limits";
import { POD_SECURITY_RULE, POD_SPEC_RESOURCES, podSecurityRule } from "./pod-security";
import { AdmissionRule, NamedExpression, celString, celStringList } from "./types";

/** The label the platform puts on what it creates in a team namespace (quota, defaults, network policies, the secret store). */
export const PLATFORM_MANAGED_LABEL = { key: LABELS.managedBy, value: "platform" } as const;

/** Label prefixes on a team namespace that belong to the platform: Pod Security levels, team and cost center, exemptions. */
export const PLATFORM_NAMESPACE_LABEL_PREFIXES: readonly string[] = [
    "pod-security.kubernetes.io/",
    "gpu-platform/",
    ADMISSION_EXEMPTION_PREFIX,
];

/** The ingress class (and ALB group) a team namespace's Ingresses take: `team-<namespace>`. */
export const TEAM_INGRESS_CLASS_PREFIX = "team-";

export interface TenancyAdmissionSettings {
    /**
     * EKS user-name prefixes of the platform's own principals:
     * `arn:<partition>:sts::<account>:assumed-role/<role>/` for each deploying or admin role
     * (`eksUserName`). Default none: only EKS's and Kubernetes' own components count.
     */
    readonly platformUserPrefixes?: readonly string[];
    /** EKS user names of the platform's IAM users (their ARNs), matched exactly. Default none. */
    readonly platformUsers?: readonly string[];
    /** ClusterRoles a RoleBinding in a team namespace may bind. Default `view` and `edit`. */
    readonly allowedClusterRoles?: readonly string[];
    /** The one SecretStore of a team namespace and the service account it authenticates as. */
    readonly teamSecretStore?: { readonly name: string; readonly serviceAccount: string };
    /** Namespace names only the platform creates. Default the catalog's system namespaces. */
    readonly reservedNamespaces?: readonly string[];
    /**
     * The cluster's Kubernetes minor ("1.35"): Pod Security's safe sysctls grow with it. Default the
     * oldest minor EKS offers (catalog EKS_VERSIONS), whose list is the shortest: the strictest reading.
     */
    readonly kubernetesVersion?: string;
}

/** The oldest Kubernetes minor EKS offers. */
export const OLDEST_EKS_VERSION = Object.keys(EKS_VERSIONS).sort((a, b) =>
    a.localeCompare(b, "en", { numeric: true }),
)[0];

export const TENANCY_ADMISSION_DEFAULTS = {
    allowedClusterRoles: ["view", "edit"],
    teamSecretStore: { name: "team-secrets", serviceAccount: "team-secrets" },
} as const;

/** Rule names, for bindings, exemption labels and the docs. */
export const TENANCY_RULES = {
    reservedNamespaces: "gpu-platform-reserved-namespaces",
    namespaceLabels: "gpu-platform-team-namespace-labels",
    platformObjects: "gpu-platform-platform-objects",
    roleBindings: "gpu-platform-team-role-bindings",
    services: "gpu-platform-team-services",
    ingresses: "gpu-platform-team-ingresses",
    secretStores: "gpu-platform-team-secret-stores",
    secretReferences: "gpu-platform-team-secret-references",
    hostAccess: "gpu-platform-team-host-access",
    podSecurity: POD_SECURITY_RULE,
} as const;

/**
 * How EKS names an IAM principal's sessions, for the platform's rules: a role (or a session of
 * one) by the prefix `arn:<partition>:sts::<account>:assumed-role/<role>/` (access entries'
 * default user name for a role, the session name after it; a role's path is not part of it), an
 * IAM user by its ARN. Undefined for anything else.
 */
export function eksUserName(arn: string): { prefix: string } | { exact: string } | undefined {
    const role = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[^/]+\/)*([^/]+)$/.exec(arn);
    if (role) return { prefix: `arn:${role[1]}:sts::${role[2]}:assumed-role/${role[3]}/` };
    const session = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
    if (session) return { prefix: `arn:${session[1]}:sts::${session[2]}:assumed-role/${session[3]}/` };
    return /^arn:aws[a-z-]*:iam::\d{12}:user\/(?:[^/]+\/)*[^/]+$/.test(arn) ? { exact: arn } : undefined;
}

/** CEL: the request comes from the platform (see the module's comment). */
export function platformActorExpression(prefixes: readonly string[], users: readonly string[] = []): string {
    const user = "request.userInfo.username";
    return (
        `${user} == 'system:kube-controller-manager' || ${user}.startsWith('system:serviceaccount:kube-system:') || ` +
        `${user}.startsWith('eks:') || ${user} in ${celStringList(users)} || ${celStringList(prefixes)}.exists(p, ${user}.startsWith(p))`
    );
}

/** Every tenancy rule, with `settings` over the defaults. */
export function tenancyRules(settings: TenancyAdmissionSettings = {}): AdmissionRule[] {
    const platformActor: NamedExpression = {
        name: "platformActor",
        expression: platformActorExpression(settings.platformUserPrefixes ?? [], settings.platformUsers ?? []),
    };
    const store = settings.teamSecretStore ?? TENANCY_ADMISSION_DEFAULTS.teamSecretStore;
    return [
        reservedNamespacesRule(platformActor, settings.reservedNamespaces ?? SYSTEM_NAMESPACES),
        namespaceLabelsRule(platformActor),
        platformObjectsRule(platformActor),
        roleBindingsRule(platformActor, settings.allowedClusterRoles ?? TENANCY_ADMISSION_DEFAULTS.allowedClusterRoles),
        servicesRule(),
        ingressesRule(),
        secretStoresRule(store),
        secretReferencesRule(store.name),
        hostAccessRule(),
        podSecurityRule(settings.kubernetesVersion ?? OLDEST_EKS_VERSION),
    ];
}

const OBJECT_NAME: NamedExpression = {
    name: "objectName",
    expression:
        "has(object.metadata.name) ? object.metadata.name : (has(object.metadata.generateName) ? object.metadata.generateName + '…' : '')",
};
const DOCS = "docs/tenancy.md";

function reservedNamespacesRule(platformActor: NamedExpression, reserved: readonly string[]): AdmissionRule {
    const names = [...new Set([...reserved, "openshift"])];
    return {
        name: TENANCY_RULES.reservedNamespaces,
        description:
            "Only the platform creates a namespace named like the cluster's own or a system add-on's (karpenter, cert-manager, amazon-cloudwatch, …, " +
            "and kube-*, openshift-*): a team that took one would escape the rules bound to team namespaces.",
        scope: "cluster",
        resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["namespaces"] }],
        variables: [OBJECT_NAME, platformActor],
        validations: [
            {
                expression:
                    `variables.platformActor || !(variables.objectName in ${celStringList(names)} || ` +
                    `${celStringList(RESERVED_NAMESPACE_PREFIXES)}.exists(p, variables.objectName.startsWith(p)))`,
                messageExpression:
                    "'namespace ' + variables.objectName + ' is reserved for the cluster and the platform\\'s add-ons, and only the platform creates it; " +
                    `name a team namespace after its team, or ask the platform team to install the add-on (${DOCS})'`,
                reason: "Forbidden",
            },
        ],
    };
}

function namespaceLabelsRule(platformActor: NamedExpression): AdmissionRule {
    const owned = celStringList(PLATFORM_NAMESPACE_LABEL_PREFIXES);
    const changed = (field: "labels" | "annotations") =>
        `variables.old_${field}.filter(k, ${owned}.exists(p, k.startsWith(p)) && (!(k in variables.new_${field}) || variables.new_${field}[k] != variables.old_${field}[k])) + ` +
        `variables.new_${field}.filter(k, ${owned}.exists(p, k.startsWith(p)) && !(k in variables.old_${field}))`;
    const read = (which: "old" | "new", field: "labels" | "annotations"): NamedExpression => {
        const o = which === "old" ? "oldObject" : "object";
        return { name: `${which}_${field}`, expression: `has(${o}.metadata.${field}) ? ${o}.metadata.${field} : {}` };
    };
    return {
        name: TENANCY_RULES.namespaceLabels,
        description:
            "A team namespace's Pod Security levels, team and cost-center labels, admission exemptions and platform annotations change only " +
            "through the platform's stack: relabelled privileged, a namespace would run what its rules refuse.",
        scope: "cluster",
        resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["namespaces"] }],
        matchConditions: [
            {
                name: "team-namespace",
                expression: `has(oldObject.metadata.labels) && ${celString(LABELS.team)} in oldObject.metadata.labels`,
            },
        ],
        variables: [
            OBJECT_NAME,
            platformActor,
            read("old", "labels"),
            read("new", "labels"),
            read("old", "annotations"),
            read("new", "annotations"),
            { name: "changed", expression: `${changed("labels")} + ${changed("annotations")}` },
        ],
        validations: [
            {
                expression: "variables.platformActor || size(variables.changed) == 0",
                messageExpression:
                    "'namespace ' + variables.objectName + ' is a team namespace: ' + variables.changed.join(', ') + " +
                    `' belong to the platform (Pod Security level, team, cost center, exemptions); change the team\\'s entry in the platform\\'s stack config instead (${DOCS})'`,
                reason: "Forbidden",
            },
        ],
    };
}

function platformObjectsRule(platformActor: NamedExpression): AdmissionRule {
    const { key, value } = PLATFORM_MANAGED_LABEL;
    const labelled = (o: string) =>
        `${o} != null && has(${o}.metadata.labels) && ${celString(key)} in ${o}.metadata.labels && ${o}.metadata.labels[${celString(key)}] == ${celString(value)}`;
    const all = ["CREATE", "UPDATE", "DELETE"] as const;
    return {
        name: TENANCY_RULES.platformObjects,
        description:
            `What the platform creates in a team namespace (labelled ${key}: ${value}: the ResourceQuota, LimitRange, NetworkPolicies, the ` +
            "secret store and its service account) is created, changed and deleted by the platform only; no one else may take the label.",
        scope: "team-namespaces",
        resourceRules: [
            {
                apiGroups: [""],
                apiVersions: ["v1"],
                operations: all,
                resources: ["resourcequotas", "limitranges", "serviceaccounts"],
            },
            { apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], operations: all, resources: ["networkpolicies"] },
            {
                apiGroups: ["rbac.authorization.k8s.io"],
                apiVersions: ["v1"],
                operations: all,
                resources: ["roles", "rolebindings"],
            },
            { apiGroups: ["external-secrets.io"], apiVersions: ["*"], operations: all, resources: ["secretstores"] },
        ],
        variables: [
            platformActor,
            { name: "platforms", expression: `(${labelled("oldObject")}) || (${labelled("object")})` },
        ],
        validations: [
            {
                expression: "variables.platformActor || !variables.platforms",
                messageExpression:
                    "request.kind.kind + ' ' + request.name + ' in namespace ' + request.namespace + " +
                    `' belongs to the platform (label ${key}: ${value}) and only the platform\\'s stack creates, changes or deletes it; ` +
                    `ask the platform team to change the team\\'s settings, or make an object of your own without that label (${DOCS})'`,
                reason: "Forbidden",
            },
        ],
    };
}

function roleBindingsRule(platformActor: NamedExpression, allowed: readonly string[]): AdmissionRule {
    const everyone = celStringList([
        "system:authenticated",
        "system:unauthenticated",
        "system:serviceaccounts",
        "system:anonymous",
    ]);
    return {
        name: TENANCY_RULES.roleBindings,
        description:
            `A RoleBinding in a team namespace binds a Role of the namespace or one of the ClusterRoles ${allowed.join(", ")}, and never to ` +
            "everyone (system:authenticated, system:unauthenticated, system:serviceaccounts, system:anonymous).",
        scope: "team-namespaces",
        resourceRules: [
            {
                apiGroups: ["rbac.authorization.k8s.io"],
                apiVersions: ["v1"],
                operations: ["CREATE", "UPDATE"],
                resources: ["rolebindings"],
            },
        ],
        variables: [
            OBJECT_NAME,
            platformActor,
            {
                name: "everyone",
                expression: `has(object.subjects) ? object.subjects.filter(s, s.name in ${everyone}).map(s, s.name) : []`,
            },
        ],
        validations: [
            {
                expression: `variables.platformActor || object.roleRef.kind != 'ClusterRole' || object.roleRef.name in ${celStringList(allowed)}`,
                messageExpression:
                    "'RoleBinding ' + variables.objectName + ' binds ClusterRole ' + object.roleRef.name + " +
                    `'; in a team namespace bind a Role of the namespace or one of the ClusterRoles ${allowed.join(", ")}, or ask the platform team for an exception (${DOCS})'`,
                reason: "Forbidden",
            },
            {
                expression: "variables.platformActor || size(variables.everyone) == 0",
                messageExpression:
                    "'RoleBinding ' + variables.objectName + ' grants its role to ' + variables.everyone.join(', ') + " +
                    "', that is to every user or workload of the cluster; name the users, groups or service accounts that need it'",
                reason: "Forbidden",
            },
        ],
    };
}

function servicesRule(): AdmissionRule {
    return {
        name: TENANCY_RULES.services,
        description:
            "Services in a team namespace are ClusterIP (or headless): no LoadBalancer (a load balancer the platform does not see), no NodePort " +
            "(a port on every node), no ExternalName (a name other ingresses may be tricked into proxying to), no externalIPs (CVE-2020-8554).",
        scope: "team-namespaces",
        resourceRules: [
            { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["services"] },
        ],
        variables: [
            OBJECT_NAME,
            { name: "type", expression: "has(object.spec.type) ? object.spec.type : 'ClusterIP'" },
        ],
        validations: [
            {
                expression: "!(variables.type in ['LoadBalancer', 'NodePort', 'ExternalName'])",
                messageExpression:
                    "'Service ' + variables.objectName + ' is of type ' + variables.type + '; a team namespace takes ClusterIP Services only: " +
                    `expose HTTP through an Ingress of class ${TEAM_INGRESS_CLASS_PREFIX}' + request.namespace + ' (the team\\'s internal ALB), or ask the platform team (${DOCS})'`,
                reason: "Forbidden",
            },
            {
                expression: "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
                messageExpression:
                    "'Service ' + variables.objectName + ' sets spec.externalIPs (' + object.spec.externalIPs.join(', ') + '), which takes traffic meant for " +
                    "those addresses from every pod of the cluster (CVE-2020-8554); remove it'",
                reason: "Forbidden",
            },
        ],
    };
}

function ingressesRule(): AdmissionRule {
    const group = "alb.ingress.kubernetes.io/group.name";
    const scheme = "alb.ingress.kubernetes.io/scheme";
    const legacyClass = "kubernetes.io/ingress.class";
    return {
        name: TENANCY_RULES.ingresses,
        description:
            `An Ingress in a team namespace takes the team's own class (${TEAM_INGRESS_CLASS_PREFIX}<namespace>: an internal ALB of the team's ` +
            "own, its group and scheme fixed by the class), sets no legacy class annotation, and names no other ALB group or scheme.",
        scope: "team-namespaces",
        resourceRules: [
            {
                apiGroups: ["networking.k8s.io"],
                apiVersions: ["v1"],
                operations: ["CREATE", "UPDATE"],
                resources: ["ingresses"],
            },
        ],
        variables: [
            OBJECT_NAME,
            { name: "teamClass", expression: `${celString(TEAM_INGRESS_CLASS_PREFIX)} + request.namespace` },
            { name: "annotations", expression: "has(object.metadata.annotations) ? object.metadata.annotations : {}" },
            {
                name: "ingressClass",
                expression: "has(object.spec.ingressClassName) ? object.spec.ingressClassName : ''",
            },
        ],
        validations: [
            {
                expression: "variables.ingressClass == variables.teamClass",
                messageExpression:
                    "'Ingress ' + variables.objectName + ' names ingress class \"' + variables.ingressClass + '\"; in namespace ' + request.namespace + " +
                    "' set spec.ingressClassName: ' + variables.teamClass + ' (the team\\'s own internal ALB)'",
                reason: "Forbidden",
            },
            {
                expression: `!(${celString(legacyClass)} in variables.annotations)`,
                messageExpression: `'Ingress ' + variables.objectName + ' sets the annotation ${legacyClass}, which skips its class\\'s rules; remove it and set spec.ingressClassName: ' + variables.teamClass`,
                reason: "Forbidden",
            },
            {
                expression: `!(${celString(group)} in variables.annotations) || variables.annotations[${celString(group)}] == variables.teamClass`,
                messageExpression: `'Ingress ' + variables.objectName + ' asks to join ALB group ' + variables.annotations[${celString(group)}] + '; a team\\'s Ingresses share its own group, ' + variables.teamClass + ': remove the annotation'`,
                reason: "Forbidden",
            },
            {
                expression: `!(${celString(scheme)} in variables.annotations) || variables.annotations[${celString(scheme)}] == 'internal'`,
                messageExpression: `'Ingress ' + variables.objectName + ' asks for scheme ' + variables.annotations[${celString(scheme)}] + '; team ALBs are internal (reachable from the VPC): remove the annotation, and ask the platform team for a public entry point (${DOCS})'`,
                reason: "Forbidden",
            },
        ],
    };
}

function secretStoresRule(store: { name: string; serviceAccount: string }): AdmissionRule {
    const aws = "object.spec.provider.aws";
    const jwt = `${aws}.auth.jwt`;
    const isTeamStore = [
        `object.metadata.name == ${celString(store.name)}`,
        "has(object.spec.provider) && size(object.spec.provider) == 1",
        `has(${aws}) && ${aws}.service == 'SecretsManager'`,
        `has(${aws}.auth) && !has(${aws}.auth.secretRef) && has(${jwt}) && has(${jwt}.serviceAccountRef)`,
        `${jwt}.serviceAccountRef.name == ${celString(store.serviceAccount)} && !has(${jwt}.serviceAccountRef.namespace)`,
        `(!has(${aws}.role) || ${aws}.role == '') && (!has(${aws}.additionalRoles) || size(${aws}.additionalRoles) == 0)`,
    ].join(" && ");
    return {
        name: TENANCY_RULES.secretStores,
        description:
            `A team namespace has one secret store, the platform's (SecretStore ${store.name}: Secrets Manager as the team's own IAM role, through ` +
            `service account ${store.serviceAccount}). Any other store, and any generator, would authenticate as the operator itself (a store with ` +
            "no auth block uses the controller's role: external-secrets v2.9.0 providers/v1/aws/auth/auth.go) or as someone else.",
        scope: "team-namespaces",
        resourceRules: [
            {
                apiGroups: ["external-secrets.io"],
                apiVersions: ["*"],
                operations: ["CREATE", "UPDATE"],
                resources: ["secretstores"],
            },
            {
                apiGroups: ["generators.external-secrets.io"],
                apiVersions: ["*"],
                operations: ["CREATE", "UPDATE"],
                resources: ["*"],
            },
        ],
        variables: [OBJECT_NAME],
        validations: [
            {
                expression: "request.kind.group != 'generators.external-secrets.io'",
                messageExpression:
                    "request.kind.kind + ' ' + variables.objectName + ' is an External Secrets generator, which authenticates as the operator; " +
                    `a team reads Secrets Manager through SecretStore ${store.name} only (${DOCS})'`,
                reason: "Forbidden",
            },
            {
                expression: `request.kind.group != 'external-secrets.io' || (${isTeamStore})`,
                messageExpression:
                    "'SecretStore ' + variables.objectName + ' is not the platform\\'s store; a team namespace has exactly one, " +
                    `${store.name}, which the platform creates: put the secret under the team\\'s prefix in Secrets Manager and name SecretStore ${store.name} (${DOCS})'`,
                reason: "Forbidden",
            },
        ],
    };
}

function secretReferencesRule(storeName: string): AdmissionRule {
    const fromList = (list: string, field: string) =>
        `(has(object.spec.${list}) ? object.spec.${list}.filter(d, has(d.sourceRef) && has(d.sourceRef.${field})).map(d, d.sourceRef.${field}) : [])`;
    return {
        name: TENANCY_RULES.secretReferences,
        description:
            `ExternalSecrets and PushSecrets in a team namespace name SecretStore ${storeName} wherever they name a store (secretStoreRef, ` +
            "data[].sourceRef.storeRef, dataFrom[].sourceRef.storeRef, secretStoreRefs[]), select no store by label, and use no generator.",
        scope: "team-namespaces",
        resourceRules: [
            {
                apiGroups: ["external-secrets.io"],
                apiVersions: ["*"],
                operations: ["CREATE", "UPDATE"],
                resources: ["externalsecrets", "pushsecrets"],
            },
        ],
        variables: [
            OBJECT_NAME,
            {
                name: "storeRefs",
                expression:
                    "request.kind.kind == 'PushSecret' ? (has(object.spec.secretStoreRefs) ? object.spec.secretStoreRefs : []) : " +
                    `((has(object.spec.secretStoreRef) ? [object.spec.secretStoreRef] : []) + ${fromList("data", "storeRef")} + ${fromList("dataFrom", "storeRef")})`,
            },
            {
                name: "otherStores",
                expression:
                    `variables.storeRefs.filter(r, !has(r.name) || r.name != ${celString(storeName)} || (has(r.kind) && r.kind != 'SecretStore') || has(r.labelSelector))` +
                    ".map(r, (has(r.kind) ? r.kind : 'SecretStore') + ' ' + (has(r.name) ? r.name : '(by label)'))",
            },
            {
                name: "generators",
                expression:
                    `size(${fromList("data", "generatorRef")}) + size(${fromList("dataFrom", "generatorRef")}) + ` +
                    "(has(object.spec.selector) && has(object.spec.selector.generatorRef) ? 1 : 0)",
            },
        ],
        validations: [
            {
                expression: "size(variables.otherStores) == 0",
                messageExpression:
                    "request.kind.kind + ' ' + variables.objectName + ' names ' + variables.otherStores.join(', ') + '; in a team namespace name " +
                    `SecretStore ${storeName}, which reads the team\\'s own secrets in Secrets Manager (${DOCS})'`,
                reason: "Forbidden",
            },
            {
                expression: "variables.generators == 0",
                messageExpression:
                    "request.kind.kind + ' ' + variables.objectName + ' uses a generator, which authenticates as the operator; " +
                    `read the value from SecretStore ${storeName} instead'`,
                reason: "Forbidden",
            },
        ],
    };
}

function hostAccessRule(): AdmissionRule {
    const flag = (field: string) => `(has(variables.podSpec.${field}) && variables.podSpec.${field})`;
    return {
        name: TENANCY_RULES.hostAccess,
        description:
            "Pods in a team namespace, and the pod templates of Deployments, StatefulSets, ReplicaSets, DaemonSets, Jobs and CronJobs, reach " +
            "nothing of the node: no privileged container, no host network, PID or IPC namespace, no hostPath volume, no host port.",
        scope: "team-namespaces",
        resourceRules: POD_SPEC_RESOURCES,
        variables: [
            OBJECT_NAME,
            { name: "podSpec", expression: POD_SPEC_EXPRESSION },
            {
                name: "containers",
                expression:
                    "variables.podSpec.containers + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : []) + " +
                    "(has(variables.podSpec.ephemeralContainers) ? variables.podSpec.ephemeralContainers : [])",
            },
            {
                name: "hostNamespaces",
                expression: `(${flag("hostNetwork")} ? ['hostNetwork'] : []) + (${flag("hostPID")} ? ['hostPID'] : []) + (${flag("hostIPC")} ? ['hostIPC'] : [])`,
            },
            {
                name: "privileged",
                expression:
                    "variables.containers.filter(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged).map(c, c.name)",
            },
            {
                name: "hostPaths",
                expression:
                    "has(variables.podSpec.volumes) ? variables.podSpec.volumes.filter(v, has(v.hostPath)).map(v, v.name) : []",
            },
            {
                name: "hostPorts",
                expression:
                    "variables.containers.filter(c, has(c.ports) && c.ports.exists(p, has(p.hostPort) && p.hostPort != 0)).map(c, c.name)",
            },
        ],
        validations: [
            hostValidation(
                "size(variables.hostNamespaces) == 0",
                "shares the node\\'s ' + variables.hostNamespaces.join(', ') + '",
            ),
            hostValidation(
                "size(variables.privileged) == 0",
                "runs privileged containers (' + variables.privileged.join(', ') + ')",
            ),
            hostValidation(
                "size(variables.hostPaths) == 0",
                "mounts hostPath volumes (' + variables.hostPaths.join(', ') + ')",
            ),
            hostValidation(
                "size(variables.hostPorts) == 0",
                "takes host ports in containers ' + variables.hostPorts.join(', ') + '",
            ),
        ],
    };
}

function hostValidation(expression: string, what: string) {
    return {
        expression,
        messageExpression:
            `request.kind.kind + ' ' + variables.objectName + ' ${what}; a team\\'s pods run without access to the node: ` +
            `drop the setting, use an emptyDir or a PersistentVolumeClaim for storage, or ask the platform team (${DOCS})'`,
        reason: "Forbidden" as const,
    };
}
