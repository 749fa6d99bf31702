/**
 * One IAM request judged by a real policy evaluator (@cloud-copilot/iam-simulate): the role's
 * identity policy, no SCPs or RCPs. Returns its overall result, "Allowed", "ImplicitlyDenied" or
 * "ExplicitlyDenied"; an evaluator error fails the spec.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { teamSecretArnPattern, teamSecretStatements } from "../components/portal/team-secret-store";

/** The policy of a team's `team-secrets` role, as the component writes it, for one stack in us-east-1. */
export function teamSecretsPolicy(s: { accountId: string; stackPrefix: string; team: string }) {
    return {
        Version: "2012-10-17",
        Statement: teamSecretStatements(
            teamSecretArnPattern({
                partition: "aws",
                region: "us-east-1",
                account: s.accountId,
                stackPrefix: s.stackPrefix,
                team: s.team,
            }),
        ),
    };
}

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
