import { Partition, partitionOf } from "@gpu-platform/catalog";
import type { SettingProblem } from "./problems";

/**
 * The partition of `region` for the ARNs a component writes (`arn:aws-us-gov:…` in GovCloud,
 * `arn:aws-cn:…` in China), or the problem with an unknown region under `key`.
 */
export function partitionOrProblem(
    key: string,
    region: string,
): { partition: Partition; problems: [] } | { partition?: undefined; problems: SettingProblem[] } {
    const partition = partitionOf(region);
    if (partition) return { partition, problems: [] };
    return {
        problems: [
            {
                key,
                message: `"${region}" is not a known AWS region (catalog/regions.ts); its partition decides every AWS-managed ARN`,
            },
        ],
    };
}

/**
 * The IAM role an ARN names, as account and role name: IAM role names are unique in an account
 * whatever their path, and EKS access entries accept a role with or without its path
 * (`role/aws-reserved/sso.amazonaws.com/X` is `role/X`). Undefined for an ARN that is not a role's.
 */
export function roleIdentity(arn: string): string | undefined {
    const match = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
    return match ? `${match[1]}:${match[2]}` : undefined;
}

/** True when both ARNs name the same IAM role. */
export function sameRole(a: string, b: string): boolean {
    const identity = roleIdentity(a);
    return identity !== undefined && identity === roleIdentity(b);
}

/** An EKS access policy's ARN, partitioned like any other (EKS user guide writes them `{arn-aws}eks::aws:cluster-access-policy/…`). */
export function eksAccessPolicyArn(partition: Partition, policy: string): string {
    return `arn:${partition}:eks::aws:cluster-access-policy/${policy}`;
}
