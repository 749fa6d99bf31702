/**
 * Cluster-wide power stays with the platform's own principals. Two doors lead to it:
 * - Kubernetes RBAC: a ClusterRoleBinding or RoleBinding to `cluster-admin` (or to a role the
 *   config names as an admin role), a Role or ClusterRole with wildcard verbs or resources or the
 *   verbs that hand out more than they hold (`escalate`, `bind`, `impersonate`), a ClusterRole
 *   that aggregates into `admin`/`edit`/`view` (every team's role would gain its rules) or whose
 *   aggregation selects every ClusterRole (cluster-admin's wildcard included).
 * - EKS access: an access policy association, or an access entry of the `eks.Cluster` component,
 *   that gives AmazonEKSClusterAdminPolicy or AmazonEKSAdminPolicy at cluster scope
 *   (docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html), or an access entry
 *   that puts its principal in `system:masters`, for anyone but the platform's admin roles.
 *
 * The objects are read from resources, patches and yaml/v2 components (lib/pod-specs.ts).
 */
import { eksUserName } from "@gpu-platform/catalog/admission";
import { resourcePolicy } from "./lib/define";
import { holdsKubernetesObjects, kubernetesObjects } from "./lib/pod-specs";
import { Props, asList, asRecord, asString, isUnknown, listing } from "./lib/values";

const ACCESS_POLICY_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation";
const ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry";
const EKS_CLUSTER = "eks:index:Cluster";
/** EKS access policies that amount to cluster-wide administration, in any partition. */
const ADMIN_ACCESS_POLICY =
    /^arn:aws[a-z-]*:eks::aws:cluster-access-policy\/(AmazonEKSClusterAdminPolicy|AmazonEKSAdminPolicy)$/;
/** Verbs that grant more than the role holds (Kubernetes RBAC docs, "Privilege escalation prevention"). */
const ESCALATING_VERBS = ["*", "escalate", "bind", "impersonate"];
const AGGREGATE_LABEL = /^rbac\.authorization\.k8s\.io\/aggregate-to-/;
const BINDING_KINDS = ["ClusterRoleBinding", "RoleBinding", "ClusterRoleBindingPatch", "RoleBindingPatch"];
const ROLE_KINDS = ["ClusterRole", "Role", "ClusterRolePatch", "RolePatch"];

export const clusterAdminGrants = resourcePolicy({
    name: "cluster-admin-grants",
    description:
        "No one but the platform gets cluster-wide power: no ClusterRoleBinding or RoleBinding to cluster-admin (or adminRoles), no Role " +
        "or ClusterRole with wildcard verbs or resources or the escalate, bind or impersonate verbs, none that aggregates into the " +
        "built-in roles or selects every ClusterRole; no EKS access entry or association with AmazonEKSClusterAdminPolicy or " +
        "AmazonEKSAdminPolicy at cluster scope, or in system:masters, except platformAdminPrincipalArns. platformRbacObjects names the " +
        "platform's own RBAC objects that may do so.",
    enforcementLevel: "mandatory",
    config: {
        platformAdminPrincipalArns: {
            type: "array",
            items: { type: "string" },
            description:
                "The platform's admin IAM roles (cluster.creatorRoleArn and cluster.adminRoleArns), written from the stack config.",
            default: [] as string[],
        },
        adminRoles: {
            type: "array",
            items: { type: "string" },
            description: "ClusterRoles no binding may name outside platformRbacObjects.",
            default: ["cluster-admin"],
        },
        platformRbacObjects: {
            type: "array",
            items: { type: "string" },
            description:
                "Names (metadata.name) of the platform's own roles and bindings that are exempt. Default none.",
            default: [] as string[],
        },
    },
    resourceTypes: {
        describe: "RBAC objects and EKS access",
        test: (type) =>
            [ACCESS_POLICY_ASSOCIATION, ACCESS_ENTRY, EKS_CLUSTER].includes(type) || holdsKubernetesObjects(type),
    },
    validate: ({ type, name, props }, config, report) => {
        const isPlatform = platformPrincipal(config.platformAdminPrincipalArns);
        if (type === ACCESS_POLICY_ASSOCIATION)
            return associationProblems(props, isPlatform).forEach((p) =>
                report(`AccessPolicyAssociation "${name}" ${p}`),
            );
        if (type === ACCESS_ENTRY)
            return accessEntryProblems(props, isPlatform).forEach((p) => report(`AccessEntry "${name}" ${p}`));
        if (type === EKS_CLUSTER) {
            for (const [key, entry] of Object.entries(asRecord(props.accessEntries) ?? {}))
                for (const problem of [
                    ...accessEntryProblems(asRecord(entry) ?? {}, isPlatform),
                    ...Object.entries(asRecord(asRecord(entry)?.accessPolicies) ?? {}).flatMap(([, a]) =>
                        associationProblems(
                            { ...(asRecord(a) ?? {}), principalArn: asRecord(entry)?.principalArn },
                            isPlatform,
                        ),
                    ),
                ])
                    report(`Cluster "${name}" accessEntries["${key}"] ${problem}`);
            return;
        }
        for (const { label, kind, object } of kubernetesObjects(type, name, props)) {
            const objectName = asString(asRecord(object.metadata)?.name);
            if (objectName && config.platformRbacObjects.includes(objectName)) continue;
            const problems = BINDING_KINDS.includes(kind)
                ? bindingProblems(object, config.adminRoles)
                : ROLE_KINDS.includes(kind)
                  ? roleProblems(object, kind.startsWith("ClusterRole"))
                  : [];
            for (const problem of problems) report(`${label} ${problem}`);
        }
    },
});

/** Whether an IAM principal is one of the platform's: the same account and role (a role's path aside, names are unique) or user. */
function platformPrincipal(arns: readonly string[]): (arn: unknown) => boolean {
    const key = (arn: string) => JSON.stringify(eksUserName(arn) ?? arn);
    const platform = new Set(arns.map(key));
    return (arn) => typeof arn === "string" && platform.has(key(arn));
}

function principalText(arn: unknown): string {
    return isUnknown(arn) ? "a principal not known until the update" : (asString(arn) ?? "no principal");
}

function associationProblems(props: Props, isPlatform: (arn: unknown) => boolean): string[] {
    const policy = asString(props.policyArn) ?? "";
    const scope = asString(asRecord(props.accessScope)?.type);
    const match = ADMIN_ACCESS_POLICY.exec(policy);
    if (!match || scope !== "cluster" || isPlatform(props.principalArn)) return [];
    return [
        `gives ${principalText(props.principalArn)} ${match[1]} at cluster scope, which administers every namespace; only the platform's ` +
            "admin roles (cluster.adminRoleArns) hold it: give a team AmazonEKSEditPolicy scoped to its own namespace (TeamNamespace), " +
            "or add the role to cluster.adminRoleArns if it is the platform's.",
    ];
}

function accessEntryProblems(props: Props, isPlatform: (arn: unknown) => boolean): string[] {
    const groups = asList(props.kubernetesGroups).filter((g) => asString(g) === "system:masters");
    if (groups.length === 0 || isPlatform(props.principalArn)) return [];
    return [
        `puts ${principalText(props.principalArn)} in the Kubernetes group system:masters, which no RBAC rule or admission policy can ` +
            "limit; remove the group and grant a namespaced access policy instead.",
    ];
}

function bindingProblems(object: Props, adminRoles: readonly string[]): string[] {
    const roleRef = asRecord(object.roleRef) ?? {};
    const role = asString(roleRef.name);
    const bindingName = asString(asRecord(object.metadata)?.name);
    // A patch of the built-in cluster-admin binding adds subjects to it without naming the role.
    const adminRole = role
        ? asString(roleRef.kind) === "ClusterRole" && adminRoles.includes(role)
        : bindingName === "cluster-admin";
    if (!adminRole) return [];
    const subjects = asList(object.subjects).map(
        (s) => `${asString(asRecord(s)?.kind) ?? "?"} ${asString(asRecord(s)?.name) ?? "?"}`,
    );
    return [
        `binds ClusterRole ${role ?? "cluster-admin"} to ${subjects.length > 0 ? listing(subjects) : "its subjects"}, which is power over ` +
            "the whole cluster; bind a Role of the namespace, or view or edit, and leave cluster-admin to the platform's admin roles.",
    ];
}

function roleProblems(object: Props, clusterRole: boolean): string[] {
    const problems: string[] = [];
    asList(object.rules).forEach((r, i) => {
        const rule = asRecord(r) ?? {};
        const verbs = asList(rule.verbs).map((v) => asString(v) ?? "");
        const wild = [
            ...verbs.filter((v) => ESCALATING_VERBS.includes(v)).map((v) => `verb "${v}"`),
            ...asList(rule.resources)
                .filter((x) => asString(x) === "*")
                .map(() => 'resource "*"'),
            ...asList(rule.nonResourceURLs)
                .filter((x) => asString(x) === "*")
                .map(() => 'non-resource URL "*"'),
        ];
        if (wild.length > 0)
            problems.push(
                `grants ${listing(wild)} in rules[${i}], which reaches every permission (or hands out more than it holds); list the verbs and ` +
                    "resources the workload needs.",
            );
    });
    if (!clusterRole) return problems;
    const labels = Object.keys(asRecord(asRecord(object.metadata)?.labels) ?? {}).filter((k) =>
        AGGREGATE_LABEL.test(k),
    );
    if (labels.length > 0)
        problems.push(
            `carries ${listing(labels)}, which adds its rules to that built-in role in every namespace where it is bound (every team's ` +
                "access); remove the label and bind the role where it is needed.",
        );
    const selectors = asList(asRecord(object.aggregationRule)?.clusterRoleSelectors);
    if (
        selectors.some(
            (s) =>
                Object.keys(asRecord(asRecord(s)?.matchLabels) ?? {}).length === 0 &&
                asList(asRecord(s)?.matchExpressions).length === 0,
        )
    )
        problems.push(
            "has an aggregationRule with an empty selector, which takes in every ClusterRole, cluster-admin's wildcard included; select by a label of your own.",
        );
    return problems;
}
