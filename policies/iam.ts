/**
 * IAM baseline: a statement that lets a principal read or change data (objects, messages,
 * items, decrypted keys, secrets) names the resources it may touch. `Resource: "*"` stays fine
 * for read-only discovery calls (Describe*, List*), which often cannot be scoped at all.
 */
import { resourcePolicy } from "./lib/define";
import { Props, asList, asRecord, asString, isUnknown, listing, parseJsonish } from "./lib/values";

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
];

/** Where each resource type keeps its policy documents. */
const DOCUMENTS: Record<string, (props: Props) => { setting: string; document: unknown }[]> = {
    "aws:iam/rolePolicy:RolePolicy": (p) => [{ setting: "policy", document: p.policy }],
    "aws:iam/policy:Policy": (p) => [{ setting: "policy", document: p.policy }],
    "aws:iam/userPolicy:UserPolicy": (p) => [{ setting: "policy", document: p.policy }],
    "aws:iam/groupPolicy:GroupPolicy": (p) => [{ setting: "policy", document: p.policy }],
    "aws:iam/role:Role": (p) => asList(p.inlinePolicies).map((inline, i) => ({ setting: `inlinePolicies[${i}].policy`, document: asRecord(inline)?.policy })),
};

export const iamDataActionsScoped = resourcePolicy({
    name: "iam-data-actions-scoped",
    description:
        'IAM policies (role, user and group policies, managed policies, inline policies of roles) never Allow data actions on Resource "*": ' +
        "S3 object reads and writes, SQS send/receive/delete, DynamoDB item access, KMS encrypt/decrypt/data keys, Secrets Manager secret values, " +
        "or wildcards that include them (s3:*, *). Read-only Describe/List calls on * are fine.",
    enforcementLevel: "mandatory",
    config: {
        dataActions: {
            type: "array",
            items: { type: "string" },
            description: "IAM actions or action patterns that read or change data.",
            default: DATA_ACTIONS,
        },
    },
    resourceTypes: Object.keys(DOCUMENTS),
    validate: ({ type, name, props }, { dataActions }, report) => {
        for (const { setting, document } of DOCUMENTS[type](props)) {
            statementsOf(document).forEach((statement, i) => {
                if (statement.Effect !== "Allow" || !onAllResources(statement)) return;
                const granted = dataActionsGranted(statement, dataActions);
                if (granted.length === 0) return;
                const id = asString(statement.Sid) ? `statement "${asString(statement.Sid)}"` : `Statement[${i}]`;
                report(
                    `${type.split(":").pop()} "${name}": ${setting} ${id} allows data actions (${listing(granted)}) on Resource "*"; ` +
                        "scope its Resource to the ARNs it needs (buckets' objects, queues, tables, keys, secrets), or split the read-only Describe/List actions into their own statement.",
                );
            });
        }
    },
});

/** The statements of a policy document given as JSON text or data; none when unknown or unparsable. */
function statementsOf(document: unknown): Props[] {
    const statement = asRecord(parseJsonish(document))?.Statement;
    return (Array.isArray(statement) ? statement : [statement]).map(asRecord).filter((s): s is Props => s !== undefined);
}

/** Resource "*" (or NotResource, which allows everything it does not name). */
function onAllResources(statement: Props): boolean {
    if (statement.NotResource !== undefined) return true;
    const resources = statement.Resource;
    return !isUnknown(resources) && (resources === "*" || asList(resources).includes("*"));
}

function dataActionsGranted(statement: Props, dataActions: readonly string[]): string[] {
    if (statement.NotAction !== undefined) return ["NotAction grants every action it does not name"];
    const actions = [statement.Action, ...asList(statement.Action)].map(asString).filter((a): a is string => a !== undefined);
    return [...new Set(actions.filter((action) => dataActions.some((data) => globMatches(action, data) || globMatches(data, action))))];
}

/** IAM's wildcard match (`*` any run, `?` one character), case-insensitive as action names are. */
function globMatches(pattern: string, text: string): boolean {
    const regex = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp(`^${regex}$`, "i").test(text);
}
