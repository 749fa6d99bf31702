import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { CPU_NODE_SELECTOR, SCHEDULING_NAMESPACES } from "@gpu-platform/catalog";
import { IrsaRole, type OidcProvider } from "../shared/irsa";
import { PACKAGE } from "../shared/tokens";
import type { BudgetGateConfig } from "@gpu-platform/catalog/contracts";
import {
    BUDGET_GATE_CLUSTER_RULES,
    BUDGET_GATE_EVENT_RULES,
    BUDGET_GATE_LEASE_RULES,
} from "@gpu-platform/catalog/contracts";

export const BUDGET_GATE_TYPE = `${PACKAGE}:scheduling:BudgetGate`;

/** The gate's names in the cluster. */
export const BUDGET_GATE_NAMES = {
    namespace: SCHEDULING_NAMESPACES.budgetGate,
    serviceAccount: "budget-gate",
    app: "budget-gate",
    port: 8080,
} as const;

export interface BudgetGateArgs {
    /** The gate's image (built from services/budget-gate/Dockerfile), pinned by digest. Required. */
    image: pulumi.Input<string>;
    /** The gate's config document (`buildBudgetGateConfig`); its `lease.namespace` must be `namespace`. Required. */
    config: BudgetGateConfig;
    /** The cost tracker's URL on the internal load balancer. Required. */
    trackerUrl: pulumi.Input<string>;
    /** The Secrets Manager secret holding the tracker's token: the only AWS resource the gate may read. Required. */
    tokenSecretArn: pulumi.Input<string>;
    /** The cluster's OIDC provider, for IRSA. Required. */
    oidc: OidcProvider;
    /** The AWS region of the secret. Required. */
    region: string;
    /** Team namespaces, where the gate writes Events on Workloads. Required; they must exist. */
    teamNamespaces: string[];
    /** Replicas; one leads through the Lease, the others wait. Default 2. */
    replicas?: number;
}

/**
 * The budget gate in the cluster (services/budget-gate/): the controller that answers Kueue's
 * `budget` AdmissionCheck with a reservation from the cost tracker.
 *
 * ```ts
 * new BudgetGate("budget-gate", { image, config, trackerUrl, tokenSecretArn, oidc, region, teamNamespaces },
 *     { providers: { kubernetes: cluster.provider }, dependsOn: [kueue.release] });
 * ```
 *
 * - a Deployment on the CPU pool (no GPU toleration), non-root and read-only, with probes on
 *   `/healthz` and `/readyz` and a Service for `/metrics`; two replicas, one leading by a Lease;
 * - a ServiceAccount whose IRSA role may only read the tracker's token secret (no static key);
 * - RBAC to the letter of what it calls: list, watch and patch Workloads (spec.active,
 *   finalizers), patch workloads/status (server-side apply of its check), get Pods and
 *   ReplicaSets (a workload's top owner), create Events only in team namespaces, and its own
 *   Lease only in its own namespace.
 *
 * Cost: two pods of 50m CPU and 128 MiB on the CPU pool.
 */
export class BudgetGate extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly serviceAccount: k8s.core.v1.ServiceAccount;
    public readonly irsa: IrsaRole;
    public readonly deployment: k8s.apps.v1.Deployment;
    public readonly service: k8s.core.v1.Service;

    constructor(name: string, args: BudgetGateArgs, opts?: pulumi.ComponentResourceOptions) {
        super(BUDGET_GATE_TYPE, name, {}, opts);
        const problems = budgetGateArgsProblems(args);
        if (problems.length > 0) throw new Error(`BudgetGate ${name}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        const ns = BUDGET_GATE_NAMES.namespace;
        const child = { parent: this };
        this.namespace = new k8s.core.v1.Namespace(
            `${name}-ns`,
            { metadata: { name: ns, labels: { "pod-security.kubernetes.io/enforce": "restricted" } } },
            child,
        );
        const inNamespace = { parent: this, dependsOn: [this.namespace] };
        this.irsa = new IrsaRole(
            `${name}-irsa`,
            {
                oidc: args.oidc,
                namespace: ns,
                serviceAccount: BUDGET_GATE_NAMES.serviceAccount,
                statements: [
                    {
                        Sid: "ReadTrackerToken",
                        Effect: "Allow",
                        Action: "secretsmanager:GetSecretValue",
                        Resource: args.tokenSecretArn,
                    },
                ],
            },
            child,
        );
        this.serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            {
                metadata: {
                    name: BUDGET_GATE_NAMES.serviceAccount,
                    namespace: ns,
                    annotations: { "eks.amazonaws.com/role-arn": this.irsa.role.arn },
                },
            },
            inNamespace,
        );
        this.grantAccess(name, args.teamNamespaces, inNamespace);
        this.deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name: BUDGET_GATE_NAMES.app, namespace: ns, labels: { app: BUDGET_GATE_NAMES.app } },
                spec: budgetGateDeploymentSpec(args),
            },
            { ...inNamespace, dependsOn: [this.namespace, this.serviceAccount] },
        );
        this.service = new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: BUDGET_GATE_NAMES.app, namespace: ns, labels: { app: BUDGET_GATE_NAMES.app } },
                spec: {
                    selector: { app: BUDGET_GATE_NAMES.app },
                    ports: [{ name: "http", port: BUDGET_GATE_NAMES.port, targetPort: "http" }],
                },
            },
            inNamespace,
        );
        this.registerOutputs({ namespace: ns, roleArn: this.irsa.role.arn });
    }

    /** The RBAC of what the gate calls, and nothing else (see the class comment). */
    private grantAccess(name: string, teamNamespaces: string[], opts: pulumi.CustomResourceOptions): void {
        const subject = {
            kind: "ServiceAccount",
            name: BUDGET_GATE_NAMES.serviceAccount,
            namespace: BUDGET_GATE_NAMES.namespace,
        };
        const roleRef = (kind: "ClusterRole" | "Role", roleName: pulumi.Input<string>) => ({
            apiGroup: "rbac.authorization.k8s.io",
            kind,
            name: roleName,
        });
        const workloads = new k8s.rbac.v1.ClusterRole(
            `${name}-workloads`,
            { metadata: { name: "gpu-platform:budget-gate" }, rules: [...BUDGET_GATE_CLUSTER_RULES] },
            opts,
        );
        new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-workloads`,
            {
                metadata: { name: "gpu-platform:budget-gate" },
                roleRef: roleRef("ClusterRole", workloads.metadata.name),
                subjects: [subject],
            },
            opts,
        );
        // A Role of each team namespace, not a ClusterRole bound there: team namespaces admit RoleBindings
        // to their own Roles and to view/edit only (catalog/admission/tenancy.ts), and the pack judges the same.
        for (const team of teamNamespaces) {
            const events = new k8s.rbac.v1.Role(
                `${name}-events-${team}`,
                { metadata: { name: "budget-gate-events", namespace: team }, rules: [...BUDGET_GATE_EVENT_RULES] },
                opts,
            );
            new k8s.rbac.v1.RoleBinding(
                `${name}-events-${team}`,
                {
                    metadata: { name: "budget-gate-events", namespace: team },
                    roleRef: roleRef("Role", events.metadata.name),
                    subjects: [subject],
                },
                opts,
            );
        }
        const lease = new k8s.rbac.v1.Role(
            `${name}-lease`,
            {
                metadata: { name: "budget-gate-lease", namespace: BUDGET_GATE_NAMES.namespace },
                rules: [...BUDGET_GATE_LEASE_RULES],
            },
            opts,
        );
        new k8s.rbac.v1.RoleBinding(
            `${name}-lease`,
            {
                metadata: { name: "budget-gate-lease", namespace: BUDGET_GATE_NAMES.namespace },
                roleRef: roleRef("Role", lease.metadata.name),
                subjects: [subject],
            },
            opts,
        );
    }
}

/** One line per problem, naming the argument. */
export function budgetGateArgsProblems(args: BudgetGateArgs): string[] {
    const problems: string[] = [];
    if (args.config.lease.namespace !== BUDGET_GATE_NAMES.namespace)
        problems.push(
            `config.lease.namespace: must be "${BUDGET_GATE_NAMES.namespace}", where the gate runs and may write its Lease (found "${args.config.lease.namespace}")`,
        );
    if (args.config.lease.name !== "budget-gate")
        problems.push(
            `config.lease.name: must be "budget-gate", the Lease its RBAC names (found "${args.config.lease.name}")`,
        );
    if (args.replicas !== undefined && !(Number.isInteger(args.replicas) && args.replicas >= 1 && args.replicas <= 5))
        problems.push(`replicas: must be a whole number from 1 to 5 (found ${args.replicas})`);
    const unknown = args.teamNamespaces.filter((t) => !args.config.teams.includes(t));
    if (unknown.length > 0)
        problems.push(
            `teamNamespaces: ${unknown.join(", ")} not among the config's teams (${args.config.teams.join(", ")})`,
        );
    return problems;
}

/** The gate's pods: see `BudgetGate`. */
export function budgetGateDeploymentSpec(args: BudgetGateArgs): k8s.types.input.apps.v1.DeploymentSpec {
    const labels = { app: BUDGET_GATE_NAMES.app };
    const probe = (path: string, periodSeconds: number) => ({
        httpGet: { path, port: "http" },
        periodSeconds,
        timeoutSeconds: 2,
        failureThreshold: 3,
    });
    return {
        replicas: args.replicas ?? 2,
        selector: { matchLabels: labels },
        template: {
            metadata: { labels },
            spec: {
                serviceAccountName: BUDGET_GATE_NAMES.serviceAccount,
                nodeSelector: { ...CPU_NODE_SELECTOR },
                // Spread the replicas: a node's loss leaves a follower to take the Lease.
                topologySpreadConstraints: [
                    {
                        maxSkew: 1,
                        topologyKey: "kubernetes.io/hostname",
                        whenUnsatisfiable: "ScheduleAnyway",
                        labelSelector: { matchLabels: labels },
                    },
                ],
                securityContext: {
                    runAsNonRoot: true,
                    runAsUser: 1000,
                    runAsGroup: 1000,
                    seccompProfile: { type: "RuntimeDefault" },
                },
                containers: [
                    {
                        name: "gate",
                        image: args.image,
                        ports: [{ name: "http", containerPort: BUDGET_GATE_NAMES.port }],
                        env: [
                            { name: "BUDGET_GATE_CONFIG_JSON", value: JSON.stringify(args.config) },
                            { name: "COST_TRACKER_URL", value: args.trackerUrl },
                            { name: "COST_TRACKER_TOKEN_SECRET_ARN", value: args.tokenSecretArn },
                            { name: "AWS_REGION", value: args.region },
                            { name: "PORT", value: String(BUDGET_GATE_NAMES.port) },
                            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                        ],
                        livenessProbe: probe("/healthz", 20),
                        readinessProbe: probe("/readyz", 10),
                        resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
                        securityContext: {
                            allowPrivilegeEscalation: false,
                            readOnlyRootFilesystem: true,
                            capabilities: { drop: ["ALL"] },
                        },
                    },
                ],
            },
        },
    };
}
