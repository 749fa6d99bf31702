import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { CostTrackerError, CostTrackerUnavailable } from '../costTracker';
import { teamNameOf } from '../membership';
import { unavailableMessage } from '../wording';
import { type GpuActionOptions, actingUser } from './requestGpus';

export const RELEASE_GPUS_ACTION_ID = 'gpu-platform:release-gpus';

/**
 * `gpu-platform:release-gpus`: gives a reservation back when a step after the approval failed
 * (the pull request could not be opened), so the team's budget is not held for a workload that
 * never runs. Only a member of the team may release; releasing twice is harmless.
 */
export function createReleaseGpusAction(options: GpuActionOptions) {
  return createTemplateAction({
    id: RELEASE_GPUS_ACTION_ID,
    description:
      "Releases a GPU reservation made by gpu-platform:request-gpus, giving the money back to the team's budget.",
    supportsDryRun: true,
    schema: {
      input: {
        team: z =>
          z.string().min(1).describe('The team the reservation was made for'),
        reservationId: z =>
          z
            .string()
            .min(1)
            .describe('The reservationId output of gpu-platform:request-gpus'),
      },
    },
    async handler(ctx) {
      const team = teamNameOf(ctx.input.team);
      if (!team) throw new Error(`team: "${ctx.input.team}" is not a team`);
      const acting = await actingUser(options, ctx.user?.ref, team);
      if (ctx.isDryRun || ctx.input.reservationId === 'dry-run') {
        ctx.logger.info('Dry run: nothing to release.');
        return;
      }
      const key = `backstage:${ctx.task.id}:${ctx.step?.id ?? RELEASE_GPUS_ACTION_ID}`;
      try {
        await options.costTracker.release(ctx.input.reservationId, key, acting);
      } catch (err) {
        if (
          err instanceof CostTrackerUnavailable ||
          err instanceof CostTrackerError
        )
          throw new Error(
            unavailableMessage(
              `reservation ${ctx.input.reservationId} was not released: ${err.message}; it lapses on its own at its expiry`,
              ctx.task.id,
            ),
          );
        throw err;
      }
      ctx.logger.info(
        `Released reservation ${ctx.input.reservationId} of team ${team}.`,
      );
    },
  });
}
