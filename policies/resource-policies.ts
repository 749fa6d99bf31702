/**
 * Exposure through resource policies: no SNS topic, secret, KMS key, ECR repository, Lambda
 * function, EFS file system or DynamoDB table lets anyone outside the stack's accounts in,
 * judged by an IAM policy engine on the policy's effective principals and conditions
 * (lib/iam-model.ts), wherever the policy is written: inline on the resource or in a separate
 * policy resource (TopicPolicy, SecretPolicy, KeyPolicy, RepositoryPolicy, lambda.Permission,
 * lambda.ResourcePolicy, FileSystemPolicy, dynamodb.ResourcePolicy). S3 bucket and SQS queue
 * policies keep their own policies (storage.ts). Also: Lambda function URLs require IAM auth,
 * and no ECR Public repository is created (every image in one is public).
 */
import { CheckedResource, resourcePolicy } from "./lib/define";
import { Exposure, accountOf, outsideAccess, describeActions } from "./lib/iam-model";
import { statementsOf, stringsOf } from "./lib/policy-documents";
import { providerAccounts } from "./lib/provider-accounts";
import { Props, asString, isSet, isUnknown } from "./lib/values";

interface PolicySource {
    /** What the resource is, for messages. */
    readonly kind: string;
    /** The IAM service prefix of the actions that apply to it. */
    readonly service: string;
    /** An ARN of this kind of resource in `account`, for when the stack does not know its own yet. */
    readonly arnShape: (account: string) => string;
    /** Where the resource's ARN may be read (its own `arn` output, or the target a policy resource names). */
    readonly arnSettings: readonly string[];
    /** The policy documents it carries, each with its setting. */
    readonly documents: (props: Props) => { setting: string; document: unknown }[];
}

const policyAt =
    (setting: string) =>
    (props: Props): { setting: string; document: unknown }[] => [{ setting, document: props[setting] }];

const topic = (a: string) => `arn:aws:sns:us-east-1:${a}:topic`;
const secret = (a: string) => `arn:aws:secretsmanager:us-east-1:${a}:secret:secret-AbCdEf`;
const key = (a: string) => `arn:aws:kms:us-east-1:${a}:key/0f8e5a4b-1c2d-4e3f-9a8b-7c6d5e4f3a2b`;
const repository = (a: string) => `arn:aws:ecr:us-east-1:${a}:repository/repository`;
const fn = (a: string) => `arn:aws:lambda:us-east-1:${a}:function:function`;
const fileSystem = (a: string) => `arn:aws:elasticfilesystem:us-east-1:${a}:file-system/fs-0123456789abcdef0`;
const table = (a: string) => `arn:aws:dynamodb:us-east-1:${a}:table/table`;

const SOURCES: Record<string, PolicySource> = {
    "aws:sns/topic:Topic": {
        kind: "SNS topic",
        service: "sns",
        arnShape: topic,
        arnSettings: ["arn"],
        documents: policyAt("policy"),
    },
    "aws:sns/topicPolicy:TopicPolicy": {
        kind: "SNS topic policy",
        service: "sns",
        arnShape: topic,
        arnSettings: ["arn"],
        documents: policyAt("policy"),
    },
    "aws:secretsmanager/secret:Secret": {
        kind: "secret",
        service: "secretsmanager",
        arnShape: secret,
        arnSettings: ["arn"],
        documents: policyAt("policy"),
    },
    "aws:secretsmanager/secretPolicy:SecretPolicy": {
        kind: "secret policy",
        service: "secretsmanager",
        arnShape: secret,
        arnSettings: ["secretArn"],
        documents: policyAt("policy"),
    },
    "aws:kms/key:Key": {
        kind: "KMS key",
        service: "kms",
        arnShape: key,
        arnSettings: ["arn"],
        documents: policyAt("policy"),
    },
    "aws:kms/replicaKey:ReplicaKey": {
        kind: "KMS replica key",
        service: "kms",
        arnShape: key,
        arnSettings: ["arn"],
        documents: policyAt("policy"),
    },
    "aws:kms/externalKey:ExternalKey": {
        kind: "KMS key",
        service: "kms",
        arnShape: key,
        arnSettings: ["arn"],
        documents: policyAt("policy"),
    },
    "aws:kms/replicaExternalKey:ReplicaExternalKey": {
        kind: "KMS replica key",
        service: "kms",
        arnShape: key,
        arnSettings: ["arn"],
        documents: policyAt("policy"),
    },
    "aws:kms/keyPolicy:KeyPolicy": {
        kind: "KMS key policy",
        service: "kms",
        arnShape: key,
        arnSettings: ["keyId"],
        documents: policyAt("policy"),
    },
    "aws:ecr/repositoryPolicy:RepositoryPolicy": {
        kind: "ECR repository policy",
        service: "ecr",
        arnShape: repository,
        arnSettings: [],
        documents: policyAt("policy"),
    },
    "aws:ecr/registryPolicy:RegistryPolicy": {
        kind: "ECR registry policy",
        service: "ecr",
        arnShape: repository,
        arnSettings: [],
        documents: policyAt("policy"),
    },
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": {
        kind: "ECR repository creation template",
        service: "ecr",
        arnShape: repository,
        arnSettings: [],
        documents: policyAt("repositoryPolicy"),
    },
    "aws:ecrpublic/repositoryPolicy:RepositoryPolicy": {
        kind: "ECR Public repository policy",
        service: "ecr-public",
        arnShape: (a) => `arn:aws:ecr-public::${a}:repository/repository`,
        arnSettings: [],
        documents: policyAt("policy"),
    },
    "aws:lambda/permission:Permission": {
        kind: "Lambda permission",
        service: "lambda",
        arnShape: fn,
        arnSettings: ["function"],
        documents: (p) => [{ setting: "principal", document: permissionStatement(p) }],
    },
    "aws:lambda/resourcePolicy:ResourcePolicy": {
        kind: "Lambda resource policy",
        service: "lambda",
        arnShape: fn,
        arnSettings: ["resourceArn"],
        documents: policyAt("policy"),
    },
    "aws:efs/fileSystemPolicy:FileSystemPolicy": {
        kind: "EFS file system policy",
        service: "elasticfilesystem",
        arnShape: fileSystem,
        arnSettings: [],
        documents: policyAt("policy"),
    },
    "aws:dynamodb/resourcePolicy:ResourcePolicy": {
        kind: "DynamoDB resource policy",
        service: "dynamodb",
        arnShape: table,
        arnSettings: ["resourceArn"],
        documents: policyAt("policy"),
    },
};

/**
 * The statement Lambda's AddPermission writes into the function's policy (Lambda Developer
 * Guide, "Using resource-based policies in Lambda"): the principal as given, the source ARN,
 * account and organisation as conditions, and the function URL's auth type.
 */
function permissionStatement(props: Props): unknown {
    const values = [props.principal, props.action, props.sourceArn, props.sourceAccount, props.principalOrgId];
    if (values.some(isUnknown) || isUnknown(props.functionUrlAuthType)) return undefined;
    const principal = asString(props.principal)?.trim() ?? "";
    const condition: Record<string, Record<string, string>> = {};
    const add = (operator: string, conditionKey: string, value: unknown) => {
        const text = asString(value);
        if (text) condition[operator] = { ...condition[operator], [conditionKey]: text };
    };
    add("ArnLike", "AWS:SourceArn", props.sourceArn);
    add("StringEquals", "AWS:SourceAccount", props.sourceAccount);
    add("StringEquals", "aws:PrincipalOrgID", props.principalOrgId);
    add("StringEquals", "lambda:FunctionUrlAuthType", props.functionUrlAuthType);
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal:
                    principal === "*"
                        ? "*"
                        : /^(\d{12}|arn:)/.test(principal)
                          ? { AWS: principal }
                          : { Service: principal },
                Action: asString(props.action) ?? "lambda:InvokeFunction",
                Resource: "*",
                ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
            },
        ],
    };
}

/** The resource's ARN, from its settings or a concrete ARN of its service among the policy's resources; else one shaped like it. */
function targetArn(source: PolicySource, props: Props, document: unknown, own: readonly string[]): string {
    const candidates = [
        ...source.arnSettings.map((s) => props[s]),
        ...statementsOf(document).flatMap((s) => stringsOf(s.Resource)),
    ];
    const arn = candidates
        .map(asString)
        .find((a) => a?.startsWith(`arn:aws:${source.service}:`) && !/[*?]|\$\{/.test(a) && accountOf(a) !== "");
    return arn ?? source.arnShape(own[0] ?? "000000000001");
}

function describe(exposure: Exposure, kind: string, setting: string, name: string): string {
    const statement = setting === "principal" ? "" : ` ${exposure.statement}`;
    const fix = exposure.who.includes("acting for")
        ? "add conditions on aws:SourceAccount and aws:SourceArn naming this stack's own resources"
        : "name this stack's principals in Principal, or add a condition AWS checks on the caller (aws:PrincipalOrgID, aws:PrincipalAccount, aws:SourceVpce)";
    return (
        `${kind} "${name}": ${setting}${statement} lets ${exposure.who} call ${describeActions(exposure.actions, exposure.asWritten)}; ` +
        `${fix}, so no one outside the stack's accounts can.`
    );
}

export const resourcePoliciesNotPublic = resourcePolicy({
    name: "resource-policies-not-public",
    description:
        "No resource policy lets anyone outside the stack's accounts in: SNS topics, Secrets Manager secrets, KMS keys, ECR repositories and registry, " +
        "Lambda functions (lambda.Permission, lambda.ResourcePolicy), EFS file systems and DynamoDB tables, inline or as separate policy resources. " +
        'Judged by an IAM policy engine as AWS evaluates the document: Principal "*", {"AWS": "*"}, ["*"], NotPrincipal, another account\'s ARN or ' +
        "root, or an AWS service acting for any account, unless a condition that the caller cannot choose (aws:PrincipalOrgID, aws:SourceAccount, " +
        "aws:SourceVpce, kms:CallerAccount, ...) or a Deny keeps outsiders out. IfExists, negated operators and keys such as aws:UserAgent restrict nothing.",
    enforcementLevel: "mandatory",
    config: {
        trustedAccounts: {
            type: "array",
            items: { type: "string", pattern: "^[0-9]{12}$" },
            description:
                "Accounts besides the resource's own that its policies may name (a partner, the organisation's log archive).",
            default: [] as string[],
        },
    },
    resourceTypes: Object.keys(SOURCES),
    validate: async ({ type, name, props, providerProps }: CheckedResource, { trustedAccounts }, report) => {
        const source = SOURCES[type];
        for (const { setting, document } of source.documents(props)) {
            const known = [...source.arnSettings.map((s) => asString(props[s]) ?? "")].map(accountOf);
            const own = [...new Set([...known, ...providerAccounts(providerProps), ...trustedAccounts])].filter(
                (a) => a !== "",
            );
            const arn = targetArn(source, props, document, own);
            const ownAccounts = [...new Set([accountOf(arn), ...own])].filter((a) => a !== "000000000001");
            for (const exposure of await outsideAccess(document, { arn, service: source.service, ownAccounts }))
                report(describe(exposure, source.kind, setting, name));
        }
    },
});

export const lambdaFunctionUrlAuth = resourcePolicy({
    name: "lambda-function-url-auth",
    description:
        'Lambda function URLs require IAM authentication (authorizationType "AWS_IAM"): with "NONE" the URL answers anyone on the internet who finds it.',
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: ["aws:lambda/functionUrl:FunctionUrl"],
    validate: ({ name, props }, _config, report) => {
        const auth = props.authorizationType;
        if (isUnknown(auth) || auth === "AWS_IAM") return;
        report(
            `Lambda function URL "${name}" has authorizationType ${JSON.stringify(auth ?? "unset")}, so anyone on the internet can invoke it; ` +
                'set authorizationType: "AWS_IAM" and grant lambda:InvokeFunctionUrl to the principals that call it.',
        );
    },
});

export const ecrNoPublicRepositories = resourcePolicy({
    name: "ecr-no-public-repositories",
    description:
        "No ECR Public repository (aws.ecrpublic.Repository) unless allowPublicRepositories: every image pushed to one can be pulled by anyone, " +
        "so a build that pushes an internal image there publishes it.",
    enforcementLevel: "mandatory",
    config: {
        allowPublicRepositories: {
            type: "boolean",
            description: "Allow ECR Public repositories (for images meant to be published).",
            default: false,
        },
    },
    resourceTypes: ["aws:ecrpublic/repository:Repository"],
    validate: ({ name, props }, { allowPublicRepositories }, report) => {
        if (allowPublicRepositories) return;
        const repository = isSet(props.repositoryName) ? ` (${String(props.repositoryName)})` : "";
        report(
            `ECR Public repository "${name}"${repository} serves every image pushed to it to anyone on the internet; ` +
                "use a private aws.ecr.Repository, or set allowPublicRepositories in this stack's policy config for images meant to be published.",
        );
    },
});
