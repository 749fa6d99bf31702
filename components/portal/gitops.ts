import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { CHARTS } from "../shared/charts";
import { HelmValues, mergeValues, pinnedRelease } from "../shared/helm";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";
import { ARGOCD, ArgoCd } from "./argocd";
import { ExternalSecrets, externalSecret } from "./external-secrets";

export const GITOPS_TYPE = `${PACKAGE}:portal:GitOps`;

/** The cluster Argo CD runs in, as Argo CD names it. */
export const IN_CLUSTER = "https://kubernetes.default.svc";

/**
 * Namespaced kinds a team's applications may not create: the namespace's quota and container
 * defaults, and access (roles and bindings), belong to the platform. NetworkPolicies stay
 * allowed: the templates' workloads bring one to reach MLflow, the platform's default deny
 * stays (policies only add), and the team's `edit` role may make them anyway.
 */
export const TENANCY_KINDS = [
    { group: "", kind: "ResourceQuota" },
    { group: "", kind: "LimitRange" },
    { group: "rbac.authorization.k8s.io", kind: "Role" },
    { group: "rbac.authorization.k8s.io", kind: "RoleBinding" },
] as const;

export const GITOPS_DEFAULTS = {
    path: "apps",
    targetRevision: "main",
    rootApplication: "gitops-root",
    /** The root application's own project: it may create Applications in Argo CD's namespace, nothing else. */
    rootProject: "platform-gitops",
    repositorySecret: "gitops-repository",
} as const;

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
    /** Directory of the Applications the root application syncs. Default `"apps"`. */
    path?: string;
    /** Branch, tag or commit. Default `"main"`. */
    targetRevision?: string;
    /** The teams: one AppProject each. */
    teams: GitOpsTeam[];
    /** Helm values of the argocd-apps release merged over the component's, last. Default none. */
    values?: HelmValues;
}

/**
 * App of apps on the GitOps repository: a root Application syncing `apps/` (each file an
 * Application written by a Backstage template), one AppProject per team, and the repository's
 * credentials. It is its own release of the pinned `argocd-apps` chart, created after the
 * `argo-cd` release, whose CRDs it needs (argo-helm#1447: "no matches for kind Application").
 *
 * ```ts
 * new GitOps("gitops", {
 *     argoCd, externalSecrets: eso, repoUrl: "https://github.com/acme/gpu-platform-gitops.git",
 *     credentialsSecretArn, teams: [{ name: "ml-research", namespace: "ml-research" }],
 * }, { providers: { kubernetes: cluster.provider }, dependsOn: teamNamespaces });
 * ```
 *
 * GitOps cannot leave a team's tenancy:
 * - a team's project allows its own namespace on this cluster only, no cluster-scoped kinds (no
 *   `clusterResourceWhitelist`), none of the namespace's tenancy kinds (`TENANCY_KINDS`), and
 *   sources from the GitOps repository only;
 * - the root application's project may create Applications in Argo CD's namespace and nothing
 *   else, so a file in `apps/` can only name a team project;
 * - Argo CD's built-in `default` project, which allows everything, is emptied (as Argo CD's docs
 *   advise), so an Application naming it deploys nothing.
 * Which team a pull request may write for is the repository's business (CODEOWNERS per
 * `apps/<team>-*` and `workloads/<team>/`).
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
    const reserved = [GITOPS_DEFAULTS.rootProject, "default"];
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

/** The argocd-apps 2.0.5 values: the root application, its project, and one project per team. */
export function gitOpsValues(s: {
    repoUrl: string;
    path: string;
    targetRevision: string;
    teams: GitOpsTeam[];
}): HelmValues {
    const projects: HelmValues = {
        [GITOPS_DEFAULTS.rootProject]: {
            namespace: ARGOCD.namespace,
            description:
                "The root application: Applications in Argo CD's namespace, from the GitOps repository, and nothing else",
            sourceRepos: repositoryForms(s.repoUrl),
            destinations: [{ server: IN_CLUSTER, namespace: ARGOCD.namespace }],
            namespaceResourceWhitelist: [{ group: "argoproj.io", kind: "Application" }],
        },
    };
    for (const team of s.teams) projects[team.name] = teamProject(team, s.repoUrl);
    return {
        applications: {
            [GITOPS_DEFAULTS.rootApplication]: {
                namespace: ARGOCD.namespace,
                project: GITOPS_DEFAULTS.rootProject,
                source: {
                    repoURL: s.repoUrl,
                    targetRevision: s.targetRevision,
                    path: s.path,
                    directory: { recurse: false, include: "*.yaml" },
                },
                destination: { server: IN_CLUSTER, namespace: ARGOCD.namespace },
                // A deleted file removes its Application; the Application's own finalizer decides what happens to its workload.
                syncPolicy: { automated: { prune: true, selfHeal: true } },
            },
        },
        projects,
    };
}

/** A team's AppProject: its namespace on this cluster, the GitOps repository, no cluster-scoped or tenancy kinds. */
export function teamProject(team: GitOpsTeam, repoUrl: string): HelmValues {
    return {
        namespace: ARGOCD.namespace,
        description: `Team ${team.name}: its namespace only`,
        sourceRepos: repositoryForms(repoUrl),
        destinations: [{ server: IN_CLUSTER, namespace: team.namespace }],
        // No clusterResourceWhitelist: an AppProject without one allows no cluster-scoped kind.
        namespaceResourceBlacklist: TENANCY_KINDS.map((k) => ({ ...k })),
        orphanedResources: { warn: true },
    };
}

/** The repository with and without `.git`: Applications may name either (the templates write `https://<host>/<owner>/<repo>.git`). */
export function repositoryForms(repoUrl: string): string[] {
    const bare = repoUrl.replace(/\.git$/, "");
    return bare.startsWith("git@") ? [repoUrl] : [...new Set([`${bare}.git`, bare])];
}
