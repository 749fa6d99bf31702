import type { Forecast, TeamBudget } from './api';
import { forecastInWords } from './forecast';

/** A $10,000 budget with the forecast given; the other figures do not matter here. */
function budgetWith(forecast: Partial<Forecast>): TeamBudget {
  const full: Forecast = {
    asOfDay: '2026-11-19',
    historyDays: 14,
    confidencePct: 90,
    pointUsd: null,
    lowUsd: null,
    highUsd: null,
    ...forecast,
  };
  return {
    name: 'ml-research',
    month: '2026-11',
    monthlyBudgetUsd: 10_000,
    monthToDateUsd: 0,
    reservedUsd: 0,
    remainingUsd: 10_000,
    forecastUsd: full.pointUsd,
    forecast: full,
  };
}

describe('forecastInWords', () => {
  it('gives the point and the range at its confidence, no warning inside the budget', () => {
    expect(
      forecastInWords(
        budgetWith({ pointUsd: 8000, lowUsd: 7000.5, highUsd: 9000 }),
      ),
    ).toEqual({ text: '$8,000.00 (90 % range $7,000.50 to $9,000.00)' });
  });

  it('warns when only the top of the range is past the budget', () => {
    expect(
      forecastInWords(
        budgetWith({ pointUsd: 9500, lowUsd: 9000, highUsd: 10_000.01 }),
      ).warning,
    ).toBe("The top of the forecast's range is over the budget.");
  });

  it('warns when the point itself is past the budget', () => {
    expect(
      forecastInWords(
        budgetWith({ pointUsd: 10_000.01, lowUsd: 9000, highUsd: 11_000 }),
      ).warning,
    ).toBe('The forecast is over the budget.');
  });

  it('says why there is none yet, in days of history', () => {
    expect(forecastInWords(budgetWith({ historyDays: 1 }))).toEqual({
      text: 'None yet: 1 complete day of spend on record',
    });
    expect(forecastInWords(budgetWith({ historyDays: 6 })).text).toBe(
      'None yet: 6 complete days of spend on record',
    );
  });

  it('gives the point alone when the cost tracker gives no range', () => {
    expect(forecastInWords(budgetWith({ pointUsd: 500 }))).toEqual({
      text: '$500.00',
    });
  });
});
