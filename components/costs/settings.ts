/**
 * The cost tracker's settings and the rules they obey, pure: the `CostTracker` component checks
 * its arguments with them, and the stack config (`stacks/cost-tracker.ts`) reports the same
 * rules under its own keys.
 */
import { isIpv4Cidr } from "@gpu-platform/catalog/ipv4";
import type { SettingProblem } from "../shared/problems";

/**
 * Task sizes Fargate runs: CPU units (1024 = 1 vCPU) → the memory (MiB) it may pair with. The
 * same for Linux x86_64 and ARM64. Source: Amazon ECS API reference, TaskDefinition `cpu` and
 * `memory`; 8 and 16 vCPU need Linux platform version 1.4.0 or later. Any other pair fails
 * RegisterTaskDefinition.
 */
export const FARGATE_TASK_SIZES: Readonly<Record<number, readonly number[]>> = {
    256: [512, 1024, 2048],
    512: steps(1024, 4096, 1024),
    1024: steps(2048, 8192, 1024),
    2048: steps(4096, 16384, 1024),
    4096: steps(8192, 30720, 1024),
    8192: steps(16384, 61440, 4096),
    16384: steps(32768, 122880, 8192),
};

function steps(from: number, to: number, by: number): number[] {
    return Array.from({ length: (to - from) / by + 1 }, (_, i) => from + i * by);
}

/** What the service's task, its scaling and its database may be set to. */
export interface CostTrackerSizing {
    /** Task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384 (1024 = 1 vCPU). Default 512. */
    cpu?: number;
    /** Task memory in MiB, a size Fargate pairs with `cpu` (FARGATE_TASK_SIZES). Default 1024. */
    memory?: number;
    /** Tasks running normally, 1 to 10; Fargate spreads them over the subnets' zones. Default 1. */
    desiredCount?: number;
    /** Most tasks target tracking may scale out to; at least `desiredCount`, at most 20. Default twice `desiredCount`, 2 at least. */
    maxCount?: number;
    /** An ACM certificate ARN: HTTPS on the load balancer, HTTP redirected to it. Default none: plain HTTP inside the VPC. */
    certificateArn?: string;
    /** CIDRs besides the cluster's nodes that may reach the load balancer, e.g. a VPN's client range. Default none. */
    allowedCidrs?: readonly string[];
    /** An address SNS sends every alert to, once the subscription is confirmed. Default none. */
    alertEmail?: string;
    /** A Slack-compatible incoming webhook (https) the service posts every alert to; kept in Secrets Manager. Default none. */
    alertWebhookUrl?: string;
    /** The PostgreSQL database's size and backups. Default: the defaults of each field. */
    database?: DatabaseSizing;
}

export interface DatabaseSizing {
    /** An RDS instance class, e.g. `db.t4g.small`. Default `db.t4g.micro`. */
    instanceClass?: string;
    /** Provisioned gp3 storage, 20 to 1000 GiB. Default 20. */
    allocatedStorageGiB?: number;
    /** Days automated backups are kept, 7 to 35. Default 7. */
    backupRetentionDays?: number;
}

export const COST_TRACKER_DEFAULTS = {
    cpu: 512,
    memory: 1024,
    desiredCount: 1,
    /** The container's port, behind the load balancer. */
    containerPort: 8080,
    /** Average CPU target tracking keeps the tasks at. */
    cpuTargetPercent: 60,
    logRetentionDays: 30,
    database: { instanceClass: "db.t4g.micro", allocatedStorageGiB: 20, backupRetentionDays: 7 },
} as const;

/** The most tasks target tracking may run by default: twice the normal count, at least 2. */
export function defaultMaxCount(desiredCount: number): number {
    return Math.max(2, desiredCount * 2);
}

const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
const DB_INSTANCE_CLASS = /^db\.[a-z0-9]+\.[a-z0-9]+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Every problem with the sizing, each keyed by `prefix` + the setting's path. */
export function costTrackerSizingProblems(prefix: string, s: CostTrackerSizing): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key: `${prefix}${key}`, message });
    const cpu = s.cpu ?? COST_TRACKER_DEFAULTS.cpu;
    const memory = s.memory ?? COST_TRACKER_DEFAULTS.memory;
    const memories = FARGATE_TASK_SIZES[cpu];
    if (!memories) {
        add(
            "cpu",
            `must be a Fargate CPU size: ${Object.keys(FARGATE_TASK_SIZES).join(", ")} (1024 = 1 vCPU; found ${cpu})`,
        );
    } else if (!memories.includes(memory)) {
        add("memory", `${memory} MiB does not pair with cpu ${cpu} on Fargate; allowed: ${describeSizes(memories)}`);
    }
    const desired = s.desiredCount ?? COST_TRACKER_DEFAULTS.desiredCount;
    if (!Number.isInteger(desired) || desired < 1 || desired > 10)
        add("desiredCount", `must be a whole number from 1 to 10 (found ${desired})`);
    if (s.maxCount !== undefined && (!Number.isInteger(s.maxCount) || s.maxCount < desired || s.maxCount > 20)) {
        add("maxCount", `must be a whole number from desiredCount (${desired}) to 20 (found ${s.maxCount})`);
    }
    if (s.certificateArn !== undefined && !CERTIFICATE_ARN.test(s.certificateArn)) {
        add("certificateArn", "must be an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id>");
    }
    (s.allowedCidrs ?? []).forEach((cidr, i) => {
        if (!isIpv4Cidr(cidr))
            add(`allowedCidrs[${i}]`, `must be an IPv4 CIDR with no host bits set, e.g. 10.8.0.0/16 (found "${cidr}")`);
        else if (cidr.endsWith("/0"))
            add(
                `allowedCidrs[${i}]`,
                "must not be 0.0.0.0/0: the dashboard is internal; name the VPN's or office's range",
            );
    });
    if (s.alertEmail !== undefined && !EMAIL.test(s.alertEmail))
        add("alertEmail", `must be an email address (found "${s.alertEmail}")`);
    if (s.alertWebhookUrl !== undefined && !/^https:\/\/[^\s/]+\/\S*$/.test(s.alertWebhookUrl)) {
        add("alertWebhookUrl", "must be an https URL, e.g. https://hooks.slack.com/services/…");
    }
    const db = s.database ?? {};
    if (db.instanceClass !== undefined && !DB_INSTANCE_CLASS.test(db.instanceClass)) {
        add(
            "database.instanceClass",
            `must be an RDS instance class such as db.t4g.small (found "${db.instanceClass}")`,
        );
    }
    const storage = db.allocatedStorageGiB;
    if (storage !== undefined && (!Number.isInteger(storage) || storage < 20 || storage > 1000)) {
        add(
            "database.allocatedStorageGiB",
            `must be a whole number of GiB from 20 (gp3's smallest) to 1000 (found ${storage})`,
        );
    }
    const backups = db.backupRetentionDays;
    if (backups !== undefined && (!Number.isInteger(backups) || backups < 7 || backups > 35)) {
        add("database.backupRetentionDays", `must be a whole number of days from 7 to 35 (found ${backups})`);
    }
    return problems;
}

/** "1024, 2048 … 8192 (every 1024)" rather than a list of 28 numbers. */
function describeSizes(memories: readonly number[]): string {
    if (memories.length <= 3) return memories.join(", ");
    return `${memories[0]} to ${memories[memories.length - 1]} in steps of ${memories[1] - memories[0]}`;
}
