import { Props, asList, asRecord, asString } from "./values";

/** The accounts an AWS provider is pinned to: its allowedAccountIds, and the account of each role it assumes. */
export function providerAccounts(provider: Props | undefined): string[] {
    const roles = [provider?.assumeRole, ...asList(provider?.assumeRoles)]
        .map((r) => asString(asRecord(r)?.roleArn))
        .filter((r): r is string => r !== undefined);
    return [...asList(provider?.allowedAccountIds).map(String), ...roles.map((arn) => arn.split(":")[4] ?? "")];
}
