/**
 * How long stack-config validation takes as a config grows: n node pools, n teams and n
 * pipelines whose team, pool and priority class do not exist (every lookup misses, every
 * message is built). Time per entry should stay flat as n doubles; it grew with n when lookups
 * scanned lists and messages listed every defined name.
 *
 *   node -r esbuild-register bench/config.bench.ts            # n = 1000, 2000, 4000, 8000
 *   node -r esbuild-register bench/config.bench.ts 500 16000  # other sizes
 */
import { validatePlatformConfig } from "../stacks";

function config(n: number): Record<string, unknown> {
    const nodePools: Record<string, unknown> = { system: { instanceType: "m7i.xlarge", minSize: 1, maxSize: 3 } };
    const teams = [];
    const inferencePipelines = [];
    for (let i = 0; i < n; i++) {
        nodePools[`gpu-${i}`] = { instanceType: "p5.48xlarge", maxSize: 1 };
        teams.push({
            name: `team-${i}`,
            costCenter: "CC-1001",
            monthlyBudgetUsd: 1000,
            iamRoleArn: `arn:aws:iam::123456789012:role/team-${i}`,
        });
        inferencePipelines.push({
            name: `pipe-${i}`,
            team: `nobody-${i}`,
            pool: `nowhere-${i}`,
            image: "busybox",
            priorityClass: `none-${i}`,
        });
    }
    return {
        environment: "dev",
        region: "us-east-1",
        cluster: {
            kubernetesVersion: "1.35",
            publicAccessCidrs: ["203.0.113.0/24"],
            adminRoleArns: Array.from({ length: n }, (_, i) => `arn:aws:iam::123456789012:role/admin-${i}`),
        },
        nodePools,
        teams,
        inferencePipelines,
        tags: { team: "platform", "cost-center": "CC-0001", budget: "platform-dev" },
    };
}

const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [1000, 2000, 4000, 8000];
validatePlatformConfig(config(100), "gpu-platform", "dev"); // warm up
console.log("entries  JSON size   problems   time     per entry");
for (const n of sizes) {
    const raw = config(n);
    const bytes = JSON.stringify(raw).length;
    const start = process.hrtime.bigint();
    const { problems } = validatePlatformConfig(raw, "gpu-platform", "dev");
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    console.log(
        `${String(n).padStart(7)}  ${(bytes / 1e6).toFixed(2).padStart(6)} MB  ${String(problems.length).padStart(8)}  ${ms.toFixed(0).padStart(6)} ms  ${((ms * 1000) / n).toFixed(0).padStart(6)} µs`,
    );
}
