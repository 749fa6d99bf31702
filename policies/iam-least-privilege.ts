/**
 * The platform's own IAM roles grant what their workloads call and nothing more: each policy of a
 * role lib/workload-actions.ts knows (the cost tracker's task and execution roles, the pipelines'
 * IRSA roles, the autoscaler's, the runner's, ...) is compared with the actions its workload
 * calls, and every other grant is named. Advisory: an unused grant is not an exposure by itself,
 * but it is what an attacker who takes that pod or task gets for free.
 */
import { StackResource, stackPolicy } from "./lib/define";
import { actionsMatching } from "./lib/iam-actions";
import { statementName, statementsOf, stringsOf } from "./lib/policy-documents";
import { Props, asList, asRecord, isUnknown, listing } from "./lib/values";
import { WorkloadActions, workloadOf } from "./lib/workload-actions";

/** A policy document of a resource, with where it sits. */
interface Document {
    readonly setting: string;
    readonly document: unknown;
}

function documentsOf(resource: StackResource): Document[] {
    const p: Props = resource.props;
    if (resource.type === "aws:iam/role:Role")
        return asList(p.inlinePolicies).map((inline, i) => ({
            setting: `inlinePolicies[${i}].policy`,
            document: asRecord(inline)?.policy,
        }));
    return [{ setting: "policy", document: p.policy }];
}

const TYPES = ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/role:Role"];

export const iamLeastPrivilege = stackPolicy({
    name: "iam-least-privilege",
    description:
        "The platform's IAM roles (the cost tracker's task and execution roles, the inference pipelines' worker and KEDA roles, the cluster " +
        "autoscaler's, the load balancer controller's, the deploy runner's, the flow logs', the portal's secret readers and database job) grant only the actions their workloads " +
        "call: the AWS SDK commands the cost tracker sends, each controller's documented policy (lib/workload-actions.ts names every source). " +
        "Any other grant, and any wildcard or NotAction that reaches past them, is named.",
    enforcementLevel: "advisory",
    config: {},
    validate: async (resources, _config, report) => {
        for (const resource of resources.filter((r) => TYPES.includes(r.type))) {
            const workload = workloadOf(typeChainOf(resource.urn), resource.name);
            if (!workload) continue;
            for (const { setting, document } of documentsOf(resource)) {
                for (const [i, statement] of statementsOf(document).entries()) {
                    if (statement.Effect !== "Allow") continue;
                    const where = `${resource.type.split(":").pop()} "${resource.name}": ${setting} ${statementName(statement, i)}`;
                    for (const finding of await unusedGrants(statement, workload))
                        report(`${where} ${finding}`, resource.urn);
                }
            }
        }
    },
});

/** The component and resource types of an URN, outermost first. */
function typeChainOf(urn: string): string[] {
    return (urn.split("::")[2] ?? "").split("$");
}

/** One sentence per written action that grants more than `workload` calls. */
async function unusedGrants(statement: Props, workload: WorkloadActions): Promise<string[]> {
    const calls = `(it calls ${listing([...workload.actions])}, per ${workload.source})`;
    if (statement.NotAction !== undefined)
        return [
            `grants every action its NotAction does not name, which ${workload.workload} never calls ${calls}; list the actions it uses in Action instead.`,
        ];
    if (isUnknown(statement.Action)) return [];
    const used = new Set(workload.actions.map((a) => a.toLowerCase()));
    const findings: string[] = [];
    for (const written of stringsOf(statement.Action)) {
        if (used.has(written.trim().toLowerCase())) continue;
        if (!/[*?]/.test(written)) {
            findings.push(`grants ${written}, which ${workload.workload} never calls ${calls}; remove ${written}.`);
            continue;
        }
        const granted = written.trim() === "*" ? [] : await actionsMatching(written);
        const unused = granted.filter((a) => !used.has(a.toLowerCase()));
        if (granted.length > 0 && unused.length === 0) continue;
        const extent = granted.length === 0 ? "every action" : `${unused.length} actions`;
        findings.push(
            `grants ${written}: ${extent} ${workload.workload} never calls ${calls}; replace ${written} with the actions it uses.`,
        );
    }
    return findings;
}
