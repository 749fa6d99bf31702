import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import {
    TENANCY_ADMISSION_DEFAULTS,
    TenancyAdmissionSettings,
    eksUserName,
    tenancyRules,
} from "@gpu-platform/catalog/admission";
import { EKS_VERSIONS } from "@gpu-platform/catalog";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";
import { admissionPolicy } from "./admission-policy";

export const TENANCY_ADMISSION_TYPE = `${PACKAGE}:tenancy:TenancyAdmission`;

export interface TenancyAdmissionArgs {
    /**
     * IAM roles (or users) that administer the cluster besides the one running `pulumi up`: their
     * sessions are "the platform" and may change what the platform owns in team namespaces.
     * The deploying identity is always included (`aws.getCallerIdentity`). Default none.
     */
    platformPrincipalArns?: string[];
    /** ClusterRoles a team's RoleBindings may bind. Default `["view", "edit"]`. */
    allowedClusterRoles?: string[];
    /** Namespace names only the platform creates. Default the catalog's system namespaces. */
    reservedNamespaces?: string[];
    /**
     * The cluster's Kubernetes minor, e.g. `"1.35"` (the cluster's `kubernetesVersion`): Pod
     * Security's safe sysctls grow with it. Default the oldest minor EKS offers, the strictest list.
     */
    kubernetesVersion?: string;
}

/**
 * The tenancy rules of catalog/admission/tenancy.ts as ValidatingAdmissionPolicies, each with a
 * binding that refuses (`Deny`): in team namespaces, no LoadBalancer/NodePort/ExternalName
 * Service or externalIPs, no Ingress outside the team's class and group, no secret store but the
 * platform's and no reference to another, no host access, no RoleBinding to a ClusterRole beyond
 * `view`/`edit`, no change to what the platform labelled its own; cluster-wide, no reserved
 * namespace name and no change to a team namespace's platform labels, except by the platform.
 *
 * ```ts
 * new TenancyAdmission("tenancy", { platformPrincipalArns: ["arn:aws:iam::123456789012:role/platform-admin"] },
 *     { providers: { aws: awsProvider, kubernetes: cluster.provider } });
 * ```
 *
 * A namespace is exempted from one rule by the label `admission.gpu-platform/<rule>: exempt`,
 * which only the platform sets (TeamNamespace `admissionExemptions`).
 *
 * Cost: none; the API server evaluates the rules in-process (CEL).
 */
export class TenancyAdmission extends pulumi.ComponentResource {
    public readonly policies: Record<string, k8s.admissionregistration.v1.ValidatingAdmissionPolicy> = {};
    public readonly bindings: Record<string, k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding> = {};

    constructor(name: string, args: TenancyAdmissionArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("TenancyAdmission", name, tenancyAdmissionProblems(args));
        super(TENANCY_ADMISSION_TYPE, name, {}, opts);
        const caller = aws.getCallerIdentityOutput({}, { parent: this }).arn;
        const settings = pulumi
            .output(caller)
            .apply((arn) => admissionSettings([arn, ...(args.platformPrincipalArns ?? [])], args));
        // The rule set is fixed; only the platform's principals are known at deploy time.
        for (const rule of tenancyRules(admissionSettings(args.platformPrincipalArns ?? [], args))) {
            const resolved = settings.apply((s) => tenancyRules(s).find((r) => r.name === rule.name)!);
            const { policy, binding } = admissionPolicy(`${name}-${rule.name}`, rule, { parent: this }, resolved);
            this.policies[rule.name] = policy;
            this.bindings[rule.name] = binding;
        }
        this.registerOutputs({});
    }
}

/** The rules' settings for these principals (the roles' session prefixes, the users' names). */
export function admissionSettings(
    principalArns: readonly string[],
    args: Pick<TenancyAdmissionArgs, "allowedClusterRoles" | "reservedNamespaces" | "kubernetesVersion">,
): TenancyAdmissionSettings {
    const names = principalArns.map(eksUserName);
    return {
        platformUserPrefixes: [...new Set(names.flatMap((n) => (n && "prefix" in n ? [n.prefix] : [])))],
        platformUsers: [...new Set(names.flatMap((n) => (n && "exact" in n ? [n.exact] : [])))],
        allowedClusterRoles: args.allowedClusterRoles ?? [...TENANCY_ADMISSION_DEFAULTS.allowedClusterRoles],
        reservedNamespaces: args.reservedNamespaces,
        kubernetesVersion: args.kubernetesVersion,
    };
}

export function tenancyAdmissionProblems(args: TenancyAdmissionArgs): SettingProblem[] {
    const problems: SettingProblem[] = [];
    (args.platformPrincipalArns ?? []).forEach((arn, i) => {
        if (!eksUserName(arn))
            problems.push({
                key: `platformPrincipalArns[${i}]`,
                message: `must be an IAM role or user ARN, e.g. arn:aws:iam::123456789012:role/platform-admin (found "${arn}")`,
            });
    });
    if (args.kubernetesVersion !== undefined && !Object.hasOwn(EKS_VERSIONS, args.kubernetesVersion))
        problems.push({
            key: "kubernetesVersion",
            message: `"${args.kubernetesVersion}" is not a Kubernetes version EKS offers; one of ${Object.keys(EKS_VERSIONS).join(", ")}`,
        });
    (args.allowedClusterRoles ?? []).forEach((role, i) => {
        if (["cluster-admin", "admin"].includes(role) || role.includes("*"))
            problems.push({
                key: `allowedClusterRoles[${i}]`,
                message: `"${role}" would let a team grant itself power over its namespace's rules; allow view, edit or a narrower role`,
            });
    });
    return problems;
}
