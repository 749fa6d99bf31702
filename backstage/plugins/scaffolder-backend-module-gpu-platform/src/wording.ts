/** What a data scientist reads when the cost tracker says no, or cannot be asked. */

const USD = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
});

/** `$1,234.50`; a negative amount reads as `$0.00 ($12.00 over)`. */
export function money(amount: number): string {
  return amount < 0
    ? `${USD.format(0)} (${USD.format(-amount)} over)`
    : USD.format(amount);
}

export interface AskSummary {
  readonly team: string;
  readonly pool: string;
  readonly gpuResource?: string;
  readonly gpus: number;
  readonly hours: number;
}

/** `8 × nvidia.com/gpu on h100 for 6 h`. */
export function describeAsk(ask: AskSummary): string {
  const unit = ask.gpuResource ?? 'GPU';
  return `${ask.gpus} × ${unit} on ${ask.pool} for ${ask.hours} h`;
}

/**
 * Why the request was rejected and what to do, from the 409 answer: `reason` is
 * "exceeds-monthly-budget" (it never fits), "over-budget" (it fits once money is freed), or,
 * from a cost tracker before that contract, its own sentence, quoted.
 */
export function rejectionMessage(
  ask: AskSummary,
  answer: { reason?: string; estimatedCostUsd: number; remainingUsd: number },
): string {
  const cost = `${describeAsk(ask)} is estimated at ${money(answer.estimatedCostUsd)}`;
  const left = `team ${ask.team} has ${money(answer.remainingUsd)} left this month`;
  if (answer.reason === 'exceeds-monthly-budget') {
    return (
      `Not approved: ${cost}, more than team ${ask.team}'s whole monthly budget, so it can never fit as asked (${left}). ` +
      'Ask for fewer GPUs or fewer hours, or ask your budget owner to raise the budget.'
    );
  }
  const because =
    answer.reason && answer.reason !== 'over-budget'
      ? ` The cost tracker says: ${answer.reason}.`
      : '';
  return (
    `Not approved: ${cost}, and ${left} after what is spent and reserved.${because} ` +
    'It fits once money is freed (running work ends, reservations are released or expire, or a new month starts): ' +
    'try again later, or ask for fewer GPUs or fewer hours.'
  );
}

/** The cost tracker could not be asked: say what happened and that a retry is safe. */
export function unavailableMessage(cause: string, taskId: string): string {
  return (
    `The GPU request could not be completed: ${cause}. Retrying the task (${taskId}) is safe: ` +
    'it sends the same idempotency key, so a reservation made before the failure is returned, never made twice.'
  );
}
