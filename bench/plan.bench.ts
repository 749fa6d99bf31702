/**
 * How long the offline plan of the prod stack takes, against a bare `node` process that only
 * loads the same Pulumi SDKs (the floor any in-process plan pays). Runs them alternately so
 * both see the same machine load, then prints each median and the median ratio.
 *
 *   npm run bench            # 7 rounds
 *   npm run bench -- 15      # more rounds
 *
 * Target: ratio ≤ 1.5 on a 2-core machine (the offline-plan issues asked ≤ 2.0, then ≤ 1.5).
 */
import { spawnSync } from "child_process";
import * as path from "path";

const REPO_ROOT = path.resolve(__dirname, "..");
const SDKS = ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/awsx", "@pulumi/eks", "@pulumi/kubernetes", "@pulumi/policy"];

function timeRun(args: string[]): number {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (result.status !== 0 && result.status !== 1) {
        throw new Error(`${args.join(" ")} exited ${result.status}: ${result.stderr.toString().slice(0, 500)}`);
    }
    return seconds;
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const rounds = Number(process.argv[2] ?? 7);
// Exactly what `npm run plan -- --stack prod --json` runs, without npm's own start-up.
const planScript = (require(path.join(REPO_ROOT, "package.json")) as { scripts: { plan: string } }).scripts.plan;
const planArgs = [...planScript.split(/\s+/).slice(1), "--stack", "prod", "--json"];
const bareArgs = ["-e", SDKS.map((sdk) => `require(${JSON.stringify(sdk)});`).join("")];

const plan: number[] = [];
const bare: number[] = [];
const ratios: number[] = [];
timeRun(planArgs); // warm the file cache once; not counted
for (let i = 0; i < rounds; i++) {
    const p = timeRun(planArgs);
    const b = timeRun(bareArgs);
    plan.push(p);
    bare.push(b);
    ratios.push(p / b);
}
console.log(`rounds: ${rounds}`);
console.log(`prod plan (--json):   median ${median(plan).toFixed(2)} s`);
console.log(`bare node + SDKs:     median ${median(bare).toFixed(2)} s`);
console.log(`median ratio:         ${median(ratios).toFixed(2)} (target ≤ 1.5)`);
