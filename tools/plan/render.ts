/** The offline plan's three outputs: a preview-like tree with policy and cost reports, JSON, and a Mermaid diagram. */
import { maskSecrets } from "gpu-dev-platform-policies/lib/wire";
import type { Violation } from "gpu-dev-platform-policies/runner";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { componentOf } from "@gpu-platform/offline/tree";
import type { CostEstimate } from "./cost";

export interface PlanResult {
    readonly project: string;
    readonly stack: string;
    readonly program: string;
    /** Everything the program registered or read, the stack resource excepted. */
    readonly resources: RecordedResource[];
    /** The stack's outputs: its exports, or what its exported function returned. Secrets still wrapped. */
    readonly outputs: Record<string, unknown>;
    readonly violations: Violation[];
    readonly cost: CostEstimate;
    /** The --config-file and --set options that changed the stack's config, values elided (they may be secrets). */
    readonly configChanges: string[];
    /** Where the policy config came from, for the report. */
    readonly policyConfig: string;
    /** The region the stack deploys to, when it differs from the catalog's price region. */
    readonly stackRegion?: string;
    /** The stack's monthly budget (stack-monthly-budget in the policy config), unless that policy is off. */
    readonly budget?: { readonly monthlyUsd: number; readonly level: string };
}

/** The `--json` document: exactly the documented contract, nothing else. */
export function toJson(plan: PlanResult): string {
    return JSON.stringify(
        {
            stack: plan.stack,
            program: plan.program,
            resources: plan.resources.map((r) => ({
                urn: r.urn,
                type: r.type,
                name: r.name,
                parent: r.parent,
                inputs: maskSecrets(r.inputs),
                ...(r.read ? { read: true } : {}),
            })),
            outputs: maskSecrets(plan.outputs),
            violations: plan.violations.map((v) => ({
                policy: v.policy,
                level: v.level,
                urn: v.urn,
                message: v.message,
            })),
            cost: {
                currency: plan.cost.currency,
                region: plan.cost.region,
                priceDate: plan.cost.priceDate,
                monthlyIdle: plan.cost.monthlyIdle,
                monthlyMax: plan.cost.monthlyMax,
                gpuMonthlyIdle: plan.cost.gpuMonthlyIdle,
                gpuMonthlyMax: plan.cost.gpuMonthlyMax,
                items: plan.cost.items.map((i) => ({
                    urn: i.urn,
                    description: i.description,
                    monthlyIdle: i.monthlyIdle,
                    monthlyMax: i.monthlyMax,
                })),
            },
        },
        null,
        2,
    );
}

/** A tree like `pulumi preview` prints, then the policy report, then the cost table. */
export function toText(plan: PlanResult): string {
    const lines: string[] = [];
    lines.push(`Offline plan of stack ${plan.stack} (${plan.program})`);
    if (plan.configChanges.length > 0)
        lines.push(
            ...wrap(
                `Config changed from Pulumi.${plan.stack}.yaml (values not shown) by: ${plan.configChanges.join(", ")}`,
                "",
            ),
        );
    lines.push("No cloud calls were made: ids, ARNs and endpoints below are placeholders.", "");

    // As `pulumi preview` marks them: "+" to create, ">" to read. The stack's row is the tree's
    // root; the count below, like --json's resources, is of what the program itself registers.
    const rows: [string, string, string][] = [["+", `pulumi:pulumi:Stack`, `${plan.project}-${plan.stack}`]];
    const children = childrenByParent(plan.resources);
    const walk = (parent: string | null, prefix: string) => {
        const kids = children.get(parent) ?? [];
        kids.forEach((child, i) => {
            const last = i === kids.length - 1;
            rows.push([child.read ? ">" : "+", `${prefix}${last ? "└─ " : "├─ "}${child.type}`, child.name]);
            walk(child.urn, `${prefix}${last ? "   " : "│  "}`);
        });
    };
    walk(null, "");
    const nameWidth = Math.max(...rows.map(([, , n]) => n.length));
    const width = Math.max(24, Math.min(Math.max(...rows.map(([, t]) => t.length)) + 2, LINE_WIDTH - 5 - nameWidth));
    lines.push(` ${"    Type".padEnd(width + 4)}Name`);
    for (const [op, type, name] of rows) lines.push(clip(` ${op}   ${elide(type, width - 2).padEnd(width)}${name}`));
    const reads = plan.resources.filter((r) => r.read).length;
    lines.push("", "Resources:", `    + ${plan.resources.length - reads} to create`);
    if (reads > 0) lines.push(`    > ${reads} to read`);
    lines.push("");

    lines.push(...outputLines(plan.outputs));

    lines.push(`Policies (config: ${plan.policyConfig}):`);
    if (plan.violations.length === 0) lines.push("    no violations");
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    for (const v of plan.violations) {
        const target = v.urn ? `${byUrn.get(v.urn)?.type ?? "?"} ${byUrn.get(v.urn)?.name ?? v.urn}` : "the stack";
        lines.push(
            clip(`    ${v.level === "mandatory" ? "mandatory" : "advisory "}  [${v.policy}]  ${target}`),
            ...wrap(v.message, "        "),
        );
    }
    const mandatory = plan.violations.filter((v) => v.level === "mandatory").length;
    lines.push(`    ${mandatory} mandatory, ${plan.violations.length - mandatory} advisory`, "");

    lines.push(...costTable(plan, byUrn));
    return lines.join("\n");
}

/** The stack's outputs as `pulumi preview` lists them, secrets shown as "[secret]". */
function outputLines(outputs: Record<string, unknown>): string[] {
    const names = Object.keys(outputs);
    if (names.length === 0) return ["Outputs: none", ""];
    const width = Math.max(...names.map((n) => n.length));
    return [
        "Outputs:",
        ...names.map((name) => clip(`    ${name.padEnd(width)}: ${JSON.stringify(maskSecrets(outputs[name]))}`)),
        "",
    ];
}

/** Every line the text output prints fits this many columns; --json has the whole of each value. */
export const LINE_WIDTH = 120;

/** The line, cut to LINE_WIDTH with "…" where it was cut. */
function clip(line: string): string {
    return line.length <= LINE_WIDTH ? line : `${line.slice(0, LINE_WIDTH - 1)}…`;
}

/** The text cut in its middle to `width`, keeping both ends (a type's package and its kind). */
function elide(text: string, width: number): string {
    if (text.length <= width) return text;
    const keep = width - 1;
    return `${text.slice(0, Math.ceil(keep / 2))}…${text.slice(text.length - Math.floor(keep / 2))}`;
}

/** The text as lines of at most `width` columns after `indent`, broken between words. */
function wrap(text: string, indent: string, width: number = LINE_WIDTH): string[] {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(/\s+/).filter(Boolean)) {
        if (line && indent.length + line.length + 1 + word.length > width) {
            lines.push(clip(indent + line));
            line = word;
        } else line = line ? `${line} ${word}` : word;
    }
    if (line) lines.push(clip(indent + line));
    return lines;
}

function costTable(plan: PlanResult, byUrn: Map<string, RecordedResource>): string[] {
    const { cost } = plan;
    const money = (n: number) =>
        n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }).padStart(13);
    const lines = [
        `Cost (${cost.currency} per 730-hour month, on-demand prices in ${cost.region} read ${cost.priceDate};`,
        "      idle = every pool at its minimum, max = every pool at its maximum):",
    ];
    if (plan.stackRegion && plan.stackRegion !== cost.region)
        lines.push(`    note: the stack deploys to ${plan.stackRegion}; prices are ${cost.region}'s`);
    const group = (key: (i: CostEstimate["items"][number]) => string) => {
        const totals = new Map<string, { idle: number; max: number }>();
        for (const item of cost.items) {
            const t = totals.get(key(item)) ?? { idle: 0, max: 0 };
            t.idle += item.monthlyIdle;
            t.max += item.monthlyMax;
            totals.set(key(item), t);
        }
        return [...totals.entries()];
    };
    const componentName = (urn: string | null) => {
        const c = urn ? byUrn.get(urn) : undefined;
        return c ? `${c.name} (${c.type.split(":").pop()})` : "(stack)";
    };
    // Amounts take 26 columns; a description longer than what is left continues on the next lines.
    const width = Math.min(Math.max(40, ...cost.items.map((i) => i.description.length)) + 2, LINE_WIDTH - 4 - 26);
    const row = (label: string, idle: number, max: number) => {
        const [first, ...rest] = wrap(label, "", width - 2);
        return [`    ${(first ?? "").padEnd(width)}${money(idle)}${money(max)}`, ...rest.map((l) => `      ${l}`)];
    };
    lines.push(`    ${"Item".padEnd(width)}${"Idle".padStart(13)}${"Max".padStart(13)}`);
    for (const item of cost.items) lines.push(...row(item.description, item.monthlyIdle, item.monthlyMax));
    lines.push("", "    By component");
    for (const [name, t] of group((i) => componentName(i.component))) lines.push(...row(name, t.idle, t.max));
    lines.push("", "    By team tag");
    for (const [team, t] of group((i) => i.team ?? "(untagged)")) lines.push(...row(team, t.idle, t.max));
    lines.push(
        "",
        ...row("GPU instances", cost.gpuMonthlyIdle, cost.gpuMonthlyMax),
        ...row("Total", cost.monthlyIdle, cost.monthlyMax),
        ...budgetLines(cost.monthlyMax, plan.budget),
        "    Not included: usage-priced charges (data transfer and NAT processing, S3 storage and requests,",
        "    SQS, CloudWatch ingestion).",
    );
    lines.push(...fargateComparisonLines(cost, row));
    return lines;
}

/** The maximum against the stack's budget, so the limit shows without a violation: "monthly max $X of budget $Y". */
function budgetLines(monthlyMax: number, budget: PlanResult["budget"]): string[] {
    if (!budget)
        return ["    No stack budget: the stack-monthly-budget policy is disabled in this stack's policy config."];
    const usd = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
    const left = Math.round((budget.monthlyUsd - monthlyMax) * 100) / 100;
    return [
        `    monthly max ${usd(monthlyMax)} of budget ${usd(budget.monthlyUsd)} (stack-monthly-budget, ${budget.level}): ` +
            (left >= 0 ? `${usd(left)} to spare` : `${usd(-left)} over`),
    ];
}

/** Each Fargate service against the share of a CPU-pool node its tasks' requests would take on EKS: the same capacity, two prices. */
function fargateComparisonLines(
    cost: CostEstimate,
    row: (label: string, idle: number, max: number) => string[],
): string[] {
    const lines: string[] = [];
    const monthly = (hourly: number, tasks: number) => Math.round(hourly * tasks * 730 * 100) / 100;
    for (const c of cost.comparisons) {
        if (!c.node) continue;
        const eksHourly = c.node.share * c.node.usdPerHour;
        const saving = 1 - c.usdPerTaskHour / eksHourly;
        lines.push(
            "",
            `    Fargate versus the CPU pool: ${c.name}, ${c.vcpu} vCPU / ${c.memoryGb} GB × ${c.tasksIdle}–${c.tasksMax} tasks`,
            ...row(
                `on Fargate ${c.architecture} ($${c.usdPerTaskHour.toFixed(5)}/h a task)`,
                monthly(c.usdPerTaskHour, c.tasksIdle),
                monthly(c.usdPerTaskHour, c.tasksMax),
            ),
            ...row(
                `on the CPU pool: ${(c.node.share * 100).toFixed(2)}% of one ${c.node.type} a task ($${eksHourly.toFixed(5)}/h)`,
                monthly(eksHourly, c.tasksIdle),
                monthly(eksHourly, c.tasksMax),
            ),
            `    Fargate costs ${Math.abs(saving * 100).toFixed(1)}% ${saving >= 0 ? "less" : "more"} than the pool's share for the same requests (a share of`,
            "    a full node; pods that fit into spare capacity the pool already pays for would add nothing).",
        );
    }
    return lines;
}

/**
 * A flowchart of the program's components: a solid arrow from each component to the ones it
 * contains, a dotted arrow where one component uses another's outputs, and a thick labelled
 * arrow for each step of a flow a component declares in its registered `flows` output
 * (`[{ from, to, label }]`, urns of components): how work moves through the running platform,
 * which dependencies alone cannot show (the portal's template run, for one).
 */
export function toMermaid(plan: PlanResult): string {
    const components = plan.resources.filter((r) => !r.custom);
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    const ids = new Map(components.map((c, i) => [c.urn, `c${i}`]));
    const owner = (urn: string | null) => componentOf(urn, byUrn);
    const ancestors = (urn: string): Set<string> => {
        const found = new Set<string>();
        for (let r = byUrn.get(urn); r?.parent; r = byUrn.get(r.parent)) found.add(r.parent);
        return found;
    };

    const lines = ["flowchart TD", `    stack(["${plan.stack}"])`];
    for (const c of components) lines.push(`    ${ids.get(c.urn)}["${c.name}<br/><small>${c.type}</small>"]`);
    for (const c of components)
        lines.push(`    ${c.parent ? (ids.get(c.parent) ?? "stack") : "stack"} --> ${ids.get(c.urn)}`);

    const uses = new Set<string>();
    for (const r of plan.resources) {
        const from = owner(r.custom ? r.parent : r.urn);
        for (const dep of r.dependencies) {
            const to = owner(byUrn.get(dep)?.custom ? byUrn.get(dep)!.parent : dep);
            if (!from || !to || from === to || ancestors(from).has(to) || ancestors(to).has(from)) continue;
            uses.add(`    ${ids.get(from)} -. uses .-> ${ids.get(to)}`);
        }
    }
    lines.push(...[...uses].sort());
    for (const c of components) {
        for (const flow of declaredFlows(c.outputs.flows)) {
            const [from, to] = [ids.get(flow.from), ids.get(flow.to)];
            if (from && to) lines.push(`    ${from} ==>|"${flow.label.replace(/["|]/g, "'")}"| ${to}`);
        }
    }
    return lines.join("\n");
}

function declaredFlows(value: unknown): { from: string; to: string; label: string }[] {
    if (!Array.isArray(value)) return [];
    return value.filter((f: unknown): f is { from: string; to: string; label: string } => {
        const flow = f as Record<string, unknown> | null | undefined;
        return typeof flow?.from === "string" && typeof flow?.to === "string" && typeof flow?.label === "string";
    });
}

function childrenByParent(resources: RecordedResource[]): Map<string | null, RecordedResource[]> {
    const known = new Set(resources.map((r) => r.urn));
    const map = new Map<string | null, RecordedResource[]>();
    for (const r of resources) {
        const parent = r.parent && known.has(r.parent) ? r.parent : null;
        map.set(parent, [...(map.get(parent) ?? []), r]);
    }
    return map;
}
