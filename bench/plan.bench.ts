/**
 * How long the offline plan takes, against a bare `node` process that only loads the same
 * Pulumi SDKs (the floor any plan of a Pulumi program pays). Each plan run is paired with a
 * floor run right after it, so both see the same machine load; it prints medians, never asserts.
 *
 * 1. The prod stack: median plan time, median floor time, median ratio (target ≤ 2.0).
 * 2. Growth in teams: prod with 3, 30 and 100 teams, each with an inference pipeline
 *    (bench/team-stacks.ts), with resources, time per 100 resources and the ratio to the floor.
 *
 * Wall time is what a user waits; CPU time (user + system, the plan and its program's process
 * together) is what the machine spent, and moves less when other work shares the cores. Each
 * line carries the 1-minute load average when it was taken: a figure taken under load is slower.
 *
 *   npm run bench                                   # 7 prod rounds, 3 rounds per team count
 *   npm run bench -- --rounds 15 --teams 3,30,100 --team-rounds 5
 *   npm run bench -- --teams none                   # the prod ratio alone
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { teamStack, teamStackName, withTeamStack } from "./team-stacks";

const REPO_ROOT = path.resolve(__dirname, "..");
const SDKS = ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/awsx", "@pulumi/eks", "@pulumi/kubernetes", "@pulumi/policy"];

interface Timing {
    /** Seconds on the clock. */
    readonly wall: number;
    /** CPU seconds of the process and every descendant it waited for; NaN where /proc is missing. */
    readonly cpu: number;
}

/** Clock ticks a second, for /proc's times (`getconf CLK_TCK`; 100 on Linux). */
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim()) || 100;

/** CPU seconds this process's waited-for children used so far (/proc/self/stat cutime + cstime). */
function childrenCpuSeconds(): number {
    try {
        const stat = fs.readFileSync("/proc/self/stat", "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        // After the command name: field 3 is fields[0], so cutime (16) and cstime (17) are fields[13], fields[14].
        return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
    } catch {
        return NaN;
    }
}

function timeRun(args: string[]): Timing {
    const cpuBefore = childrenCpuSeconds();
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] });
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    if (result.status !== 0 && result.status !== 1) {
        throw new Error(`${args.join(" ")} exited ${result.status}: ${result.stderr.toString().slice(0, 500)}`);
    }
    return { wall, cpu: childrenCpuSeconds() - cpuBefore };
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Exactly what `npm run plan -- --stack <stack> --json` runs, without npm's own start-up. */
function planArgs(stack: string): string[] {
    const planScript = (require(path.join(REPO_ROOT, "package.json")) as { scripts: { plan: string } }).scripts.plan;
    return [...planScript.split(/\s+/).slice(1), "--stack", stack, "--json"];
}

const BARE_ARGS = ["-e", SDKS.map((sdk) => `require(${JSON.stringify(sdk)});`).join("")];

/** The number of resources the plan of `stack` shows; the run also warms the file caches. */
function resourceCount(stack: string): number {
    const result = spawnSync(process.execPath, planArgs(stack), { cwd: REPO_ROOT, maxBuffer: 1 << 30 });
    if (result.status !== 0 && result.status !== 1)
        throw new Error(`plan of ${stack} exited ${result.status}: ${result.stderr.toString().slice(0, 500)}`);
    return (JSON.parse(result.stdout.toString()) as { resources: unknown[] }).resources.length;
}

interface Rounds {
    readonly plan: Timing[];
    readonly bare: Timing[];
    readonly ratios: number[];
    readonly load: number[];
}

/** `rounds` plan runs of `stack`, each followed by a floor run. */
function measure(stack: string, rounds: number): Rounds {
    const measured: Rounds = { plan: [], bare: [], ratios: [], load: [] };
    for (let i = 0; i < rounds; i++) {
        measured.load.push(os.loadavg()[0]);
        const plan = timeRun(planArgs(stack));
        const bare = timeRun(BARE_ARGS);
        measured.plan.push(plan);
        measured.bare.push(bare);
        measured.ratios.push(plan.wall / bare.wall);
    }
    return measured;
}

const seconds = (values: number[]) => `${median(values).toFixed(2)} s`;
const loadOf = (r: Rounds) => `load ${Math.min(...r.load).toFixed(2)}–${Math.max(...r.load).toFixed(2)}`;

function prodRatio(rounds: number): void {
    resourceCount("prod");
    const r = measure("prod", rounds);
    console.log(`prod stack, ${rounds} rounds (${loadOf(r)})`);
    console.log(
        `  plan (--json):    median ${seconds(r.plan.map((t) => t.wall))} wall, ${seconds(r.plan.map((t) => t.cpu))} CPU`,
    );
    console.log(
        `  bare node + SDKs: median ${seconds(r.bare.map((t) => t.wall))} wall, ${seconds(r.bare.map((t) => t.cpu))} CPU`,
    );
    console.log(`  median ratio:     ${median(r.ratios).toFixed(2)} (target ≤ 2.0)`);
}

async function teamGrowth(teamCounts: number[], rounds: number): Promise<void> {
    console.log(`growth in teams (each with an inference pipeline), ${rounds} rounds each, medians`);
    console.log("  teams  resources   wall s    CPU s  wall s/100 res  CPU s/100 res  floor s  ratio  load (1 min)");
    for (const teams of teamCounts) {
        await withTeamStack(teamStack(teams), () => {
            const stack = teamStackName(teams);
            const resources = resourceCount(stack);
            const r = measure(stack, rounds);
            const wall = median(r.plan.map((t) => t.wall));
            const cpu = median(r.plan.map((t) => t.cpu));
            const cells = [
                String(teams).padStart(7),
                String(resources).padStart(10),
                wall.toFixed(2).padStart(8),
                cpu.toFixed(2).padStart(8),
                ((wall / resources) * 100).toFixed(3).padStart(15),
                ((cpu / resources) * 100).toFixed(3).padStart(14),
                median(r.bare.map((t) => t.wall))
                    .toFixed(2)
                    .padStart(8),
                median(r.ratios).toFixed(2).padStart(6),
                `  ${Math.min(...r.load).toFixed(2)}–${Math.max(...r.load).toFixed(2)}`,
            ];
            console.log(cells.join(""));
        });
    }
}

function flag(name: string, fallback: string): string {
    const at = process.argv.indexOf(name);
    return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

async function main(): Promise<void> {
    const rounds = Number(flag("--rounds", "7"));
    const teamRounds = Number(flag("--team-rounds", "3"));
    const teamsFlag = flag("--teams", "3,30,100");
    const teamCounts = teamsFlag === "none" ? [] : teamsFlag.split(",").map(Number);
    const bad = [
        ...(Number.isInteger(rounds) && rounds >= 0
            ? []
            : [`--rounds must be a whole number, 0 to skip the prod ratio`]),
        ...(Number.isInteger(teamRounds) && teamRounds > 0 ? [] : [`--team-rounds must be a whole number above 0`]),
        ...(teamCounts.every((n) => Number.isInteger(n) && n >= 1 && n <= 999)
            ? []
            : [`--teams must list team counts from 1 to 999, such as 3,30,100, or be "none"`]),
    ];
    if (bad.length > 0) {
        for (const line of bad) console.error(`error: ${line}`);
        process.exitCode = 2;
        return;
    }
    console.log(`${os.cpus().length} cores, node ${process.version}`);
    if (rounds > 0) prodRatio(rounds);
    if (teamCounts.length > 0) await teamGrowth(teamCounts, teamRounds);
}

void main();
