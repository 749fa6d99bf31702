import type { TeamBudget } from './api';
import { money } from './estimate';

/** The forecast row of the budget card, and a warning when the month may end past the budget. */
export interface ForecastInWords {
  readonly text: string;
  readonly warning?: string;
}

/**
 * The month-end forecast in words: its point and range as the cost tracker gives them, or why
 * there is none yet. The warning says whether the point, or only the top of the range, is past
 * the budget.
 */
export function forecastInWords(budget: TeamBudget): ForecastInWords {
  const { pointUsd, lowUsd, highUsd, confidencePct, historyDays } =
    budget.forecast;
  if (pointUsd === null) {
    return {
      text: `None yet: ${historyDays} complete ${historyDays === 1 ? 'day' : 'days'} of spend on record`,
    };
  }
  const range =
    lowUsd !== null && highUsd !== null
      ? ` (${confidencePct} % range ${money(lowUsd)} to ${money(highUsd)})`
      : '';
  const text = `${money(pointUsd)}${range}`;
  if (pointUsd > budget.monthlyBudgetUsd)
    return { text, warning: 'The forecast is over the budget.' };
  if (highUsd !== null && highUsd > budget.monthlyBudgetUsd) {
    return {
      text,
      warning: "The top of the forecast's range is over the budget.",
    };
  }
  return { text };
}
