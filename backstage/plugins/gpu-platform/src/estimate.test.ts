import type { PoolOffers, TeamBudget } from './api';
import { previewAsk } from './estimate';

/** One pool at $2.00 per GPU-hour, production-inference critical; `approvers` as the cost tracker lists them. */
const offers = (approvers?: string[]): PoolOffers => ({
  pools: [
    {
      name: 'h100',
      instanceType: 'p5.48xlarge',
      resources: [
        { gpuResource: 'nvidia.com/gpu', usdPerUnitHour: 2, maxUnits: 8 },
      ],
    },
  ],
  criticalPriorityClasses: ['production-inference'],
  ...(approvers ? { criticalApprovers: approvers } : {}),
});

const team: TeamBudget = {
  name: 'inference',
  month: '2026-11',
  monthlyBudgetUsd: 1000,
  monthToDateUsd: 950,
  reservedUsd: 0,
  remainingUsd: 50,
  forecastUsd: null,
  forecast: {
    asOfDay: '2026-11-19',
    historyDays: 0,
    confidencePct: 90,
    pointUsd: null,
    lowUsd: null,
    highUsd: null,
  },
};

// 4 GPUs × 10 h × $2.00 = $80.00, $30.00 over the $50.00 left.
const criticalAsk = {
  team: 'group:default/inference',
  pool: 'h100',
  gpuResource: 'nvidia.com/gpu',
  gpus: 4,
  hours: 10,
  priorityClass: 'production-inference',
};

describe('previewAsk, a critical class over the budget', () => {
  it('is approved past the budget when the portal is a critical approver', () => {
    expect(
      previewAsk(criticalAsk, offers(['admin', 'portal']), [team]),
    ).toMatchObject({
      estimatedCostUsd: 80,
      remainingAfterUsd: -30,
      critical: true,
      criticalPassesBudget: true,
      verdict: 'critical-over-budget',
    });
  });

  it('is rejected when the portal is not one, or the cost tracker does not say', () => {
    for (const approvers of [['admin', 'platform'], undefined]) {
      expect(previewAsk(criticalAsk, offers(approvers), [team])).toMatchObject({
        critical: true,
        criticalPassesBudget: false,
        verdict: 'rejected',
      });
    }
  });

  it('fits like any class when it is within what is left', () => {
    expect(
      previewAsk({ ...criticalAsk, hours: 5 }, offers(), [team]),
    ).toMatchObject({ estimatedCostUsd: 40, verdict: 'fits' });
  });
});
