/**
 * The facts about a stack that its policy config (`policies/config.<stack>.json`) repeats,
 * derived from the stack config so that one edit of `Pulumi.<stack>.yaml` is enough:
 * `npm run policy-config -- --stack <stack>` writes them into the file (scripts/policy-config.ts),
 * and a stale file is a config problem naming that command, in `pulumi up`, the offline plan and
 * `npm test` (test/policy-config.spec.ts).
 *
 * Only the settings listed here are written; every other key of the file (enforcement levels,
 * limits and allowlists that are guardrails, such as the stack budget, GPU instance types or
 * time-slice replicas, and whole policies) stays as people edit it. A new policy that needs a
 * per-stack fact adds one entry to POLICY_FACTS; a new policy whose settings are guardrails adds
 * nothing here and is edited in the files by hand.
 */
import type { SettingProblem } from "../components/shared/problems";
import type { PlatformConfig } from "./profiles";

export interface PolicyFact {
    readonly policy: string;
    readonly setting: string;
    /** The value the setting must have for this stack. */
    readonly of: (config: PlatformConfig) => unknown;
}

const classLimits = (config: PlatformConfig) =>
    Object.fromEntries(config.priorityClasses.map((pc) => [pc.name, pc.maxGpusPerPod]));

export const POLICY_FACTS: readonly PolicyFact[] = [
    // The namespaces' team label must name a team of this stack.
    { policy: "team-namespace-label", setting: "teams", of: (config) => config.teams.map((team) => team.name) },
    // The environment tag names this stack's environment only.
    { policy: "budget-tags", setting: "allowedEnvironments", of: (config) => [config.environment] },
    // GPU pods are judged by the classes the cluster gets, with the same per-pod limits.
    { policy: "gpu-workload-priority-class", setting: "maxGpusPerPodByClass", of: classLimits },
    { policy: "gpu-workload-class-limit", setting: "maxGpusPerPodByClass", of: classLimits },
    // Pod Security: the namespaces the platform set to baseline; every other team namespace is restricted.
    {
        policy: "team-namespace-admission",
        setting: "baselineNamespaces",
        of: (config) => config.teams.filter((team) => team.podSecurity === "baseline").map((team) => team.name),
    },
    // Pod Security's safe sysctls are the cluster's Kubernetes version's.
    {
        policy: "team-namespace-admission",
        setting: "kubernetesVersion",
        of: (config) => config.cluster.kubernetesVersion,
    },
    // Cluster-wide admin: the roles the cluster's access entries make admins, and no one else.
    {
        policy: "cluster-admin-grants",
        setting: "platformAdminPrincipalArns",
        of: (config) => [
            ...new Set([
                ...(config.cluster.creatorRoleArn ? [config.cluster.creatorRoleArn] : []),
                ...(config.cluster.adminRoleArns ?? []),
            ]),
        ],
    },
];

export const POLICY_CONFIG_COMMAND = (stack: string) => `npm run policy-config -- --stack ${stack}`;

type PolicyConfigDocument = Record<string, unknown>;

/** The document with every fact set to this stack's value; other keys, and their order, kept. */
export function withPolicyFacts(doc: PolicyConfigDocument, config: PlatformConfig): PolicyConfigDocument {
    const result: PolicyConfigDocument = { ...doc };
    for (const fact of POLICY_FACTS) {
        const current = result[fact.policy];
        const entry = typeof current === "string" ? { enforcementLevel: current } : isRecord(current) ? current : {};
        result[fact.policy] = { ...entry, [fact.setting]: fact.of(config) };
    }
    return result;
}

/**
 * One problem per fact the file states differently from the stack config, each naming the command
 * that rewrites it. A fact that maps names to values (teams' quotas, classes' limits) is told per
 * name that differs, so each line stays short enough to be printed whole.
 */
export function stalePolicyFactProblems(
    doc: PolicyConfigDocument,
    config: PlatformConfig,
    source: string,
): SettingProblem[] {
    return POLICY_FACTS.flatMap((fact) => {
        const entry = doc[fact.policy];
        const stated = isRecord(entry) ? entry[fact.setting] : undefined;
        return differences(stated, fact.of(config)).map((d) => ({
            key: `${source} ${fact.policy}.${fact.setting}${d.path}`,
            message:
                `is ${d.stated === undefined ? "unset" : JSON.stringify(d.stated)}, but Pulumi.${config.stack}.yaml makes it ${d.expected === undefined ? "unset" : JSON.stringify(d.expected)}: ` +
                `the policy pack would judge this stack by stale facts; run \`${POLICY_CONFIG_COMMAND(config.stack)}\` and commit the file`,
        }));
    });
}

interface Difference {
    readonly path: string;
    readonly stated: unknown;
    readonly expected: unknown;
}

/** Where `stated` differs from `expected`: per key when both map names to values, else the whole value. */
function differences(stated: unknown, expected: unknown): Difference[] {
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (same(stated, expected)) return [];
    if (isRecord(stated) && isRecord(expected)) {
        const names = [...new Set([...Object.keys(expected), ...Object.keys(stated)])];
        const byName = names
            .filter((name) => !same(stated[name], expected[name]))
            .map((name) => ({ path: `.${name}`, stated: stated[name], expected: expected[name] }));
        // Only the order of the names differs: the file is still rewritten, told as a whole.
        if (byName.length > 0) return byName;
    }
    return [{ path: "", stated, expected }];
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
