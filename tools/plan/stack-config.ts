/**
 * Reads a program's Pulumi.yaml and a stack's config the way the Pulumi CLI would hand it to
 * the program: `Pulumi.<stack>.yaml`, then a config file's values, then `--set` overrides;
 * declared defaults from Pulumi.yaml fill what is still missing.
 */
import * as fs from "fs";
import * as path from "path";
import { isScalar, parseDocument, visit } from "yaml";
import { parseJsonOr } from "@gpu-platform/catalog/json";
import { PlanInputError } from "./options";

export interface ProgramProject {
    readonly name: string;
    readonly dir: string;
    /** The program's entry file. */
    readonly main: string;
    /** Declared config keys (namespaced) and their defaults, if any. */
    readonly defaults: Record<string, unknown>;
}

/** Config as Pulumi passes it to a program: namespaced keys, values as strings (structured ones as JSON). */
export type StackConfig = Record<string, string>;

export function readProject(dir: string): ProgramProject {
    const file = path.join(dir, "Pulumi.yaml");
    if (!fs.existsSync(file))
        throw new PlanInputError([`no Pulumi.yaml in ${dir}: --program must name a Pulumi project folder`]);
    const doc = parseYamlFile(file) as {
        name?: unknown;
        runtime?: unknown;
        main?: unknown;
        config?: Record<string, unknown>;
    };
    if (typeof doc?.name !== "string") throw new PlanInputError([`${file}: has no project name`]);
    const runtime =
        typeof doc.runtime === "string" ? doc.runtime : (doc.runtime as { name?: string } | undefined)?.name;
    if (runtime !== "nodejs")
        throw new PlanInputError([`${file}: runtime is "${runtime}"; the offline plan runs nodejs programs`]);

    const mainDir = typeof doc.main === "string" ? path.resolve(dir, doc.main) : dir;
    const main = [path.join(mainDir, "index.ts"), path.join(mainDir, "index.js"), mainDir].find(
        (f) => fs.existsSync(f) && fs.statSync(f).isFile(),
    );
    if (!main) throw new PlanInputError([`${file}: no index.ts or index.js in ${mainDir}`]);

    const defaults: Record<string, unknown> = {};
    for (const [key, declaration] of Object.entries(doc.config ?? {})) {
        const value = isRecord(declaration) ? (declaration.default ?? declaration.value) : declaration;
        if (value !== undefined) defaults[namespaced(key, doc.name)] = value;
    }
    return { name: doc.name, dir, main, defaults };
}

/** Stack names that have a Pulumi.<stack>.yaml in the program folder. */
export function knownStacks(dir: string): string[] {
    return fs
        .readdirSync(dir)
        .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** A stack's config as the CLI hands it to a program, and which of its keys hold secrets. */
export interface ResolvedStack {
    readonly config: StackConfig;
    /** Keys whose values were encrypted (`secure:`); the program sees a placeholder and the SDK treats them as secret. */
    readonly secretKeys: string[];
}

export function resolveStack(
    project: ProgramProject,
    stack: string,
    configFile: string | undefined,
    sets: string[],
): ResolvedStack {
    const stackFile = ["yaml", "yml"]
        .map((ext) => path.join(project.dir, `Pulumi.${stack}.${ext}`))
        .find((f) => fs.existsSync(f));
    if (!stackFile) {
        const stacks = knownStacks(project.dir);
        throw new PlanInputError([
            `unknown stack "${stack}": no Pulumi.${stack}.yaml in ${project.dir} (stacks: ${stacks.join(", ") || "none"})`,
        ]);
    }
    const secretKeys = new Set<string>();
    const values: Record<string, unknown> = { ...project.defaults, ...configOf(stackFile, project.name, secretKeys) };
    if (configFile !== undefined)
        Object.assign(values, configOf(configFile, project.name, secretKeys, "--config-file"));
    for (const assignment of sets) applySet(values, assignment, project.name);
    const config = Object.fromEntries(
        Object.entries(values).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
    );
    return { config, secretKeys: [...secretKeys].filter((key) => Object.hasOwn(config, key)) };
}

/** The config alone, for callers that need no secrets list. */
export function resolveStackConfig(
    project: ProgramProject,
    stack: string,
    configFile: string | undefined,
    sets: string[],
): StackConfig {
    return resolveStack(project, stack, configFile, sets).config;
}

function configOf(file: string, project: string, secretKeys: Set<string>, flag?: string): Record<string, unknown> {
    const doc = parseYamlFile(file, flag);
    if (doc !== null && doc !== undefined && !isRecord(doc))
        throw new PlanInputError([`${file}: must be a mapping with a "config:" key, like a Pulumi.<stack>.yaml`]);
    const config = (doc as { config?: unknown } | undefined)?.config ?? {};
    if (!isRecord(config)) throw new PlanInputError([`${file}: "config:" must be a mapping of keys to values`]);
    return Object.fromEntries(
        Object.entries(config).map(([key, value]) => {
            const plain = withoutSecrets(value);
            if (plain !== value) secretKeys.add(namespaced(key, project));
            return [namespaced(key, project), plain];
        }),
    );
}

/**
 * `--set KEY=VALUE`: KEY is `namespace:key` or `key` (the project's namespace), optionally
 * followed by a path into a structured value, in the syntax of `pulumi config set --path`:
 * `nodePools.h100.maxSize=8`, `teams[0].name=vision` (`teams.0.name` works too). True/false
 * become booleans and integers numbers. A path may append one item to a list, no more, and may
 * not name an object's prototype.
 */
function applySet(values: Record<string, unknown>, assignment: string, project: string): void {
    const eq = assignment.indexOf("=");
    const rawKey = assignment.slice(0, eq);
    const text = assignment.slice(eq + 1);
    const { key, path: pathParts } = parseSetKey(rawKey);
    const fullKey = namespaced(key, project);
    if (pathParts.length === 0) {
        values[fullKey] = text;
        return;
    }
    const fail = (message: string): never => {
        throw new PlanInputError([`--set ${rawKey}: ${message}`]);
    };
    const existing = values[fullKey];
    const root =
        existing === undefined
            ? typeof pathParts[0] === "number"
                ? []
                : {}
            : typeof existing === "string"
              ? parseJsonOr(existing, existing)
              : structuredClone(existing);
    if (!isRecord(root) && !Array.isArray(root))
        fail(`${fullKey} is not a structured value, so it has no path ${pathParts.join(".")}`);
    let node = root as Record<string, unknown> | unknown[];
    pathParts.forEach((part, i) => {
        const last = i === pathParts.length - 1;
        const where = `${fullKey}${pathParts
            .slice(0, i)
            .map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`))
            .join("")}`;
        const value = last ? scalarOf(text) : undefined;
        if (Array.isArray(node)) {
            const index =
                typeof part === "number"
                    ? part
                    : /^\d+$/.test(part)
                      ? Number(part)
                      : fail(`${where} is a list; "${part}" is not an index (0 to ${node.length})`);
            if (index > node.length)
                fail(
                    `${where} has ${node.length} item${node.length === 1 ? "" : "s"}; index ${index} would leave a gap (use 0 to ${node.length})`,
                );
            if (last) node[index] = value;
            else {
                if (!isRecord(node[index]) && !Array.isArray(node[index]))
                    node[index] = typeof pathParts[i + 1] === "number" ? [] : {};
                node = node[index] as Record<string, unknown> | unknown[];
            }
            return;
        }
        const name = String(part);
        if (FORBIDDEN_KEYS.has(name)) fail(`"${name}" cannot be a config key`);
        if (last) node[name] = value;
        else {
            const child = Object.hasOwn(node, name) ? node[name] : undefined;
            if (!isRecord(child) && !Array.isArray(child)) node[name] = typeof pathParts[i + 1] === "number" ? [] : {};
            node = node[name] as Record<string, unknown> | unknown[];
        }
    });
    values[fullKey] = root;
}

/** Keys that would reach an object's prototype instead of setting a property of its own. */
const FORBIDDEN_KEYS = new Set(["__proto__", "prototype", "constructor"]);

/** A `--set` value: a number (whole or decimal, such as a budget of 9000.5), true/false, or else the text. */
function scalarOf(text: string): unknown {
    if (/^-?\d{1,15}(\.\d{1,15})?$/.test(text)) return Number(text);
    return text === "true" ? true : text === "false" ? false : text;
}

/** `ns:key.a[0].b` → key "ns:key", path ["a", 0, "b"]; the namespace's own dots are kept. */
function parseSetKey(rawKey: string): { key: string; path: Array<string | number> } {
    // A namespace is what comes before a colon in the key's first segment; a colon further on
    // belongs to a path segment (a tag key such as `team:owner`).
    const firstSegmentEnd = rawKey.search(/[.[]/);
    const colon = rawKey.indexOf(":");
    const hasNamespace = colon >= 0 && (firstSegmentEnd < 0 || colon < firstSegmentEnd);
    const namespace = hasNamespace ? rawKey.slice(0, colon + 1) : "";
    const segments: Array<string | number> = [];
    for (const dotted of rawKey.slice(namespace.length).split(".")) {
        const match = /^([^[\]]*)((\[\d+\])*)$/.exec(dotted);
        if (!match)
            throw new PlanInputError([
                `--set ${rawKey}: "${dotted}" is not a path segment; use name, name[0] or a list index`,
            ]);
        if (match[1] !== "" || segments.length === 0) segments.push(match[1]);
        for (const index of match[2].match(/\d+/g) ?? []) segments.push(Number(index));
    }
    const [first, ...rest] = segments;
    if (typeof first !== "string" || first === "")
        throw new PlanInputError([`--set ${rawKey}: needs a config key before the path`]);
    return { key: namespace + first, path: rest };
}

function namespaced(key: string, project: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

/** Encrypted values cannot be read offline; the program sees a placeholder. Unchanged values come back as they are. */
function withoutSecrets(value: unknown): unknown {
    if (isRecord(value) && Object.keys(value).length === 1 && typeof value.secure === "string") return "[secret]";
    if (Array.isArray(value)) {
        const items = value.map(withoutSecrets);
        return items.some((item, i) => item !== value[i]) ? items : value;
    }
    if (isRecord(value)) {
        const entries = Object.entries(value).map(([k, v]) => [k, withoutSecrets(v)] as const);
        return entries.some(([k, v]) => v !== value[k]) ? Object.fromEntries(entries) : value;
    }
    return value;
}

/**
 * YAML as data, refusing a mapping that repeats a key (as Pulumi's YAML reader does). The yaml
 * package's own duplicate-key check compares each key with every other, quadratic in a
 * mapping's size, so it is off and the keys are counted here, once each.
 */
function parseYaml(text: string): unknown {
    const doc = parseDocument(text, { merge: true, uniqueKeys: false });
    if (doc.errors.length > 0) throw doc.errors[0];
    visit(doc, {
        Map(_, map) {
            const seen = new Set<unknown>();
            for (const pair of map.items) {
                const key = isScalar(pair.key) ? pair.key.value : pair.key;
                if (key === "<<") continue;
                if (seen.has(key)) throw new Error(`the key "${String(key)}" appears twice in one mapping`);
                seen.add(key);
            }
        },
    });
    return doc.toJS({ maxAliasCount: 100 });
}

/** A stack file is a few kilobytes; anything far larger is a mistake, refused before it is read. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/**
 * Reads a YAML file as Pulumi would: YAML 1.2 with merge keys (`<<: *anchor`), which the CLI's
 * parser accepts. Only regular files, and none over MAX_CONFIG_FILE_BYTES.
 */
function parseYamlFile(file: string, flag?: string): unknown {
    const label = flag ? `${flag} ${file}` : file;
    let stat: fs.Stats;
    try {
        stat = fs.statSync(file);
    } catch {
        throw new PlanInputError([`${label}: no such file`]);
    }
    if (!stat.isFile())
        throw new PlanInputError([
            `${label}: not a regular file; give a YAML file in the format of Pulumi.<stack>.yaml`,
        ]);
    if (stat.size > MAX_CONFIG_FILE_BYTES) {
        throw new PlanInputError([
            `${label}: is ${stat.size.toLocaleString("en-US")} bytes, over the ${MAX_CONFIG_FILE_BYTES.toLocaleString("en-US")}-byte limit for a stack config file`,
        ]);
    }
    try {
        return parseYaml(fs.readFileSync(file, "utf8"));
    } catch (err) {
        const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
        throw new PlanInputError([`${label}: does not parse as YAML: ${message}`]);
    }
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
