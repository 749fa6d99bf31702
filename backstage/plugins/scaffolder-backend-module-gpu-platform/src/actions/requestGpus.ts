import type { AuthService } from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  type ActingUser,
  type CostTrackerClient,
  CostTrackerError,
  CostTrackerUnavailable,
  type GpuRequestBody,
} from '../costTracker';
import { teamNameOf, teamsOfUser } from '../membership';
import {
  type AskSummary,
  describeAsk,
  money,
  rejectionMessage,
  unavailableMessage,
} from '../wording';

export const REQUEST_GPUS_ACTION_ID = 'gpu-platform:request-gpus';

export interface GpuActionOptions {
  readonly costTracker: CostTrackerClient;
  /** Where the user's teams are read: the Groups that have the user as a member. */
  readonly catalog: CatalogService;
  /** The scaffolder's own credentials read the catalog: membership is a fact, not the user's to hide. */
  readonly auth: Pick<AuthService, 'getOwnServiceCredentials'>;
}

/**
 * `gpu-platform:request-gpus`: asks the cost tracker to reserve GPUs for a team, as the user who
 * runs the template, before anything is written to Git. Refuses a team the user is not a member
 * of without calling the cost tracker; a rejection fails the step, saying why and what is left.
 */
export function createRequestGpusAction(options: GpuActionOptions) {
  return createTemplateAction({
    id: REQUEST_GPUS_ACTION_ID,
    description:
      "Asks the GPU cost tracker to reserve GPUs against the team's monthly budget, as the user running the template. " +
      'The user must be a member of the team. Fails, saying why and what is left, when the budget cannot take it.',
    supportsDryRun: true,
    examples: [
      {
        description: '8 H100s for 6 hours for a training Job',
        example: [
          'steps:',
          '  - id: requestGpus',
          '    action: gpu-platform:request-gpus',
          '    input:',
          '      team: group:default/ml-research',
          '      pool: h100',
          '      gpuResource: nvidia.com/gpu',
          '      gpus: 8',
          '      hours: 6',
          '      priorityClass: training',
          '      workload: { namespace: ml-research, kind: Job, name: llama-ft }',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        team: z =>
          z
            .string()
            .min(1)
            .describe(
              'The team that pays: its Group (group:default/<team>) or its name',
            ),
        pool: z => z.string().min(1).describe('The GPU pool (GET /v1/pools)'),
        gpuResource: z =>
          z
            .string()
            .optional()
            .describe(
              'nvidia.com/gpu, nvidia.com/gpu.shared or nvidia.com/mig-<profile>; needed when the pool offers several',
            ),
        gpus: z =>
          z.number().int().min(1).describe('Units of the GPU resource'),
        hours: z =>
          z.number().positive().max(744).describe('How long the GPUs are held'),
        priorityClass: z => z.string().min(1).describe('The workload class'),
        purpose: z =>
          z.string().max(1000).optional().describe('Why, for the decision log'),
        workload: z =>
          z
            .object({
              namespace: z.string().min(1),
              kind: z.string().min(1),
              name: z.string().min(1),
            })
            .optional()
            .describe(
              'The workload that will hold the reservation; the budget gate adopts it when the workload is admitted',
            ),
      },
      output: {
        reservationId: z =>
          z
            .string()
            .describe(
              'The approved request, or "dry-run" when nothing was reserved',
            ),
        status: z =>
          z
            .enum(['approved', 'dry-run'])
            .describe(
              'approved, or dry-run: priced and checked, nothing reserved',
            ),
        team: z => z.string().describe("The team's name"),
        estimatedCostUsd: z =>
          z.number().describe('The estimate of the ask, US dollars'),
        remainingUsd: z =>
          z
            .number()
            .describe(
              "What is left of the team's monthly budget after this ask",
            ),
        expiresAt: z =>
          z
            .string()
            .optional()
            .describe(
              'When the reservation lapses unless a workload takes it up',
            ),
        overBudget: z =>
          z
            .boolean()
            .describe('Approved past the budget because the class is critical'),
      },
    },
    async handler(ctx) {
      const ask = askOf(ctx.input);
      const acting = await actingUser(options, ctx.user?.ref, ask.team);
      const body: GpuRequestBody = {
        team: ask.team,
        pool: ctx.input.pool,
        gpuResource: ctx.input.gpuResource,
        gpus: ctx.input.gpus,
        hours: ctx.input.hours,
        priorityClass: ctx.input.priorityClass,
        requester: acting.userRef,
        purpose: ctx.input.purpose,
        workload: ctx.input.workload,
      };
      if (ctx.isDryRun) {
        const preview = await guarded(ctx.task.id, () =>
          dryRunPreview(options.costTracker, ask),
        );
        ctx.logger.info(
          `Dry run: ${describeAsk(ask)} would cost ${money(preview.estimatedCostUsd)}; team ${ask.team} ` +
            `would have ${money(preview.remainingUsd)} left. Nothing was reserved.`,
        );
        ctx.output('reservationId', 'dry-run');
        ctx.output('status', 'dry-run');
        ctx.output('team', ask.team);
        ctx.output('estimatedCostUsd', preview.estimatedCostUsd);
        ctx.output('remainingUsd', preview.remainingUsd);
        ctx.output('overBudget', preview.overBudget);
        return;
      }
      // One key per task and step: a retried task repeats it, so the cost tracker answers with its first decision.
      const key = `backstage:${ctx.task.id}:${ctx.step?.id ?? REQUEST_GPUS_ACTION_ID}`;
      const answer = await guarded(ctx.task.id, () =>
        options.costTracker.requestGpus(body, key, acting),
      );
      if (answer.status === 'rejected' || !answer.id) {
        throw new Error(rejectionMessage(ask, answer));
      }
      const pastBudget = answer.overBudget
        ? ` (approved past the budget: ${answer.reason})`
        : '';
      const adopted = answer.adopted
        ? '; an earlier reservation for this workload was reused'
        : '';
      ctx.logger.info(
        `Approved for ${acting.userRef}: ${describeAsk(ask)}, estimated ${money(answer.estimatedCostUsd)}; ` +
          `team ${ask.team} has ${money(answer.remainingUsd)} left this month${pastBudget}${adopted}.`,
      );
      ctx.output('reservationId', answer.id);
      ctx.output('status', 'approved');
      ctx.output('team', ask.team);
      ctx.output('estimatedCostUsd', answer.estimatedCostUsd);
      ctx.output('remainingUsd', answer.remainingUsd);
      if (answer.expiresAt) ctx.output('expiresAt', answer.expiresAt);
      ctx.output('overBudget', answer.overBudget ?? false);
    },
  });
}

function askOf(input: {
  team: string;
  pool: string;
  gpuResource?: string;
  gpus: number;
  hours: number;
}): AskSummary {
  const team = teamNameOf(input.team);
  if (!team) {
    throw new InputError(
      `team: "${input.team}" is not a team; pick one of your teams' Groups (group:default/<team>)`,
    );
  }
  return { ...input, team };
}

/**
 * The user running the task, with the teams the catalog says they belong to; refuses, before the
 * cost tracker is called, a team the user is not a member of.
 */
export async function actingUser(
  options: GpuActionOptions,
  userRef: string | undefined,
  team: string,
): Promise<ActingUser> {
  if (!userRef) {
    throw new NotAllowedError(
      'GPU requests are made for a signed-in user; this task has none (started by a service?)',
    );
  }
  const credentials = await options.auth.getOwnServiceCredentials();
  const teams = await teamsOfUser(options.catalog, userRef, credentials);
  if (!teams.includes(team)) {
    const yours = teams.length
      ? `your teams: ${teams.join(', ')}.`
      : 'you belong to no team in the catalog; ask your platform team to add you.';
    throw new NotAllowedError(
      `${userRef} is not a member of team ${team}, so cannot spend its GPU budget; ${yours}`,
    );
  }
  return { userRef, teams };
}

/** The estimate from the cost tracker's own prices and the team's remaining budget; nothing is written. */
async function dryRunPreview(costTracker: CostTrackerClient, ask: AskSummary) {
  const [pools, teams] = await Promise.all([
    costTracker.pools(),
    costTracker.teams(),
  ]);
  const pool = pools.find(p => p.name === ask.pool);
  const resource = pool?.resources.find(
    r =>
      r.gpuResource === ask.gpuResource ||
      (!ask.gpuResource && pool.resources.length === 1),
  );
  if (!pool || !resource) {
    throw new InputError(
      `pool/gpuResource: ${ask.pool} offers no ${ask.gpuResource ?? 'single GPU resource'}; ` +
        `it offers ${pool?.resources.map(r => r.gpuResource).join(', ') ?? 'nothing (unknown pool)'}`,
    );
  }
  const summary = teams.find(t => t.name === ask.team);
  if (!summary)
    throw new InputError(`team: the cost tracker has no team ${ask.team}`);
  const estimatedCostUsd = cents(
    resource.usdPerUnitHour * ask.gpus * ask.hours,
  );
  return {
    estimatedCostUsd,
    remainingUsd: cents(summary.remainingUsd - estimatedCostUsd),
    overBudget: estimatedCostUsd > summary.remainingUsd,
  };
}

/** Rounds to the cent, as the cost tracker rounds every amount it answers. */
function cents(amount: number): number {
  return Math.round(amount * 100) / 100;
}

/** Turns the cost tracker's failures into one sentence a user can act on. */
async function guarded<T>(taskId: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof CostTrackerUnavailable)
      throw new Error(unavailableMessage(err.message, taskId));
    if (err instanceof CostTrackerError && err.status === 401)
      throw new Error(
        "The cost tracker refused Backstage's credential (401): the platform team must check gpuPlatform.costTracker.token.",
      );
    if (err instanceof CostTrackerError && err.status === 403)
      throw new NotAllowedError(
        `The cost tracker refused the request: ${err.message}`,
      );
    if (err instanceof CostTrackerError && err.status < 500)
      throw new InputError(
        `The cost tracker refused the request: ${err.message}`,
      );
    if (err instanceof CostTrackerError)
      throw new Error(
        unavailableMessage(
          `the cost tracker failed (${err.status}: ${err.message})`,
          taskId,
        ),
      );
    throw err;
  }
}
