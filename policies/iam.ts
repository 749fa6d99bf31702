/**
 * IAM baseline:
 * - a statement that lets a principal read or change data (objects, messages, items, decrypted
 *   keys, secrets, cost data) names the resources it may touch, except the exceptions the config
 *   names one by one with a reason. `Resource: "*"` stays fine for read-only discovery calls
 *   (Describe*, List*), which often cannot be scoped at all;
 * - no administrative or privilege-escalating grant: every action (`*`), a service's every
 *   action on the whole service (`iam:*`, `ec2:*` on `*` or `arn:aws:s3:::*`), actions that
 *   let a principal give itself more (attach or write policies, pass or assume any role), or an
 *   attached AWS-managed administrator policy (AdministratorAccess, in any partition);
 * - no role that anyone may assume (`Principal: "*"` or `{"AWS": "*"}` in its trust policy)
 *   without a condition that pins who.
 */
import { resourcePolicy } from "./lib/define";
import {
    allowsEveryone,
    globMatches,
    hasWildcard,
    isAllow,
    restrictingCondition,
    statementName,
    statementsOf,
    stringsOf,
} from "./lib/policy-documents";
import { Props, asList, asRecord, asString, isUnknown, listing } from "./lib/values";

/**
 * Data actions, as IAM action names or patterns. A statement's action counts as a data action
 * when either matches the other: `s3:*` grants `s3:Get*`, `s3:GetObject` is one of `s3:Get*`.
 */
const DATA_ACTIONS = [
    "s3:Get*",
    "s3:Put*",
    "s3:Delete*",
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "sqs:SendMessage*",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage*",
    "sqs:ChangeMessageVisibility*",
    "sqs:PurgeQueue",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:TransactGetItems",
    "dynamodb:TransactWriteItems",
    "dynamodb:PartiQL*",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "secretsmanager:GetSecretValue",
    // Cost Explorer's spend by account, team and resource: billing data, and it has no resource-level permissions.
    "ce:Get*",
];

interface NamedException {
    action: string;
    resource: string;
    reason: string;
}

/** The one grant on "*" the platform needs: the cost tracker's reads of spend by team tag. */
const DEFAULT_EXCEPTIONS: NamedException[] = [
    {
        action: "ce:GetCostAndUsage",
        resource: "*",
        reason: "Cost Explorer has no resource-level permissions; the cost tracker reads spend by team tag with it.",
    },
];

/** Where each resource type keeps its identity policy documents (iam-actions-valid reads them too). */
export const IDENTITY_POLICY_DOCUMENTS: Record<string, (props: Props) => { setting: string; document: unknown }[]> = {
    "aws:iam/rolePolicy:RolePolicy": (p) => [{ setting: "policy", document: p.policy }],
    "aws:iam/policy:Policy": (p) => [{ setting: "policy", document: p.policy }],
    "aws:iam/userPolicy:UserPolicy": (p) => [{ setting: "policy", document: p.policy }],
    "aws:iam/groupPolicy:GroupPolicy": (p) => [{ setting: "policy", document: p.policy }],
    "aws:iam/role:Role": (p) =>
        asList(p.inlinePolicies).map((inline, i) => ({
            setting: `inlinePolicies[${i}].policy`,
            document: asRecord(inline)?.policy,
        })),
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": (p) => [
        { setting: "inlinePolicy", document: p.inlinePolicy },
    ],
};

export const iamDataActionsScoped = resourcePolicy({
    name: "iam-data-actions-scoped",
    description:
        'IAM policies (role, user and group policies, managed policies, inline policies of roles) never Allow data actions on Resource "*": ' +
        "S3 object reads and writes, SQS send/receive/delete, DynamoDB item access, KMS encrypt/decrypt/data keys, Secrets Manager secret values, " +
        "Cost Explorer cost data, or wildcards that include them (s3:*, *). Read-only Describe/List calls on * are fine. The exceptions config names " +
        'single actions allowed on "*" anyway, each with its reason (default: ce:GetCostAndUsage, which Cost Explorer cannot scope); a wildcard never matches one.',
    enforcementLevel: "mandatory",
    config: {
        dataActions: {
            type: "array",
            items: { type: "string" },
            description: "IAM actions or action patterns that read or change data.",
            default: DATA_ACTIONS,
        },
        exceptions: {
            type: "array",
            items: {
                type: "object",
                properties: { action: { type: "string" }, resource: { type: "string" }, reason: { type: "string" } },
            },
            description:
                "Named exceptions: an exact action (no wildcard) allowed on an exact resource, with the reason it cannot be scoped. " +
                "An entry without a reason, or with a wildcard action, excuses nothing.",
            default: DEFAULT_EXCEPTIONS,
        },
    },
    resourceTypes: Object.keys(IDENTITY_POLICY_DOCUMENTS),
    validate: ({ type, name, props }, { dataActions, exceptions }, report) => {
        for (const { setting, document } of IDENTITY_POLICY_DOCUMENTS[type](props)) {
            statementsOf(document).forEach((statement, i) => {
                if (!isAllow(statement) || !onAllResources(statement)) return;
                const excused = (action: string) => excusedOnAllResources(action, statement, exceptions);
                const granted = dataActionsGranted(statement, dataActions).filter((action) => !excused(action));
                if (granted.length === 0) return;
                report(
                    `${type.split(":").pop()} "${name}": ${setting} ${statementName(statement, i)} allows data actions (${listing(granted)}) on Resource "*"; ` +
                        "scope its Resource to the ARNs it needs (buckets' objects, queues, tables, keys, secrets), or split the read-only Describe/List actions into their own statement.",
                );
            });
        }
    },
});

/** An exact action named in `exceptions`, with a reason, for every resource the statement names. */
function excusedOnAllResources(action: string, statement: Props, exceptions: readonly NamedException[]): boolean {
    const resources = stringsOf(statement.Resource);
    return exceptions.some(
        (e) =>
            typeof e.reason === "string" &&
            e.reason.trim() !== "" &&
            typeof e.action === "string" &&
            !hasWildcard(e.action) &&
            e.action.toLowerCase() === action.toLowerCase() &&
            statement.NotResource === undefined &&
            resources.length > 0 &&
            resources.every((r) => r === e.resource),
    );
}

/** Resource "*" (or NotResource, which allows everything it does not name). */
function onAllResources(statement: Props): boolean {
    if (statement.NotResource !== undefined) return true;
    const resources = statement.Resource;
    return !isUnknown(resources) && stringsOf(resources).some((r) => /^[*?]*\*[*?]*$/.test(r));
}

function dataActionsGranted(statement: Props, dataActions: readonly string[]): string[] {
    if (statement.NotAction !== undefined) return ["NotAction grants every action it does not name"];
    const actions = stringsOf(statement.Action);
    return [
        ...new Set(
            actions.filter((action) =>
                dataActions.some((data) => globMatches(action, data) || globMatches(data, action)),
            ),
        ),
    ];
}

/**
 * Actions that let a principal give itself (or a principal it controls) more permissions, or act
 * as another: writing or attaching policies, access keys and passwords, group membership, trust
 * policies, passing or assuming roles. Source: Rhino Security Labs, "AWS IAM Privilege
 * Escalation – Methods and Mitigation"; IAM's Service Authorization Reference ("Permissions
 * management" access level).
 */
const ESCALATING_ACTIONS = [
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:AddUserToGroup",
    "iam:UpdateAssumeRolePolicy",
    "iam:CreateRole",
    "iam:CreateUser",
    "iam:PassRole",
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
    "sts:GetFederationToken",
];

/** AWS-managed policies that make their holder an administrator, or able to become one. */
const ADMIN_MANAGED_POLICIES = ["AdministratorAccess", "IAMFullAccess", "PowerUserAccess"];

/** Where each resource type attaches managed policies. */
const ATTACHMENTS: Record<string, (props: Props) => { setting: string; arn: unknown }[]> = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (p) => [{ setting: "policyArn", arn: p.policyArn }],
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": (p) => [{ setting: "policyArn", arn: p.policyArn }],
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": (p) => [{ setting: "policyArn", arn: p.policyArn }],
    "aws:iam/policyAttachment:PolicyAttachment": (p) => [{ setting: "policyArn", arn: p.policyArn }],
    "aws:iam/role:Role": (p) =>
        asList(p.managedPolicyArns).map((arn, i) => ({ setting: `managedPolicyArns[${i}]`, arn })),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": (p) =>
        asList(p.policyArns).map((arn, i) => ({ setting: `policyArns[${i}]`, arn })),
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": (p) =>
        asList(p.policyArns).map((arn, i) => ({ setting: `policyArns[${i}]`, arn })),
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": (p) =>
        asList(p.policyArns).map((arn, i) => ({ setting: `policyArns[${i}]`, arn })),
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": (p) => [
        { setting: "managedPolicyArn", arn: p.managedPolicyArn },
    ],
};

export const iamNoAdminGrants = resourcePolicy({
    name: "iam-no-admin-grants",
    description:
        "No IAM policy makes its holder an administrator or lets it escalate: no Allow of every action (*, or a wildcard over services), of a " +
        'service\'s every action (iam:*, sts:*, ec2:*, s3:*, ...) on "*" or a service-wide ARN (arn:aws:s3:::*, ...:role/*), of actions that write or ' +
        'attach policies, create keys, pass or assume roles on "*" (or NotAction/NotResource, which grant all they do not name), and no attached ' +
        "AdministratorAccess, IAMFullAccess or PowerUserAccess, in any partition.",
    enforcementLevel: "mandatory",
    config: {
        escalatingActions: {
            type: "array",
            items: { type: "string" },
            description: "Actions that let a principal escalate its own permissions.",
            default: ESCALATING_ACTIONS,
        },
        adminManagedPolicies: {
            type: "array",
            items: { type: "string" },
            description: "Names of AWS-managed policies that grant administrator rights.",
            default: ADMIN_MANAGED_POLICIES,
        },
    },
    resourceTypes: [...new Set([...Object.keys(IDENTITY_POLICY_DOCUMENTS), ...Object.keys(ATTACHMENTS)])],
    validate: ({ type, name, props }, { escalatingActions, adminManagedPolicies }, report) => {
        const what = `${type.split(":").pop()} "${name}"`;
        for (const { setting, document } of IDENTITY_POLICY_DOCUMENTS[type]?.(props) ?? []) {
            statementsOf(document).forEach((statement, i) => {
                if (!isAllow(statement)) return;
                const grants = adminGrants(statement, escalatingActions);
                if (grants.length === 0) return;
                report(
                    `${what}: ${setting} ${statementName(statement, i)} ${listing(grants)}; grant the specific actions the workload calls on the ARNs it needs ` +
                        "(and pass only named roles), or leave administration to the account's break-glass roles.",
                );
            });
        }
        for (const { setting, arn } of ATTACHMENTS[type]?.(props) ?? []) {
            const admin = adminManagedPolicies.find((policy) =>
                new RegExp(`^arn:[^:]+:iam::aws:policy/(.+/)?${policy}$`).test(asString(arn)?.trim() ?? ""),
            );
            if (!admin) continue;
            report(
                `${what} attaches ${admin} (${setting}: ${String(arn)}), which makes its holder an administrator; attach a policy that grants only what the workload needs.`,
            );
        }
    },
});

/** What in an Allow statement makes it administrative or escalating, each said for a message. */
function adminGrants(statement: Props, escalatingActions: readonly string[]): string[] {
    const resources = stringsOf(statement.Resource);
    const wide = statement.NotResource !== undefined || resources.some(isServiceWide);
    const on =
        statement.NotResource !== undefined
            ? "on every resource but those NotResource names"
            : `on ${listing(resources.filter(isServiceWide).map((r) => `"${r}"`))}`;
    if (statement.NotAction !== undefined)
        return wide
            ? [`allows every action but those NotAction names (${stringsOf(statement.NotAction).join(", ")}) ${on}`]
            : [];
    const found: string[] = [];
    for (const action of stringsOf(statement.Action)) {
        const [service, name] = action.includes(":")
            ? [action.slice(0, action.indexOf(":")), action.slice(action.indexOf(":") + 1)]
            : [action, action];
        const everyName = /^[*?]*\*[*?]*$/.test(name);
        if (everyName && (hasWildcard(service) || !action.includes(":")))
            found.push(`allows every action of every service ("${action}")`);
        else if (everyName && wide) found.push(`allows every ${service} action ("${action}") ${on}`);
        else if (wide) {
            const escalating = escalatingActions.filter((e) => globMatches(action, e));
            if (escalating.length > 0)
                found.push(
                    `allows ${escalating.length === 1 && escalating[0].toLowerCase() === action.toLowerCase() ? `"${action}"` : `"${action}" (${listing(escalating)})`} ${on}, which lets it escalate its own permissions`,
                );
        }
    }
    return found;
}

/**
 * A resource pattern that covers a whole service: only wildcards ("*"), or an ARN whose resource
 * part is only wildcards after its type (`arn:aws:s3:::*`, `arn:aws:iam::123456789012:role/*`,
 * `arn:aws:dynamodb:*:*:table/*`), or whose service is a wildcard.
 */
function isServiceWide(resource: string): boolean {
    if (/^[*?]*\*[*?]*$/.test(resource)) return true;
    const parts = resource.split(":");
    if (parts[0]?.toLowerCase() !== "arn" || parts.length < 6) return false;
    if (hasWildcard(parts[2])) return true;
    const rest = parts.slice(5).join(":");
    // S3 ARNs carry no resource type: the part is the bucket name, then the key.
    if (parts[2].toLowerCase() === "s3") return /^[*?]*\*[*?]*(\/.*)?$/.test(rest);
    return /^([A-Za-z0-9-]+[/:])?[*?/:]*\*[*?/:]*$/.test(rest);
}

export const iamTrustNotPublic = resourcePolicy({
    name: "iam-trust-not-public",
    description:
        'No role\'s trust policy lets anyone assume it (Principal "*", {"AWS": "*"}, or an Allow with NotPrincipal) unless a condition pins a fixed ' +
        "organisation, account, principal ARN or source (aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn, aws:SourceAccount, ...).",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: ["aws:iam/role:Role"],
    validate: ({ name, props }, _config, report) => {
        statementsOf(props.assumeRolePolicy).forEach((statement, i) => {
            if (!isAllow(statement) || !allowsEveryone(statement) || restrictingCondition(statement)) return;
            report(
                `Role "${name}": assumeRolePolicy ${statementName(statement, i)} lets anyone assume it (Principal ${JSON.stringify(statement.Principal ?? { NotPrincipal: statement.NotPrincipal })}); ` +
                    "name the accounts, roles or service that may assume it in Principal, or pin them with a condition on aws:PrincipalOrgID, aws:PrincipalAccount or aws:PrincipalArn.",
            );
        });
    },
});
