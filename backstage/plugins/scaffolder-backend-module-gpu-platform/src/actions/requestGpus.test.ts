/**
 * gpu-platform:request-gpus against the real cost tracker (services/cost-tracker on PGlite, the
 * prod stack's teams and pools, its clock at 2026-11-20T12:00Z), through Backstage's scaffolder
 * test utilities and an in-memory catalog whose Groups carry the membership relations the
 * catalog makes.
 *
 * Figures by hand, from catalog/instances.ts as the cost tracker prices them: a p5.48xlarge GPU
 * is $55.04/h / 8 = $6.88, so 8 H100s for 6 h are 8 × 6 × 6.88 = $330.24; a time-sliced share of
 * a p4d.24xlarge GPU is $21.957642 / 8 / 3 = $0.914902/h, so one share for 24 h is $21.96; a
 * 3g.40gb MIG slice of a p4de.24xlarge GPU is 3/7 × $27.44705 / 8 = $1.470378/h, 10 h $14.70.
 * Budgets (Pulumi.prod.yaml): ml-research $120,000, inference $80,000, applied-ml $40,000.
 */
import { createServer } from 'node:net';
import { mockServices } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import {
  type RunningCostTracker,
  getJson,
  spend,
  startCostTracker,
} from '../../../../test-utils/costTracker';
import { CostTrackerClient } from '../costTracker';
import { createRequestGpusAction } from './requestGpus';

jest.setTimeout(60_000);

const ADA = 'user:default/ada';
const GRACE = 'user:default/grace';

/** The Groups as the catalog holds them once processed: spec.members become hasMember relations. */
function team(name: string, members: string[]): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name, namespace: 'default' },
    spec: { type: 'team', children: [], members },
    relations: members.map(targetRef => ({ type: 'hasMember', targetRef })),
  };
}

const CATALOG = [
  team('ml-research', [ADA]),
  team('applied-ml', [ADA]),
  team('inference', [ADA, GRACE]),
  // Not a platform team's namespace: never a team, whatever the name.
  {
    ...team('ml-research', [GRACE]),
    metadata: { name: 'ml-research', namespace: 'partners' },
  },
];

const H100_ASK = {
  team: 'group:default/ml-research',
  pool: 'h100',
  gpuResource: 'nvidia.com/gpu',
  gpus: 8,
  hours: 6,
  priorityClass: 'training',
  purpose: 'Training job for the MLflow model support-llama',
  workload: { namespace: 'ml-research', kind: 'Job', name: 'llama-ft' },
};

describe('gpu-platform:request-gpus against the cost tracker', () => {
  let tracker: RunningCostTracker;

  beforeAll(async () => {
    tracker = await startCostTracker();
  });
  afterAll(() => tracker?.stop());

  const actionFor = (baseUrl = tracker.url) =>
    createRequestGpusAction({
      costTracker: new CostTrackerClient({
        baseUrl,
        token: tracker.portalToken,
        retryDelaysMs: [20, 20],
      }),
      catalog: catalogServiceMock({ entities: CATALOG }),
      auth: mockServices.auth(),
    });

  const run = async (
    input: Record<string, unknown>,
    options: {
      user?: string;
      taskId?: string;
      dryRun?: boolean;
      baseUrl?: string;
    } = {},
  ) => {
    const ctx = {
      ...createMockActionContext({
        input: input as any,
        user: { ref: options.user ?? ADA },
        task: { id: options.taskId ?? `task-${Math.random()}` },
      }),
      isDryRun: options.dryRun ?? false,
    };
    await actionFor(options.baseUrl).handler(ctx as any);
    return Object.fromEntries((ctx.output as jest.Mock).mock.calls);
  };

  const requests = (teamName: string) =>
    getJson<any[]>(tracker, `/v1/gpu-requests?team=${teamName}`);
  const teamSummary = async (teamName: string) =>
    (await getJson<any[]>(tracker, '/v1/teams')).find(t => t.name === teamName);

  it('approved: reserves for the signed-in user and outputs the reservation, the estimate and what remains', async () => {
    const output = await run(H100_ASK, { taskId: 'task-approved' });
    expect(output).toEqual({
      reservationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'approved',
      team: 'ml-research',
      estimatedCostUsd: 330.24,
      remainingUsd: 119669.76, // 120,000 − 330.24
      expiresAt: '2026-11-20T20:00:00.000Z', // 6 h + the 2 h grace
      overBudget: false,
    });
    const [recorded] = await requests('ml-research');
    expect(recorded).toMatchObject({
      id: output.reservationId,
      status: 'approved',
      // The identity the portal's credential proves: the user it acts for (src/http/callers.ts).
      requester: `${ADA} via portal`,
      workload: H100_ASK.workload,
      reservation: 'active',
    });
  });

  it('is retry-safe: the same task asks again with the same idempotency key and gets the same reservation', async () => {
    const first = await run(H100_ASK, { taskId: 'task-retried' });
    const before = (await teamSummary('ml-research')).reservedUsd;
    const again = await run(H100_ASK, { taskId: 'task-retried' });
    expect(again.reservationId).toBe(first.reservationId);
    expect((await teamSummary('ml-research')).reservedUsd).toBe(before);
  });

  it('rejected: fails the step with the estimate and the remaining budget in words, and reserves nothing', async () => {
    await spend(tracker, 'applied-ml', 39_990);
    const ask = {
      ...H100_ASK,
      team: 'applied-ml',
      pool: 'a100-shared',
      gpuResource: 'nvidia.com/gpu.shared',
    };
    const rejected = run({
      ...ask,
      gpus: 1,
      hours: 24,
      priorityClass: 'development',
      workload: undefined,
    });
    await expect(rejected).rejects.toThrow(
      /^Not approved: 1 × nvidia\.com\/gpu\.shared on a100-shared for 24 h is estimated at \$21\.96, and team applied-ml has \$10\.00 left this month/,
    );
    await expect(rejected).rejects.toThrow(
      /try again later, or ask for fewer GPUs or fewer hours/,
    );
    expect((await teamSummary('applied-ml')).reservedUsd).toBe(0);
    expect((await requests('applied-ml')).map(r => r.status)).toEqual([
      'rejected',
    ]);
  });

  it("a critical class from the portal is judged against the budget, as the cost tracker's default criticalApprovers (admin, platform) say", async () => {
    await spend(tracker, 'inference', 79_995);
    const critical = run({
      ...H100_ASK,
      team: 'inference',
      pool: 'a100-mig',
      gpuResource: 'nvidia.com/mig-3g.40gb',
      gpus: 1,
      hours: 10,
      priorityClass: 'production-inference',
      workload: {
        namespace: 'inference',
        kind: 'Deployment',
        name: 'fraud-tf',
      },
    });
    // A 3g.40gb slice: 3/7 of a p4de.24xlarge GPU, $1.4704/h; 10 h = $14.70, over the $80,000 − $79,995 = $5.00 left.
    await expect(critical).rejects.toThrow(
      'Not approved: 1 × nvidia.com/mig-3g.40gb on a100-mig for 10 h is estimated at $14.70, and team inference has $5.00 left this month',
    );
  });

  it('a user outside the team is refused before the cost tracker is asked: nothing is recorded', async () => {
    const before = await getJson<any[]>(tracker, '/v1/gpu-requests');
    await expect(run(H100_ASK, { user: GRACE })).rejects.toThrow(
      'user:default/grace is not a member of team ml-research, so cannot spend its GPU budget; your teams: inference.',
    );
    await expect(
      run(H100_ASK, { user: 'user:default/nobody' }),
    ).rejects.toThrow(
      /you belong to no team in the catalog; ask your platform team to add you\.$/,
    );
    await expect(
      run({ ...H100_ASK, team: 'group:partners/ml-research' }, { user: GRACE }),
    ).rejects.toThrow('team: "group:partners/ml-research" is not a team');
    expect(await getJson<any[]>(tracker, '/v1/gpu-requests')).toEqual(before);
  });

  it('dry run: prices the ask from the cost tracker and checks membership, reserving nothing', async () => {
    const before = await teamSummary('ml-research');
    const output = await run(H100_ASK, { dryRun: true });
    expect(output).toEqual({
      reservationId: 'dry-run',
      status: 'dry-run',
      team: 'ml-research',
      estimatedCostUsd: 330.24,
      remainingUsd: Math.round((before.remainingUsd - 330.24) * 100) / 100,
      overBudget: false,
    });
    expect(await teamSummary('ml-research')).toEqual(before);
    await expect(run(H100_ASK, { dryRun: true, user: GRACE })).rejects.toThrow(
      /is not a member of team ml-research/,
    );
  });

  it('the cost tracker down: a clear failure that says a retry is safe', async () => {
    const gone = await closedPortUrl();
    await expect(
      run(H100_ASK, { baseUrl: gone, taskId: 'task-down' }),
    ).rejects.toThrow(
      `The GPU request could not be completed: the cost tracker at ${gone} did not answer (ECONNREFUSED). ` +
        'Retrying the task (task-down) is safe',
    );
  });
});

/** A loopback URL nothing listens on: a port the system gave out and that was closed again. */
function closedPortUrl(): Promise<string> {
  return new Promise(resolve => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(`http://127.0.0.1:${port}`));
    });
  });
}
