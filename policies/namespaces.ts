/**
 * Team namespaces: every namespace a stack makes belongs to a team of the stack and says so in
 * its team label, so quotas, costs and access are attributed. A namespace counts wherever it is
 * made: a Namespace resource, a NamespacePatch that labels an existing one, a Namespace object
 * in a yaml/v2 component, or a Helm release's createNamespace (which makes it unlabeled).
 * Names Kubernetes owns or reserves (catalog/kubernetes-names.ts: default, kube-*, openshift-*)
 * are taken by no stack, and the platform's own namespaces (systemNamespaces) by no team.
 */
import {
    LABELS,
    KUBERNETES_SYSTEM_NAMESPACES,
    RESERVED_NAMESPACE_PREFIXES,
    SYSTEM_NAMESPACES,
    isReservedNamespace,
} from "@gpu-platform/catalog";
import { resourcePolicy, stackPolicy } from "./lib/define";
import { describeNamespace, resolveNamespace } from "./lib/object-namespace";
import { holdsKubernetesObjects, kubernetesObjects } from "./lib/pod-specs";
import { asRecord, asString, isTrue, isUnknown, listing } from "./lib/values";
import { TEAM_PATTERN } from "@gpu-platform/catalog/aws-tags";

const TEAM_LABEL = LABELS.team;
const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

/** Namespaces that belong to no team: the cluster's own, and those of the platform's add-ons. */

const reservedWhy = (name: string) => {
    if ((KUBERNETES_SYSTEM_NAMESPACES as readonly string[]).includes(name)) return "the cluster owns it";
    const prefix = RESERVED_NAMESPACE_PREFIXES.find((p) => name.startsWith(p));
    return prefix ? `the prefix ${prefix} is reserved for system namespaces` : "the cluster owns it";
};

const NAMESPACE_CONFIG = {
    systemNamespaces: {
        type: "array" as const,
        items: { type: "string" as const },
        description: "Namespaces that belong to no team: the cluster's own and the platform add-ons'.",
        default: SYSTEM_NAMESPACES,
    },
    teams: {
        type: "array" as const,
        items: { type: "string" as const },
        description:
            "The stack's teams (the names under teams in Pulumi.<stack>.yaml); empty: any name matching teamPattern.",
        default: [] as string[],
    },
    teamPattern: {
        type: "string" as const,
        description: "Regular expression a team name matches.",
        default: TEAM_PATTERN,
    },
};

export const teamNamespaceLabel = resourcePolicy({
    name: "team-namespace-label",
    description:
        `Every namespace a stack makes (Namespace, NamespacePatch, or a Namespace object in a yaml/v2 component) carries the ${TEAM_LABEL} label ` +
        "naming one of the stack's teams (teams), and takes no name the cluster owns or reserves (default, kube-*, openshift-*). The platform's own " +
        "namespaces (systemNamespaces) need no label and may carry no team's; a patch is judged on the labels it sets.",
    enforcementLevel: "mandatory",
    config: NAMESPACE_CONFIG,
    resourceTypes: { describe: "namespaces", test: (type) => holdsKubernetesObjects(type) },
    validate: ({ type, name, props }, { systemNamespaces, teams, teamPattern }, report) => {
        for (const { label, kind, nested, object, patch } of kubernetesObjects(type, name, props)) {
            if (kind !== "Namespace" && kind !== "NamespacePatch") continue;
            const metadata = asRecord(object.metadata) ?? {};
            if (isUnknown(metadata.name) || isUnknown(metadata.labels)) continue;
            const namespace = asString(metadata.name) ?? name;
            const labels = asRecord(metadata.labels) ?? {};
            const team = labels[TEAM_LABEL];
            if (isUnknown(team)) continue;
            const where = nested ? `${label} (namespace "${namespace}")` : `namespace "${namespace}"`;
            if (isReservedNamespace(namespace)) {
                if (patch && team === undefined) continue; // labelling the cluster's own namespaces (Pod Security, say) claims nothing
                const claim = team === undefined ? "" : ` and claims it for team ${JSON.stringify(team)}`;
                report(
                    `${where} takes a name the cluster owns or reserves (${reservedWhy(namespace)})${claim}; name the namespace after its team instead.`,
                );
                continue;
            }
            if (systemNamespaces.includes(namespace)) {
                if (team !== undefined)
                    report(
                        `${where} is the platform's own namespace but carries ${TEAM_LABEL}: ${JSON.stringify(team)}; remove the label, and give the team a namespace of its own.`,
                    );
                continue;
            }
            if (team === undefined && patch) continue;
            const problem = teamProblem(team, teams, teamPattern);
            if (problem)
                report(
                    `${where} ${problem}; set metadata.labels["${TEAM_LABEL}"] to the owning team's name${teams.length > 0 ? ` (${listing(teams)})` : ""}.`,
                );
        }
    },
});

/** What is wrong with a team label's value, or undefined when it names a team of the stack. */
function teamProblem(team: unknown, teams: readonly string[], teamPattern: string): string | undefined {
    if (team === undefined || team === null) return `has no ${TEAM_LABEL} label`;
    if (typeof team !== "string" || !new RegExp(teamPattern).test(team))
        return `has ${TEAM_LABEL}: ${JSON.stringify(team)}, which does not match ${teamPattern}`;
    if (teams.length > 0 && !teams.includes(team))
        return `has ${TEAM_LABEL}: "${team}", which names no team of this stack`;
    return undefined;
}

export const helmReleaseNamespaces = stackPolicy({
    name: "helm-release-namespaces",
    description:
        "A Helm release creates its namespace (createNamespace) only for the platform's own namespaces (systemNamespaces): Helm makes it without " +
        `the ${TEAM_LABEL} label, so a team's namespace must be a Namespace resource of the stack, with the label, and the release must not create it. ` +
        "No release creates a namespace the cluster owns or reserves.",
    enforcementLevel: "mandatory",
    config: { systemNamespaces: NAMESPACE_CONFIG.systemNamespaces },
    validate: (resources, { systemNamespaces }, report) => {
        const made = new Set(
            resources.flatMap((r) =>
                holdsKubernetesObjects(r.type)
                    ? kubernetesObjects(r.type, r.name, r.props)
                          .filter(({ kind }) => kind === "Namespace")
                          .map(({ object }) => asString(asRecord(object.metadata)?.name) ?? r.name)
                    : [],
            ),
        );
        for (const release of resources.filter((r) => r.type === HELM_RELEASE && isTrue(r.props.createNamespace))) {
            const where = resolveNamespace(release.props.namespace, release.providerProps);
            if (where.state === "pending" || where.state === "cluster-scoped") continue;
            if (where.state === "unresolved") {
                report(
                    `Helm release "${release.name}" sets createNamespace, creating ${describeNamespace(where)}; a team's namespace must be a ` +
                        "Namespace resource of the stack, so name the release's namespace and set createNamespace to false.",
                    release.urn,
                );
                continue;
            }
            const name = where.name;
            const what = `Helm release "${release.name}" sets createNamespace, creating namespace "${name}"`;
            if (isReservedNamespace(name)) {
                if (!(KUBERNETES_SYSTEM_NAMESPACES as readonly string[]).includes(name))
                    report(
                        `${what}, a name the cluster reserves (${reservedWhy(name)}); install it into a namespace named after its team.`,
                        release.urn,
                    );
                continue;
            }
            if (systemNamespaces.includes(name) || made.has(name)) continue;
            report(
                `${what} without the ${TEAM_LABEL} label; create the namespace as a kubernetes.core.v1.Namespace with metadata.labels["${TEAM_LABEL}"] set to its team, ` +
                    "and set createNamespace to false.",
                release.urn,
            );
        }
    },
});
