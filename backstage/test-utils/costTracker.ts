/**
 * Starts the real GPU cost tracker (services/cost-tracker, on embedded PGlite, at a fixed
 * instant) on loopback for a spec, through the repository's own launcher
 * (tools/cost-tracker/serve.ts), and stops it afterwards. Needs the repository root's
 * `npm ci`. Its teams, pools and classes are the prod stack's (Pulumi.prod.yaml).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root: GPU_PLATFORM_REPO, or the folder above backstage/. */
export const REPO_ROOT =
  process.env.GPU_PLATFORM_REPO ?? path.resolve(__dirname, '..', '..');

export interface RunningCostTracker {
  readonly url: string;
  /** The admin's bearer token: any team, recorded as `admin` (seeding, pushing spend). */
  readonly token: string;
  /** A `portal` credential, as Backstage holds in a deployment: acts only for the user's teams, as `<user> via portal`. */
  readonly portalToken: string;
  /** The instant its clock is fixed at. */
  readonly now: string;
  stop(): Promise<void>;
}

export interface CostTrackerStart {
  /** Seed the demo's month of spend and decisions. Default false: no spend, no decisions. */
  readonly demo?: boolean;
  /** Default 2026-11-20T12:00:00.000Z, the instant the specs' hand-computed figures assume. */
  readonly now?: string;
  /** Default 0: a free port. */
  readonly port?: number;
}

export async function startCostTracker(
  options: CostTrackerStart = {},
): Promise<RunningCostTracker> {
  const register = path.join(REPO_ROOT, 'node_modules', 'esbuild-register');
  if (!fs.existsSync(register)) {
    throw new Error(
      `${register} is missing: run npm ci at the repository root (${REPO_ROOT}) first`,
    );
  }
  const args = [
    '-r',
    'esbuild-register',
    'tools/cost-tracker/serve.ts',
    '--port',
    String(options.port ?? 0),
  ];
  if (options.demo) args.push('--demo');
  if (options.now) args.push('--now', options.now);
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = await firstLine(child);
  return {
    ...started,
    stop: () =>
      new Promise<void>(resolve => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function firstLine(
  child: ChildProcess,
): Promise<{ url: string; token: string; portalToken: string; now: string }> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', chunk => (err += String(chunk)));
    child.stdout!.on('data', chunk => {
      out += String(chunk);
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve(JSON.parse(line));
    });
    child.once('exit', code =>
      reject(
        new Error(
          `the cost tracker exited (${code}) before it listened: ${err}`,
        ),
      ),
    );
  });
}

/** Pushes month-to-date spend for `team`, as a team's gateway would. */
export async function spend(
  tracker: RunningCostTracker,
  team: string,
  amountUsd: number,
): Promise<void> {
  const answer = await fetch(`${tracker.url}/v1/usage`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${tracker.token}`,
      'idempotency-key': `spend-${team}-${amountUsd}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      records: [{ team, category: 'gpu', amountUsd, occurredAt: tracker.now }],
    }),
  });
  if (answer.status !== 201)
    throw new Error(`usage push: ${answer.status} ${await answer.text()}`);
}

/** Pushes one day's spend per entry of `usdByDay` (`YYYY-MM-DD` → USD) for `team`, in one batch. */
export async function spendByDay(
  tracker: RunningCostTracker,
  team: string,
  usdByDay: Record<string, number>,
): Promise<void> {
  const records = Object.entries(usdByDay).map(([day, amountUsd]) => ({
    team,
    category: 'gpu',
    amountUsd,
    occurredAt: `${day}T12:00:00.000Z`,
  }));
  const answer = await fetch(`${tracker.url}/v1/usage`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${tracker.token}`,
      'idempotency-key': `spend-by-day-${team}-${Object.keys(usdByDay).join(',')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ records }),
  });
  if (answer.status !== 201)
    throw new Error(`usage push: ${answer.status} ${await answer.text()}`);
}

export async function getJson<T = any>(
  tracker: RunningCostTracker,
  path: string,
): Promise<T> {
  const answer = await fetch(`${tracker.url}${path}`);
  if (!answer.ok)
    throw new Error(`GET ${path}: ${answer.status} ${await answer.text()}`);
  return (await answer.json()) as T;
}
