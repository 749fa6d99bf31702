/**
 * Reads a program's Pulumi.yaml and a stack's config the way the Pulumi CLI would hand it to
 * the program: `Pulumi.<stack>.yaml`, then a config file's values, then `--set` overrides;
 * declared defaults from Pulumi.yaml fill what is still missing.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
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
    if (!fs.existsSync(file)) throw new PlanInputError([`no Pulumi.yaml in ${dir}: --program must name a Pulumi project folder`]);
    const doc = parseYamlFile(file, "Pulumi.yaml") as { name?: unknown; runtime?: unknown; main?: unknown; config?: Record<string, unknown> };
    if (typeof doc?.name !== "string") throw new PlanInputError([`${file}: has no project name`]);
    const runtime = typeof doc.runtime === "string" ? doc.runtime : (doc.runtime as { name?: string } | undefined)?.name;
    if (runtime !== "nodejs") throw new PlanInputError([`${file}: runtime is "${runtime}"; the offline plan runs nodejs programs`]);

    const mainDir = typeof doc.main === "string" ? path.resolve(dir, doc.main) : dir;
    const main = [path.join(mainDir, "index.ts"), path.join(mainDir, "index.js"), mainDir].find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
    if (!main) throw new PlanInputError([`${file}: no index.ts or index.js in ${mainDir}`]);

    const defaults: Record<string, unknown> = {};
    for (const [key, declaration] of Object.entries(doc.config ?? {})) {
        const value = isRecord(declaration) ? declaration.default ?? declaration.value : declaration;
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

export function resolveStack(project: ProgramProject, stack: string, configFile: string | undefined, sets: string[]): ResolvedStack {
    const stackFile = ["yaml", "yml"].map((ext) => path.join(project.dir, `Pulumi.${stack}.${ext}`)).find((f) => fs.existsSync(f));
    if (!stackFile) {
        const stacks = knownStacks(project.dir);
        throw new PlanInputError([`unknown stack "${stack}": no Pulumi.${stack}.yaml in ${project.dir} (stacks: ${stacks.join(", ") || "none"})`]);
    }
    const secretKeys = new Set<string>();
    const values: Record<string, unknown> = { ...project.defaults, ...configOf(stackFile, project.name, secretKeys) };
    if (configFile !== undefined) {
        if (!fs.existsSync(configFile)) throw new PlanInputError([`--config-file ${configFile}: no such file`]);
        Object.assign(values, configOf(configFile, project.name, secretKeys));
    }
    for (const assignment of sets) applySet(values, assignment, project.name);
    const config = Object.fromEntries(Object.entries(values).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]));
    return { config, secretKeys: [...secretKeys].filter((key) => key in config) };
}

/** The config alone, for callers that need no secrets list. */
export function resolveStackConfig(project: ProgramProject, stack: string, configFile: string | undefined, sets: string[]): StackConfig {
    return resolveStack(project, stack, configFile, sets).config;
}

function configOf(file: string, project: string, secretKeys: Set<string>): Record<string, unknown> {
    const doc = parseYamlFile(file, path.basename(file));
    if (doc !== null && doc !== undefined && !isRecord(doc)) throw new PlanInputError([`${file}: must be a mapping with a "config:" key, like a Pulumi.<stack>.yaml`]);
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
 * followed by a dotted path into a structured value (`nodePools.h100.maxSize=8`), where, as
 * with `pulumi config set --path`, true/false become booleans and integers numbers.
 */
function applySet(values: Record<string, unknown>, assignment: string, project: string): void {
    const eq = assignment.indexOf("=");
    const rawKey = assignment.slice(0, eq);
    const text = assignment.slice(eq + 1);
    const [key, ...pathParts] = splitNamespacedPath(rawKey);
    const fullKey = namespaced(key, project);
    if (pathParts.length === 0) {
        values[fullKey] = text;
        return;
    }
    const existing = values[fullKey];
    const root = typeof existing === "string" ? tryJson(existing) : structuredClone(existing ?? {});
    if (!isRecord(root) && !Array.isArray(root)) throw new PlanInputError([`--set ${rawKey}: ${fullKey} is not a structured value, so it has no path ${pathParts.join(".")}`]);
    let node: Record<string, unknown> = root as Record<string, unknown>;
    for (const part of pathParts.slice(0, -1)) {
        if (!isRecord(node[part]) && !Array.isArray(node[part])) node[part] = {};
        node = node[part] as Record<string, unknown>;
    }
    node[pathParts[pathParts.length - 1]] = /^-?\d+$/.test(text) ? Number(text) : text === "true" ? true : text === "false" ? false : text;
    values[fullKey] = root;
}

/** `ns:key.a.b` → ["ns:key", "a", "b"]; the namespace's own dots are kept. */
function splitNamespacedPath(rawKey: string): string[] {
    const colon = rawKey.indexOf(":");
    const namespace = colon >= 0 ? rawKey.slice(0, colon + 1) : "";
    const [first, ...rest] = rawKey.slice(colon + 1).split(".");
    return [namespace + first, ...rest];
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

function parseYamlFile(file: string, label: string): unknown {
    try {
        return parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
        throw new PlanInputError([`${label === path.basename(file) ? file : label}: does not parse as YAML: ${message}`]);
    }
}

function tryJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
