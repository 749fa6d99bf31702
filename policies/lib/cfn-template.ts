/**
 * A CloudFormation template as data: JSON or YAML (with the short forms `!Ref`, `!Sub`, `!If`,
 * ...), its resources with their intrinsic functions worked out as far as the template and the
 * stack's parameters allow (AWS CloudFormation User Guide, "Intrinsic function reference"):
 * - `Ref` to a parameter takes the stack's value, else the parameter's Default; a parameter the
 *   preview does not know takes any of its AllowedValues, or is unknown;
 * - `Ref` / `Fn::GetAtt` to a resource of the template becomes `cfn:<LogicalId>`, so that a
 *   group finds the launch template it names;
 * - `Fn::If` is either branch (conditions are not evaluated: both are possible), `Fn::FindInMap`
 *   any entry it may pick, `Fn::Sub`, `Fn::Join` and `Fn::Select` are worked out when their
 *   parts are known;
 * - anything else is unknown (`UNKNOWN`), which a check judges as the worst case.
 * Numbers among alternatives collapse to the largest (the worst case for a size).
 */
import { parse as parseYaml } from "yaml";
import { AnyOf, Props, UNKNOWN, asList, asRecord, isUnknown } from "./values";

const FUNCTIONS = [
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
    "Length",
    "ToJsonString",
];

/** The short forms, each turned into its JSON form (`!Ref X` → `{ Ref: "X" }`). */
const SHORT_FORMS = [
    { tag: "!Ref", resolve: (v: string) => ({ Ref: v }) },
    { tag: "!Condition", resolve: (v: string) => ({ Condition: v }) },
    ...FUNCTIONS.flatMap((name) => {
        const key = `Fn::${name}`;
        return [
            { tag: `!${name}`, resolve: (v: string) => ({ [key]: name === "GetAtt" ? v.split(".") : v }) },
            {
                tag: `!${name}`,
                collection: "seq" as const,
                resolve: (v: { toJSON(): unknown }) => ({ [key]: v.toJSON() }),
            },
            {
                tag: `!${name}`,
                collection: "map" as const,
                resolve: (v: { toJSON(): unknown }) => ({ [key]: v.toJSON() }),
            },
        ];
    }),
];

export interface TemplateResource {
    readonly logicalId: string;
    readonly type: string;
    readonly properties: Props;
}

export interface ParsedTemplate {
    readonly resources: TemplateResource[];
    /** Transforms (macros) other than AWS's own: they rewrite the template at deploy time. */
    readonly macros: string[];
}

/** The template's text parsed (JSON is YAML), or undefined when it is neither. */
export function parseTemplate(body: string): Props | undefined {
    try {
        return asRecord(parseYaml(body, { customTags: SHORT_FORMS, maxAliasCount: 100, uniqueKeys: false }));
    } catch {
        return undefined;
    }
}

/** The template's resources, intrinsics worked out with the stack's parameter values (`parameters`; UNKNOWN when the preview does not know them). */
export function templateResources(template: Props, parameters: unknown): ParsedTemplate {
    const given = asRecord(parameters) ?? {};
    const declared = asRecord(template.Parameters) ?? {};
    const mappings = asRecord(template.Mappings) ?? {};
    const logicalIds = Object.keys(asRecord(template.Resources) ?? {});
    const param = (name: string): unknown => {
        const value = isUnknown(parameters) ? UNKNOWN : given[name];
        const spec = asRecord(declared[name]) ?? {};
        if (isUnknown(value)) return spec.AllowedValues ? anyOf(asList(spec.AllowedValues)) : UNKNOWN;
        if (value !== undefined) return value;
        return spec.Default ?? UNKNOWN;
    };
    const evaluate = (node: unknown, depth = 0): unknown => {
        if (depth > 64) return UNKNOWN;
        if (Array.isArray(node)) return node.map((n) => evaluate(n, depth + 1));
        const record = asRecord(node);
        if (!record) return node;
        const keys = Object.keys(record);
        if (keys.length === 1 && (keys[0] === "Ref" || keys[0].startsWith("Fn::")))
            return intrinsic(keys[0], record[keys[0]], (n) => evaluate(n, depth + 1));
        return Object.fromEntries(keys.map((k) => [k, evaluate(record[k], depth + 1)]));
    };
    const intrinsic = (fn: string, arg: unknown, ev: (n: unknown) => unknown): unknown => {
        const args = asList(arg);
        switch (fn) {
            case "Ref": {
                const name = String(arg);
                if (logicalIds.includes(name)) return `cfn:${name}`;
                if (name.startsWith("AWS::")) return UNKNOWN;
                return param(name);
            }
            case "Fn::GetAtt":
                return logicalIds.includes(String(args[0])) ? `cfn:${String(args[0])}` : UNKNOWN;
            case "Fn::If":
                return anyOf([ev(args[1]), ev(args[2])]);
            case "Fn::Select": {
                const list = ev(args[1]);
                const index = Number(ev(args[0]));
                return Array.isArray(list) && Number.isInteger(index) && index >= 0 && index < list.length
                    ? list[index]
                    : UNKNOWN;
            }
            case "Fn::Join": {
                const parts = ev(args[1]);
                return Array.isArray(parts) && parts.every((p) => typeof p === "string" || typeof p === "number")
                    ? parts.join(String(ev(args[0])))
                    : UNKNOWN;
            }
            case "Fn::Sub":
                return substitute(typeof arg === "string" ? arg : args[0], asRecord(args[1]) ?? {}, ev);
            case "Fn::FindInMap":
                return findInMap(mappings, args.map(ev));
        }
        return UNKNOWN;
    };
    const substitute = (text: unknown, vars: Props, ev: (n: unknown) => unknown): unknown => {
        if (typeof text !== "string") return UNKNOWN;
        let unresolved = false;
        const out = text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
            const value = Object.hasOwn(vars, name) ? ev(vars[name]) : name.includes(".") ? UNKNOWN : ev({ Ref: name });
            if (typeof value === "string" || typeof value === "number") return String(value);
            unresolved = true;
            return "";
        });
        return unresolved ? UNKNOWN : out;
    };
    const resources = Object.entries(asRecord(template.Resources) ?? {}).flatMap(([logicalId, r]) => {
        const resource = asRecord(r);
        const type = typeof resource?.Type === "string" ? resource.Type : undefined;
        if (!resource || !type) return [];
        return [{ logicalId, type, properties: asRecord(evaluate(resource.Properties)) ?? {} }];
    });
    const transform = template.Transform;
    const macros = (Array.isArray(transform) ? transform : transform === undefined ? [] : [transform])
        .map((t) => (typeof t === "string" ? t : "a macro given by an expression"))
        .filter((t) => !t.startsWith("AWS::"));
    return { resources, macros };
}

/** Any of `values`; numbers (or numeric strings) among them collapse to the largest. */
function anyOf(values: unknown[]): unknown {
    const flat = values.flatMap((v) => (v instanceof AnyOf ? v.values : [v]));
    if (flat.some(isUnknown)) return flat.length === 1 ? UNKNOWN : new AnyOf(flat);
    const numbers = flat.map((v) =>
        typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN,
    );
    if (flat.length > 0 && numbers.every(Number.isFinite)) return Math.max(...numbers);
    return flat.length === 1 ? flat[0] : new AnyOf(flat);
}

/** `Fn::FindInMap [map, top, second]`: the entry, or any entry the unknown keys may pick. */
function findInMap(mappings: Props, [map, top, second]: unknown[]): unknown {
    const level = (node: unknown, key: unknown): unknown[] => {
        const record = asRecord(node) ?? {};
        if (typeof key === "string") return Object.hasOwn(record, key) ? [record[key]] : [];
        return Object.values(record);
    };
    const found = level(mappings, map)
        .flatMap((m) => level(m, top))
        .flatMap((t) => level(t, second));
    return found.length === 0 ? UNKNOWN : anyOf(found);
}
