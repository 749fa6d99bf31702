/**
 * Reading AWS policy documents (identity, trust and resource policies) as AWS evaluates them:
 * statements given as one object or a list, actions and resources as a string or a list,
 * IAM's wildcards (`*` any run, `?` one character) matched case-insensitively in action names,
 * and who a statement lets in.
 *
 * "Public" follows Amazon S3's definition, which IAM Access Analyzer shares ("The meaning of
 * public", S3 User Guide; PublicAccessBlockConfiguration, S3 API Reference): a statement that
 * allows everyone (`Principal: "*"`, `{"AWS": "*"}`, or an Allow with NotPrincipal) is public
 * unless a condition pins a fixed value (no wildcard, no policy variable) of a key that names
 * who or where the caller is: aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner,
 * aws:SourceAccount, aws:userid, s3:x-amz-server-side-encryption-aws-kms-key-id, the caller's
 * organisation, account or ARN (aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn), or a
 * set of source addresses (aws:SourceIp) that is not the whole internet. Only positive
 * operators restrict; `...IfExists`, `ForAllValues:` (true when the key is absent) and negated
 * operators do not.
 */
import { Props, asList, asRecord, asString, isUnknown, parseJsonish } from "./values";
import { admitsTheInternet } from "./addresses";

/** The statements of a policy document given as JSON text or data; none when unknown or unparsable. */
export function statementsOf(document: unknown): Props[] {
    const statement = asRecord(parseJsonish(document))?.Statement;
    return (Array.isArray(statement) ? statement : [statement])
        .map(asRecord)
        .filter((s): s is Props => s !== undefined);
}

/** A field that IAM takes as a string or a list of strings. */
export function stringsOf(value: unknown): string[] {
    return [value, ...asList(value)].map(asString).filter((v): v is string => v !== undefined);
}

export const isAllow = (statement: Props) => statement.Effect === "Allow";

/** `Statement[2]`, or `statement "ReadInput"` when it has a Sid. */
export function statementName(statement: Props, index: number): string {
    const sid = asString(statement.Sid);
    return sid ? `statement "${sid}"` : `Statement[${index}]`;
}

/** IAM's wildcard match (`*` any run, `?` one character), case-insensitive as action names are. */
export function globMatches(pattern: string, text: string): boolean {
    const regex = pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${regex}$`, "is").test(text);
}

/** True when a pattern holds a wildcard. */
export const hasWildcard = (pattern: string) => /[*?]/.test(pattern);

/** Everyone: `"*"`, or `"*"` under any principal type (`{"AWS": "*"}`, `{"AWS": ["*", ...]}`). */
export function allowsEveryone(statement: Props): boolean {
    if (statement.NotPrincipal !== undefined) return isAllow(statement);
    const principal = statement.Principal;
    if (principal === "*") return true;
    return Object.values(asRecord(principal) ?? {}).some((ids) => stringsOf(ids).some((id) => id.trim() === "*"));
}

/** Condition keys that, pinned to fixed values, keep a statement open to everyone from being public (see above). */
const RESTRICTING_KEYS = [
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
];
const RESTRICTING_OPERATORS = /^(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike)$/i;

/**
 * The condition that keeps an open statement from being public, named for a message
 * (`aws:SourceArn`), or undefined when none does.
 */
export function restrictingCondition(statement: Props): string | undefined {
    for (const [operator, entries] of Object.entries(asRecord(statement.Condition) ?? {})) {
        if (/IfExists$/i.test(operator) || /^ForAllValues:/i.test(operator)) continue;
        const base = operator.replace(/^ForAnyValue:/i, "");
        for (const [key, value] of Object.entries(asRecord(entries) ?? {})) {
            if (isUnknown(value)) return key;
            const values = stringsOf(value);
            if (values.length === 0) continue;
            const lower = key.toLowerCase();
            if (lower === "aws:sourceip" && /^IpAddress$/i.test(base) && !admitsTheInternet(values)) return key;
            if (
                RESTRICTING_KEYS.includes(lower) &&
                RESTRICTING_OPERATORS.test(base) &&
                values.every((v) => !hasWildcard(v) && !v.includes("${"))
            )
                return key;
        }
    }
    return undefined;
}
