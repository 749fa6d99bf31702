/**
 * Argo CD AppProjects: what a team's GitOps may deploy where. The platform's projects are
 * Helm-installed (the argocd-apps chart's `projects`), which CrossGuard never sees rendered, so
 * the policy reads the release's effective values (lib/helm-values.ts) as the chart renders them
 * (argo-helm charts/argocd-apps/templates/projects.yaml at argocd-apps-2.0.5: a map keyed by
 * project name; 1.x took a list of projects with `name`). It also reads AppProject custom
 * resources and patches, and AppProjects in a release's `extraObjects`.
 */
import { parse } from "yaml";
import { reachesForbiddenKind } from "@gpu-platform/catalog/gitops";
import { resourcePolicy } from "./lib/define";
import { HELM_RELEASE, effectiveValues, installsChart } from "./lib/helm-values";
import { Props, asList, asRecord, asString, isUnknown, listing } from "./lib/values";

const APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject";
const APP_PROJECT_PATCH = "kubernetes:argoproj.io/v1alpha1:AppProjectPatch";

interface Project {
    /** `project "ml-research"` */
    readonly label: string;
    readonly name: string;
    /** Where its spec sits, for the message: `values.projects["ml-research"]`, `spec`. */
    readonly path: string;
    readonly spec: Props;
}

export const argocdProjectScope = resourcePolicy({
    name: "argocd-project-scope",
    description:
        "Argo CD AppProjects keep GitOps inside a team's tenancy: no destination allows every cluster or namespace (server, name or namespace " +
        "'*' or a glob containing '*'); a project outside platformProjects lists no cluster-scoped kinds (clusterResourceWhitelist; left out, " +
        "a project allows none) and allows namespaced kinds only through namespaceResourceWhitelist (left out, a project allows every kind), " +
        "none of them a way out of the tenancy (catalog/gitops.ts FORBIDDEN_TEAM_KINDS: quotas, secret stores, RBAC, Argo CD's and the " +
        "platform's own kinds). Read from argocd-apps releases' effective values (projects), AppProject resources and patches, and AppProjects " +
        "in any release's extraObjects.",
    enforcementLevel: "mandatory",
    config: {
        platformProjects: {
            type: "array",
            items: { type: "string" },
            description:
                "Projects the platform team owns, which may list cluster-scoped kinds (never '*' destinations).",
            default: [] as string[],
        },
    },
    resourceTypes: [HELM_RELEASE, APP_PROJECT, APP_PROJECT_PATCH],
    validate: ({ type, name, props }, { platformProjects }, report) => {
        const where = type === HELM_RELEASE ? `Helm release "${name}"` : `${type.split(":").pop()} "${name}"`;
        const projects =
            type === HELM_RELEASE
                ? releaseProjects(props, (problem) => report(`${where}: ${problem}`))
                : [resourceProject(name, props)];
        for (const project of projects) {
            const prefix = `${where}: ${project.label}`;
            asList(project.spec.destinations).forEach((d, i) => {
                const destination = asRecord(d) ?? {};
                const wild = (["server", "name", "namespace"] as const).filter((field) =>
                    (asString(destination[field]) ?? "").includes("*"),
                );
                if (wild.length === 0) return;
                report(
                    `${prefix} allows ${listing(wild.map((f) => `${f} "${asString(destination[f])}"`))} in ${project.path}.destinations[${i}]; ` +
                        "name the one cluster (https://kubernetes.default.svc) and the team's own namespace.",
                );
            });
            if (platformProjects.includes(project.name)) continue;
            for (const problem of teamProjectKindProblems(project)) report(`${prefix} ${problem}`);
        }
    },
});

/** The AppProjects a release renders: argocd-apps' `projects`, and AppProjects among `extraObjects`. */
function releaseProjects(props: Props, problem: (message: string) => void): Project[] {
    const { values, unreadable } = effectiveValues(props);
    const projects: Project[] = [];
    if (installsChart(props, "argocd-apps")) {
        for (const reason of unreadable) problem(`${reason}; its projects cannot be checked: pass the values inline.`);
        const declared = values.projects;
        if (Array.isArray(declared)) {
            declared.forEach((p, i) => {
                const spec = asRecord(p) ?? {};
                const projectName = asString(spec.name) ?? `#${i}`;
                projects.push({
                    label: `project "${projectName}"`,
                    name: projectName,
                    path: `values.projects[${i}]`,
                    spec,
                });
            });
        } else {
            for (const [projectName, spec] of Object.entries(asRecord(declared) ?? {})) {
                // The chart skips an empty item.
                if (asRecord(spec))
                    projects.push({
                        label: `project "${projectName}"`,
                        name: projectName,
                        path: `values.projects["${projectName}"]`,
                        spec: asRecord(spec)!,
                    });
            }
        }
        asList(values.itemTemplates).forEach((t, i) => {
            const template = asRecord(t)?.template;
            if (/AppProject/.test(typeof template === "string" ? template : JSON.stringify(template ?? ""))) {
                problem(
                    `values.itemTemplates[${i}] renders AppProjects from a template this policy cannot evaluate; declare them under values.projects.`,
                );
            }
        });
    }
    asList(values.extraObjects).forEach((o, i) => {
        const object = asRecord(typeof o === "string" ? parseYaml(o) : o);
        if (asString(object?.kind) !== "AppProject") return;
        const projectName = asString(asRecord(object!.metadata)?.name) ?? `#${i}`;
        projects.push({
            label: `project "${projectName}"`,
            name: projectName,
            path: `values.extraObjects[${i}].spec`,
            spec: asRecord(object!.spec) ?? {},
        });
    });
    return projects;
}

function resourceProject(name: string, props: Props): Project {
    const metadata = asRecord(props.metadata);
    const projectName = isUnknown(metadata?.name) ? name : (asString(metadata?.name) ?? name);
    return { label: `project "${projectName}"`, name: projectName, path: "spec", spec: asRecord(props.spec) ?? {} };
}

function parseYaml(text: string): unknown {
    try {
        return parse(text);
    } catch {
        return undefined;
    }
}

const kindName = (k: unknown) => `${asString(asRecord(k)?.group) || "core"}/${asString(asRecord(k)?.kind) ?? "?"}`;

/** What a team project's kind lists allow beyond its tenancy: cluster-scoped kinds, every kind, or a forbidden one. */
function teamProjectKindProblems(project: Project): string[] {
    const problems: string[] = [];
    const clusterKinds = asList(project.spec.clusterResourceWhitelist);
    if (clusterKinds.length > 0)
        problems.push(
            `allows cluster-scoped kinds (${listing(clusterKinds.map(kindName))}) in ${project.path}.clusterResourceWhitelist; ` +
                "remove it (a team project allows none), or add the project to platformProjects if the platform team owns it.",
        );
    if (isUnknown(project.spec.namespaceResourceWhitelist)) return problems;
    const allowed = asList(project.spec.namespaceResourceWhitelist);
    // A project with no destination or no source deploys nothing (the emptied `default` project).
    const deploys = asList(project.spec.destinations).length > 0 && asList(project.spec.sourceRepos).length > 0;
    if (allowed.length === 0 && deploys) {
        problems.push(
            `has no ${project.path}.namespaceResourceWhitelist, so it allows every namespaced kind (secret stores, RBAC, Argo CD's own); ` +
                "list the kinds a team deploys (catalog/gitops.ts TEAM_APP_KINDS).",
        );
        return problems;
    }
    allowed.forEach((entry, i) => {
        const group = asString(asRecord(entry)?.group) ?? "";
        const kind = asString(asRecord(entry)?.kind) ?? "";
        const forbidden = reachesForbiddenKind({ group, kind });
        if (forbidden)
            problems.push(
                `allows ${kindName(entry)} in ${project.path}.namespaceResourceWhitelist[${i}], which reaches ${kindName(forbidden)}, ` +
                    "a way out of a team's tenancy; remove it, and let the platform create such objects for the team.",
            );
    });
    return problems;
}
