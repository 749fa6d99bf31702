/**
 * The whole stack config, key by key, before any section is parsed: keys in a namespace nothing
 * reads (a misspelt project name), names JavaScript objects already carry (`__proto__`,
 * `constructor`), and the helpers that keep every problem one readable line.
 */
import type { SettingProblem } from "../components/shared/problems";

/**
 * Namespaces of the providers the program uses (package.json's @pulumi/* dependencies) and the
 * engine's own; config there belongs to them. Any other namespace but the project's is read by
 * nothing.
 */
export const PROVIDER_NAMESPACES: readonly string[] = ["aws", "awsx", "eks", "kubernetes", "pulumi"];

/** Keys a provider reads that share a name with one of the project's keys: there they are the provider's. */
const PROVIDER_KEYS_LIKE_OURS: Readonly<Record<string, readonly string[]>> = {
    aws: ["region"],
    kubernetes: ["cluster"],
};

/**
 * Names every JavaScript object answers to through its prototype. As a map key or a name they
 * reach Object.prototype in an `in` test or an object lookup, or are dropped (`__proto__`) by
 * code that copies objects; none may name anything in the config.
 */
export const PROTOTYPE_NAMES: ReadonlySet<string> = new Set([
    ...Object.getOwnPropertyNames(Object.prototype),
    "prototype",
]);

/** Config values by key as Pulumi hands them over, and the keys of other namespaces. */
export interface ProjectConfig {
    /** The project's keys without the namespace, prototype-named keys removed at every depth. */
    readonly values: Record<string, unknown>;
    readonly problems: SettingProblem[];
}

/**
 * Splits the config into the project's keys (`<project>:<key>`, or bare keys) and reports keys
 * of namespaces nothing reads, and prototype names anywhere, each with the closest valid key.
 */
export function projectConfigOf(
    raw: Record<string, unknown>,
    project: string,
    ownKeys: readonly string[],
): ProjectConfig {
    const values: Record<string, unknown> = {};
    const problems: SettingProblem[] = [];
    for (const [fullKey, value] of Object.entries(raw)) {
        const colon = fullKey.indexOf(":");
        const namespace = colon >= 0 ? fullKey.slice(0, colon) : project;
        // Pulumi's older key form `<namespace>:config:<key>` means `<namespace>:<key>`.
        const key = colon >= 0 ? fullKey.slice(colon + 1).replace(/^config:/, "") : fullKey;
        if (namespace !== project) {
            const problem = foreignKeyProblem(
                fullKey,
                namespace,
                key,
                project,
                ownKeys,
                problems.length < MAX_SUGGESTIONS,
            );
            if (problem) problems.push(problem);
            continue;
        }
        if (PROTOTYPE_NAMES.has(key)) {
            problems.push(prototypeNameProblem(quoteKey(key), key));
            continue;
        }
        values[key] = withoutPrototypeKeys(value, quoteKey(key), problems, 1);
    }
    return { values, problems };
}

/** Past this many problems, keys get no closest-key suggestion: each costs an edit distance per candidate. */
export const MAX_SUGGESTIONS = 1000;

/** No key of the config nests deeper; anything deeper is refused rather than walked. */
const MAX_DEPTH = 16;

function foreignKeyProblem(
    fullKey: string,
    namespace: string,
    key: string,
    project: string,
    ownKeys: readonly string[],
    suggest: boolean,
): SettingProblem | undefined {
    const ours = ownKeys.includes(key) ? key : suggest ? closest(key, ownKeys) : undefined;
    if (PROVIDER_NAMESPACES.includes(namespace)) {
        // A provider's namespace is the provider's, unless the key is plainly one of ours.
        if (!ownKeys.includes(key) || (PROVIDER_KEYS_LIKE_OURS[namespace] ?? []).includes(key)) return undefined;
        return {
            key: fullKey,
            message: `is a key of this project in the ${namespace} provider's namespace, which ignores it; did you mean ${project}:${key}?`,
        };
    }
    const nearNamespace = suggest ? closest(namespace, [project, ...PROVIDER_NAMESPACES]) : undefined;
    const guess =
        nearNamespace === project || (nearNamespace === undefined && ours !== undefined)
            ? `${project}:${ours ?? key}`
            : nearNamespace !== undefined
              ? `${nearNamespace}:${key}`
              : undefined;
    const readers = `this project reads ${project}:…, its providers ${PROVIDER_NAMESPACES.map((n) => `${n}:`).join(", ")}`;
    return {
        key: fullKey,
        message: `is in namespace "${namespace}", which nothing reads (${readers}); ${guess ? `did you mean ${guess}?` : "remove it"}`,
    };
}

/**
 * A copy of `value` without prototype-named keys at any depth, and without anything nested past
 * MAX_DEPTH; each one dropped is reported under its path.
 */
function withoutPrototypeKeys(value: unknown, path: string, problems: SettingProblem[], depth: number): unknown {
    if (typeof value !== "object" || value === null) return value;
    if (depth > MAX_DEPTH) {
        problems.push({ key: path, message: `nests more than ${MAX_DEPTH} levels deep; no config key does` });
        return undefined;
    }
    if (Array.isArray(value))
        return value.map((item, i) => withoutPrototypeKeys(item, `${path}[${i}]`, problems, depth + 1));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
        const itemPath = `${path}${segment(key)}`;
        if (PROTOTYPE_NAMES.has(key)) problems.push(prototypeNameProblem(itemPath, key));
        else copy[key] = withoutPrototypeKeys(item, itemPath, problems, depth + 1);
    }
    return copy;
}

export function prototypeNameProblem(key: string, name: string): SettingProblem {
    return {
        key,
        message: `"${name}" is a name every JavaScript object already has (Object.prototype); it cannot name a key, pool, profile, class or team: choose another name`,
    };
}

/** `.name`, or `["odd key"]` for a key that would not read as one path segment. */
export function segment(key: string): string {
    return /^[\w@/+=-][\w.@/+=:-]*$/.test(key) && !key.endsWith(".") ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** A top-level key as a config path. */
function quoteKey(key: string): string {
    return segment(key).replace(/^\./, "");
}

/**
 * The candidate nearest `word` by edit distance (a swap of two neighbours counts once, case is
 * ignored), or undefined when none is close enough to be a likely misspelling.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
    if (word.length > 64) return undefined; // no key is that long; a misspelling of one is not either
    const limit = Math.max(2, Math.floor(word.length / 4));
    let best: string | undefined;
    let bestDistance = limit + 1;
    for (const candidate of candidates) {
        // Lengths alone can rule a candidate out; this keeps long candidate lists cheap.
        if (Math.abs(candidate.length - word.length) >= bestDistance) continue;
        const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
        if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
    }
    return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
    const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) rows[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
                rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
        }
    }
    return rows[a.length][b.length];
}

/** Names for a message: all of a short list, the first few and a count of a long one. */
export function someOf(names: readonly string[], max = 8): string {
    if (names.length === 0) return "none";
    if (names.length <= max) return names.join(", ");
    return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

/** The longest problem message printed; anything longer is cut, so one value cannot flood the output. */
const MAX_MESSAGE_LENGTH = 600;

/**
 * A problem as one printable line: control characters (a newline in a key or a value) escaped,
 * and an overlong message cut.
 */
export function asOneLine(problem: SettingProblem): SettingProblem {
    const clean = (text: string) =>
        // eslint-disable-next-line no-control-regex -- control characters are what this escapes
        text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
    const message = clean(problem.message);
    return {
        key: clean(problem.key),
        message:
            message.length > MAX_MESSAGE_LENGTH
                ? `${message.slice(0, MAX_MESSAGE_LENGTH)}… (${message.length} characters)`
                : message,
    };
}
