/**
 * One IAM request judged by a real policy evaluator (@cloud-copilot/iam-simulate): the role's
 * identity policy, no SCPs or RCPs. Returns its overall result, "Allowed", "ImplicitlyDenied" or
 * "ExplicitlyDenied"; an evaluator error fails the spec.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";

export async function iamDecision(s: {
    principal: string;
    accountId: string;
    policy: unknown;
    action: string;
    resource: string;
}): Promise<string> {
    const result = await runSimulation(
        {
            request: {
                principal: s.principal,
                action: s.action,
                resource: { resource: s.resource, accountId: s.accountId },
                contextVariables: {},
            },
            identityPolicies: [{ name: "identity", policy: s.policy as any }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
        },
        {},
    );
    if (result.resultType === "error") throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
}
