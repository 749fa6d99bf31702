/**
 * Argo CD Applications and ApplicationSets stay in their team's project. A team's project is
 * named after its namespace (components/portal/gitops.ts renders both from the team), so an
 * Application is judged by where it deploys:
 * - no Application uses the `default` project (an empty `project` is `default` too: Argo CD's
 *   `ApplicationSpec.GetProject`), which the platform leaves empty and no team owns;
 * - one that deploys into a team namespace uses that team's project, and one in a team's project
 *   deploys into that team's namespace; platformProjects are the platform's own;
 * - an ApplicationSet's template names its project literally: a templated project
 *   (`{{path.basename}}`, `{{ .path.basename }}`) is chosen by whatever the generator reads (a
 *   directory name, a file in the repository), and a `templatePatch` may rewrite it;
 * - the team an ApplicationSet's git generator reads (`apps/<team>/…`) or its template's team
 *   label names is the team of its project.
 *
 * Read from Application and ApplicationSet resources (and their patches, which may change the
 * project), the objects of yaml/v2 components, and argocd-apps releases' `applications` and
 * `applicationsets` (maps keyed by name since 2.0, lists before) and `extraObjects`.
 */
import { parse } from "yaml";
import { LABELS, SYSTEM_NAMESPACES, isReservedNamespace } from "@gpu-platform/catalog";
import { GITOPS_APPS_PATH } from "@gpu-platform/catalog/gitops";
import { resourcePolicy } from "./lib/define";
import { HELM_RELEASE, effectiveValues, installsChart } from "./lib/helm-values";
import { holdsKubernetesObjects, kubernetesObjects } from "./lib/pod-specs";
import { Props, asList, asRecord, asString, isUnknown } from "./lib/values";

interface ArgoObject {
    /** `Application "train"`, `Helm release "gitops": values.applicationsets["ml-research"]` */
    readonly label: string;
    readonly kind: "Application" | "ApplicationSet";
    readonly spec: Props;
    readonly patch: boolean;
}

const TEMPLATED = /\{\{/;

export const argocdApplicationProjects = resourcePolicy({
    name: "argocd-application-projects",
    description:
        "Argo CD Applications and ApplicationSets stay in their team's project: none uses the default project; one that deploys into a " +
        "team namespace uses the project of that name, and one in a team's project deploys only there; an ApplicationSet names its " +
        "project literally (no {{…}}, no templatePatch that sets it) and its git generator and team label name the same team. Read from " +
        "Application and ApplicationSet resources, yaml/v2 components and argocd-apps releases' values.",
    enforcementLevel: "mandatory",
    config: {
        systemNamespaces: {
            type: "array",
            items: { type: "string" },
            description: "Namespaces that belong to no team.",
            default: SYSTEM_NAMESPACES,
        },
        platformProjects: {
            type: "array",
            items: { type: "string" },
            description: "The platform's own projects, which may deploy into the platform's namespaces. Default none.",
            default: [] as string[],
        },
    },
    resourceTypes: {
        describe: "Argo CD applications",
        test: (type) => type === HELM_RELEASE || holdsKubernetesObjects(type),
    },
    validate: ({ type, name, props }, config, report) => {
        const isTeamNamespace = (ns: string) => !isReservedNamespace(ns) && !config.systemNamespaces.includes(ns);
        const objects = type === HELM_RELEASE ? releaseObjects(name, props) : resourceObjects(type, name, props);
        for (const object of objects)
            for (const problem of projectProblems(object, isTeamNamespace, config.platformProjects))
                report(`${object.label} ${problem}`);
    },
});

function resourceObjects(type: string, name: string, props: Props): ArgoObject[] {
    return kubernetesObjects(type, name, props).flatMap(({ label, kind, object, patch }) => {
        const bare = kind.replace(/Patch$/, "");
        if (bare !== "Application" && bare !== "ApplicationSet") return [];
        if (!String(asString(object.apiVersion) ?? type).includes("argoproj.io")) return [];
        return [{ label, kind: bare, spec: asRecord(object.spec) ?? {}, patch }];
    });
}

function releaseObjects(name: string, props: Props): ArgoObject[] {
    const { values } = effectiveValues(props);
    const found: ArgoObject[] = [];
    if (installsChart(props, "argocd-apps")) {
        for (const [key, kind] of [
            ["applications", "Application"],
            ["applicationsets", "ApplicationSet"],
        ] as const) {
            const declared = values[key];
            const entries: [string, unknown][] = Array.isArray(declared)
                ? declared.map((d, i) => [`${i}`, d])
                : Object.entries(asRecord(declared) ?? {});
            for (const [entry, spec] of entries)
                // argocd-apps renders the entry's fields as the spec (templates/applications.yaml at argocd-apps-2.0.5).
                if (asRecord(spec))
                    found.push({
                        label: `Helm release "${name}": values.${key}["${entry}"]`,
                        kind,
                        spec: asRecord(spec)!,
                        patch: false,
                    });
        }
    }
    asList(values.extraObjects).forEach((o, i) => {
        const object = asRecord(typeof o === "string" ? parseYaml(o) : o);
        const kind = asString(object?.kind);
        if (kind === "Application" || kind === "ApplicationSet")
            found.push({
                label: `Helm release "${name}": values.extraObjects[${i}]`,
                kind,
                spec: asRecord(object!.spec) ?? {},
                patch: false,
            });
    });
    return found;
}

function projectProblems(
    object: ArgoObject,
    isTeamNamespace: (ns: string) => boolean,
    platformProjects: readonly string[],
): string[] {
    const spec = object.kind === "Application" ? object.spec : (asRecord(asRecord(object.spec.template)?.spec) ?? {});
    const where = object.kind === "Application" ? "spec.project" : "spec.template.spec.project";
    if (isUnknown(spec.project)) return [];
    // A patch that leaves the project out keeps the live one.
    if (object.patch && spec.project === undefined) return [];
    const project = asString(spec.project) ?? "";
    const problems: string[] = [];
    if (object.kind === "ApplicationSet") problems.push(...applicationSetProblems(object.spec, project));
    if (TEMPLATED.test(project)) return problems;
    if (project === "" || project === "default")
        return [
            ...problems,
            `uses the default project (${where} "${project}"), which no team owns and which allows nothing; name the team's project, ` +
                "the one named after its namespace.",
        ];
    const destination = asString(asRecord(spec.destination)?.namespace);
    const platform = platformProjects.includes(project);
    if (
        destination !== undefined &&
        !TEMPLATED.test(destination) &&
        isTeamNamespace(destination) &&
        destination !== project
    )
        problems.push(
            `deploys into team namespace "${destination}" under project "${project}"; an application in a team's namespace uses that ` +
                `team's project: set ${where}: ${destination}.`,
        );
    else if (!platform && destination !== undefined && destination !== project)
        problems.push(
            `is in project "${project}" but deploys into namespace "${destination}"; a team's project deploys into the team's own namespace ` +
                "only (or list the project in platformProjects if it is the platform's).",
        );
    if (object.kind === "ApplicationSet" && !platform)
        for (const team of teamsNamed(object.spec))
            if (team !== project)
                problems.push(
                    `reads team "${team}" (its git generator's ${GITOPS_APPS_PATH}/${team}/ or its team label) but names project "${project}"; ` +
                        `a team's ApplicationSet names its own project: set ${where}: ${team}.`,
                );
    return problems;
}

function applicationSetProblems(spec: Props, project: string): string[] {
    const problems: string[] = [];
    if (TEMPLATED.test(project))
        problems.push(
            `takes its project from a template (spec.template.spec.project "${project}"), so a directory or file in the repository chooses ` +
                "it; name the team's project literally.",
        );
    const patch = spec.templatePatch;
    if (typeof patch === "string" && /\bproject\b|\bdestination\b/.test(patch))
        problems.push(
            "rewrites its applications' project or destination in spec.templatePatch, past the template the platform reviews; remove " +
                "templatePatch, or keep it off project and destination.",
        );
    return problems;
}

/** The teams an ApplicationSet reads: `apps/<team>/…` in its git generators (nested ones too) and its template's team label. */
function teamsNamed(spec: Props): string[] {
    const teams = new Set<string>();
    const visit = (node: unknown, depth: number) => {
        if (depth > 16 || node === null || typeof node !== "object") return;
        if (Array.isArray(node)) return node.forEach((n) => visit(n, depth + 1));
        const record = node as Props;
        for (const entry of [...asList(asRecord(record.git)?.directories), ...asList(asRecord(record.git)?.files)]) {
            const match = new RegExp(`^/?${GITOPS_APPS_PATH}/([^/*{]+)/`).exec(asString(asRecord(entry)?.path) ?? "");
            if (match) teams.add(match[1]);
        }
        Object.values(record).forEach((v) => visit(v, depth + 1));
    };
    visit(spec.generators, 0);
    const label = asString(asRecord(asRecord(asRecord(spec.template)?.metadata)?.labels)?.[LABELS.team]);
    if (label && !TEMPLATED.test(label)) teams.add(label);
    return [...teams];
}

function parseYaml(text: string): unknown {
    try {
        return parse(text);
    } catch {
        return undefined;
    }
}
