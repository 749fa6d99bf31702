import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { LABELS } from "@gpu-platform/catalog";
import { CHARTS } from "../shared/charts";
import { HelmValues, mergeValues, pinnedRelease } from "../shared/helm";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";
import { ARGOCD, ArgoCd } from "./argocd";
import { ExternalSecrets, externalSecret } from "./external-secrets";
import { GITOPS_APPS_PATH, TEAM_APP_KINDS } from "@gpu-platform/catalog/gitops";

export const GITOPS_TYPE = `${PACKAGE}:portal:GitOps`;

/** The cluster Argo CD runs in, as Argo CD names it. */
export const IN_CLUSTER = "https://kubernetes.default.svc";

export const GITOPS_DEFAULTS = {
    path: GITOPS_APPS_PATH,
    targetRevision: "main",
    repositorySecret: "gitops-repository",
} as const;

/** Project names a team cannot take: Argo CD's own `default`. */
export const RESERVED_PROJECTS = ["default"] as const;

export interface GitOpsTeam {
    /** The team's name: its AppProject's name and the project its Applications name. */
    name: string;
    /** The team's namespace, the only destination its project allows. */
    namespace: string;
}

export interface GitOpsArgs {
    /** The Argo CD install; this release needs its CRDs. */
    argoCd: Pick<ArgoCd, "release">;
    /** The External Secrets Operator, which syncs the repository credentials. */
    externalSecrets: ExternalSecrets;
    /** The GitOps repository, e.g. `https://github.com/acme/gpu-platform-gitops.git`. */
    repoUrl: string;
    /**
     * Secrets Manager secret with the repository credentials as JSON, in the fields Argo CD reads
     * from a repository Secret: `{"username", "password"}` (a token) or `{"githubAppID",
     * "githubAppInstallationID", "githubAppPrivateKey"}`.
     */
    credentialsSecretArn: pulumi.Input<string>;
    /** Directory of the teams' directories: `<path>/<team>/<application>/`. Default `"apps"`. */
    path?: string;
    /** Branch, tag or commit. Default `"main"`. */
    targetRevision?: string;
    /** The teams: one AppProject and one ApplicationSet each. */
    teams: GitOpsTeam[];
    /** Helm values of the argocd-apps release merged over the component's, last. Default none. */
    values?: HelmValues;
}

/**
 * GitOps on the GitOps repository, one tenant per directory: for each team an ApplicationSet
 * whose git generator makes one Application per directory under `apps/<team>/`, in the team's
 * project and namespace, set by the ApplicationSet and not by anything in the repository; and
 * the team's AppProject, which allows its namespace on this cluster, the GitOps repository and
 * the kinds of `TEAM_APP_KINDS` only. It replaces the app of apps, where any file could name any
 * project (Argo CD's docs keep app-of-apps for admins: "Cluster Bootstrapping"). The objects are
 * a release of the pinned `argocd-apps` chart (its `applicationsets` and `projects`, maps keyed
 * by name since 2.0), created after the `argo-cd` release, whose CRDs they need
 * (argo-helm#1447: "no matches for kind ApplicationSet").
 *
 * ```ts
 * new GitOps("gitops", {
 *     argoCd, externalSecrets: eso, repoUrl: "https://github.com/acme/gpu-platform-gitops.git",
 *     credentialsSecretArn, teams: [{ name: "ml-research", namespace: "ml-research" }],
 * }, { providers: { kubernetes: cluster.provider }, dependsOn: teamNamespaces });
 * ```
 *
 * - A directory `apps/ml-research/trainer/` becomes the Application `ml-research.trainer`
 *   (a dot, which no team name has, so two teams' applications never share a name), project
 *   `ml-research`, destination namespace `ml-research`, synced with pruning and self-heal.
 * - Only the ApplicationSets' and projects' owner changes them: the platform's stack. Teams have
 *   no Argo CD kind in their allowlist and no cluster-scoped kind at all.
 * - **A change to the allowlist** (`TEAM_APP_KINDS`) reaches every team at the next `pulumi up`:
 *   the release re-renders every project, Argo CD reads the new spec at its next refresh, and an
 *   application with a kind no longer allowed fails to sync, naming it, while what it already
 *   deployed stays until the team removes it from its directory.
 * - Argo CD's built-in `default` project, which allows everything, is emptied (as Argo CD's docs
 *   advise), so an Application naming it deploys nothing.
 * Which directory a pull request may change is the repository's business (CODEOWNERS per
 * `apps/<team>/`).
 *
 * The repository credentials never pass through stack config or values: the External Secrets
 * Operator writes the Secret Argo CD reads (`argocd.argoproj.io/secret-type: repository`) from
 * Secrets Manager.
 *
 * Cost: none of its own.
 */
export class GitOps extends pulumi.ComponentResource {
    public readonly repositorySecret: k8s.apiextensions.CustomResource;
    public readonly release: k8s.helm.v3.Release;
    /** Argo CD's `default` project, emptied. */
    public readonly defaultProject: k8s.apiextensions.CustomResourcePatch;
    public readonly repoUrl: string;

    constructor(name: string, args: GitOpsArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("GitOps", name, gitOpsArgsProblems(args));
        super(GITOPS_TYPE, name, {}, opts);
        this.repoUrl = args.repoUrl;
        this.repositorySecret = externalSecret(
            `${name}-repository`,
            {
                externalSecrets: args.externalSecrets,
                namespace: ARGOCD.namespace,
                secretName: GITOPS_DEFAULTS.repositorySecret,
                remoteSecret: args.credentialsSecretArn,
                labels: { "argocd.argoproj.io/secret-type": "repository" },
                fixedData: { type: "git", url: args.repoUrl },
            },
            { parent: this, dependsOn: [args.argoCd.release] },
        );
        this.defaultProject = new k8s.apiextensions.CustomResourcePatch(
            `${name}-default-project`,
            {
                apiVersion: "argoproj.io/v1alpha1",
                kind: "AppProject",
                // argocd-server created it at start and owns these fields: take them over.
                metadata: {
                    name: "default",
                    namespace: ARGOCD.namespace,
                    annotations: { "pulumi.com/patchForce": "true" },
                },
                spec: EMPTY_PROJECT_SPEC,
            },
            { parent: this, dependsOn: [args.argoCd.release] },
        );
        this.release = pinnedRelease(
            `${name}-release`,
            CHARTS.argoCdApps,
            mergeValues(
                gitOpsValues({
                    repoUrl: args.repoUrl,
                    path: args.path ?? GITOPS_DEFAULTS.path,
                    targetRevision: args.targetRevision ?? GITOPS_DEFAULTS.targetRevision,
                    teams: args.teams,
                }),
                args.values,
            ),
            { parent: this, dependsOn: [args.argoCd.release, this.repositorySecret, this.defaultProject] },
        );
        this.registerOutputs({ repoUrl: this.repoUrl });
    }
}

/** What Argo CD's docs advise for the `default` project: no source, no destination, no kind. */
const EMPTY_PROJECT_SPEC = {
    sourceRepos: [],
    sourceNamespaces: [],
    destinations: [],
    namespaceResourceBlacklist: [{ group: "*", kind: "*" }],
};

export function gitOpsArgsProblems(args: Pick<GitOpsArgs, "repoUrl" | "path" | "teams">): SettingProblem[] {
    const problems: SettingProblem[] = [];
    if (!/^(https:\/\/|ssh:\/\/|git@)[^\s*]+$/.test(args.repoUrl)) {
        problems.push({
            key: "repoUrl",
            message: `must be a Git URL (https://…, ssh://… or git@…) without wildcards (found "${args.repoUrl}")`,
        });
    }
    if (args.path !== undefined && (args.path.startsWith("/") || args.path.split("/").includes(".."))) {
        problems.push({
            key: "path",
            message: `must be a directory inside the repository, e.g. "apps" (found "${args.path}")`,
        });
    }
    const reserved: readonly string[] = RESERVED_PROJECTS;
    args.teams.forEach((team, i) => {
        if (reserved.includes(team.name))
            problems.push({
                key: `teams[${i}].name`,
                message: `"${team.name}" is a project the platform keeps for itself`,
            });
        if (team.namespace === "*" || team.namespace.includes("*"))
            problems.push({ key: `teams[${i}].namespace`, message: "must name one namespace, not a pattern" });
    });
    return problems;
}

/** The argocd-apps 2.0.5 values: per team, an ApplicationSet over its directory and its AppProject. */
export function gitOpsValues(s: {
    repoUrl: string;
    path: string;
    targetRevision: string;
    teams: GitOpsTeam[];
}): HelmValues {
    const applicationsets: HelmValues = {};
    const projects: HelmValues = {};
    for (const team of s.teams) {
        applicationsets[team.name] = teamApplicationSet(team, s);
        projects[team.name] = teamProject(team, s.repoUrl);
    }
    return { applicationsets, projects };
}

/**
 * A team's ApplicationSet: a git directory generator over `<path>/<team>/*` and a template whose
 * project and destination are literals. Go templates with `missingkey=error`, so a parameter the
 * generator does not make fails instead of rendering empty. Fields checked against the
 * ApplicationSet CRD of argo-cd 10.1.1 (test/fixtures/crds).
 */
export function teamApplicationSet(
    team: GitOpsTeam,
    s: { repoUrl: string; path: string; targetRevision: string },
): HelmValues {
    return {
        namespace: ARGOCD.namespace,
        goTemplate: true,
        goTemplateOptions: ["missingkey=error"],
        generators: [
            {
                git: {
                    repoURL: s.repoUrl,
                    revision: s.targetRevision,
                    directories: [{ path: `${s.path}/${team.name}/*` }],
                },
            },
        ],
        template: {
            metadata: {
                name: `${team.name}.{{ .path.basenameNormalized }}`,
                labels: { [LABELS.team]: team.name },
            },
            spec: {
                project: team.name,
                source: { repoURL: s.repoUrl, targetRevision: s.targetRevision, path: "{{ .path.path }}" },
                destination: { server: IN_CLUSTER, namespace: team.namespace },
                // A deleted directory removes its Application, and pruning its objects.
                syncPolicy: { automated: { prune: true, selfHeal: true } },
            },
        },
    };
}

/** A team's AppProject: its namespace on this cluster, the GitOps repository, the kinds of TEAM_APP_KINDS only. */
export function teamProject(team: GitOpsTeam, repoUrl: string): HelmValues {
    return {
        namespace: ARGOCD.namespace,
        description: `Team ${team.name}: its namespace only, the kinds the platform allows teams`,
        sourceRepos: repositoryForms(repoUrl),
        destinations: [{ server: IN_CLUSTER, namespace: team.namespace }],
        // No clusterResourceWhitelist: an AppProject without one allows no cluster-scoped kind.
        namespaceResourceWhitelist: TEAM_APP_KINDS.map((k) => ({ ...k })),
        orphanedResources: { warn: true },
    };
}

/** The repository with and without `.git`: Applications may name either (the templates write `https://<host>/<owner>/<repo>.git`). */
export function repositoryForms(repoUrl: string): string[] {
    const bare = repoUrl.replace(/\.git$/, "");
    return bare.startsWith("git@") ? [repoUrl] : [...new Set([`${bare}.git`, bare])];
}
