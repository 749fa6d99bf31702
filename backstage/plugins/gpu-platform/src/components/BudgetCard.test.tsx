/**
 * The budget card on a team's Group and on a GPU workload's Component, rendered with Backstage's
 * frontend test utilities against the real cost tracker with its demo data (prod stack's teams,
 * clock at 2026-11-20T12:00Z). The figures expected are the cost tracker's own answer to GET
 * /v1/teams and GET /v1/gpu-requests, read by the spec; the budget of ml-research, $120,000.00,
 * is Pulumi.prod.yaml's.
 */
import type { Entity } from '@backstage/catalog-model';
import { renderInTestApp } from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { screen, within } from '@testing-library/react';
import {
  type RunningCostTracker,
  getJson,
  spendByDay,
  startCostTracker,
} from '../../../../test-utils/costTracker';
import { type Decision, type TeamBudget, costTrackerReadApiRef } from '../api';
import { money } from '../estimate';
import { directClient } from '../testing';
import {
  APPROVAL_ANNOTATION,
  BudgetCard,
  TEAM_ANNOTATION,
  teamOfEntity,
} from './BudgetCard';

jest.setTimeout(60_000);

let tracker: RunningCostTracker;
let budgets: Record<string, TeamBudget>;

beforeAll(async () => {
  tracker = await startCostTracker({ demo: true });
  const teams = await getJson<TeamBudget[]>(tracker, '/v1/teams');
  budgets = Object.fromEntries(teams.map(t => [t.name, t]));
});
afterAll(() => tracker?.stop());

const DASHBOARD = 'https://costs.example.com/';

const teamGroup = (team: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name: team, annotations: { [TEAM_ANNOTATION]: team } },
  spec: { type: 'team', children: [] },
});

const workload: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'llama-finetune',
    annotations: { [APPROVAL_ANNOTATION]: 'some-approval-id' },
  },
  spec: {
    type: 'service',
    lifecycle: 'experimental',
    owner: 'group:default/inference',
  },
};

function renderCard(entity: Entity) {
  return renderInTestApp(
    <EntityProvider entity={entity}>
      <BudgetCard />
    </EntityProvider>,
    {
      apis: [[costTrackerReadApiRef, directClient(tracker.url)]],
      config: { gpuPlatform: { costTracker: { dashboardUrl: DASHBOARD } } },
    },
  );
}

describe('BudgetCard', () => {
  it("shows a team's budget, spend, reservations, remaining and forecast as the cost tracker gives them", async () => {
    await renderCard(teamGroup('ml-research'));
    const budget = budgets['ml-research'];
    expect(await screen.findByTestId('gpu-budget-budget')).toHaveTextContent(
      '$120,000.00',
    );
    expect(screen.getByTestId('gpu-budget-spent')).toHaveTextContent(
      money(budget.monthToDateUsd),
    );
    expect(screen.getByTestId('gpu-budget-reserved')).toHaveTextContent(
      money(budget.reservedUsd),
    );
    expect(screen.getByTestId('gpu-budget-remaining')).toHaveTextContent(
      money(budget.remainingUsd),
    );
    // The demo has a month of history on 2026-11-20, so a forecast with its 90 % range (rules.ts).
    expect(screen.getByTestId('gpu-budget-forecast')).toHaveTextContent(
      `${money(budget.forecast.pointUsd!)} (90 % range ${money(
        budget.forecast.lowUsd!,
      )} to ${money(budget.forecast.highUsd!)})`,
    );
    expect(
      screen.getByText('Open the cost dashboard').closest('a'),
    ).toHaveAttribute('href', DASHBOARD);
  });

  it("lists the team's recent decisions with their estimates", async () => {
    const decisions = await getJson<Decision[]>(
      tracker,
      '/v1/gpu-requests?team=ml-research&limit=5',
    );
    expect(decisions.length).toBeGreaterThan(0); // the demo has decisions for every team
    await renderCard(teamGroup('ml-research'));
    const table = await screen.findByText('Recent decisions');
    const rows = within(table.closest('table') ?? document.body);
    for (const decision of decisions) {
      expect(
        rows.getAllByText(money(decision.estimatedCostUsd)).length,
      ).toBeGreaterThan(0);
    }
  });

  it("shows a workload's Component the budget of its owning team", async () => {
    await renderCard(workload);
    expect(
      await screen.findByText('GPU budget of inference'),
    ).toBeInTheDocument();
    expect(await screen.findByTestId('gpu-budget-budget')).toHaveTextContent(
      money(budgets.inference.monthlyBudgetUsd),
    );
  });

  it("warns when the forecast is over the budget: the demo's inference team runs at 125 % of it", async () => {
    await renderCard(teamGroup('inference'));
    expect(
      await screen.findByTestId('gpu-budget-forecast-warning'),
    ).toHaveTextContent('The forecast is over the budget.');
  });

  it('says so when the cost tracker has no such team', async () => {
    await renderCard(teamGroup('no-such-team'));
    expect(
      await screen.findByText('The cost tracker has no team no-such-team.'),
    ).toBeInTheDocument();
  });
});

describe('BudgetCard, the forecast from spend pushed by hand', () => {
  let fresh: RunningCostTracker;
  beforeAll(async () => {
    fresh = await startCostTracker(); // no demo: no spend at all
  });
  afterAll(() => fresh?.stop());

  const renderFresh = (team: string) =>
    renderInTestApp(
      <EntityProvider entity={teamGroup(team)}>
        <BudgetCard />
      </EntityProvider>,
      { apis: [[costTrackerReadApiRef, directClient(fresh.url)]] },
    );

  it("gives the forecast's point and 90 % range, computed by hand", async () => {
    // 14 complete days before 2026-11-20, $1,000 and $3,000 in turn: mean $2,000, sample standard
    // deviation √(14 × 1,000² / 13) = $1,037.749. Spent through the 19th: $28,000; 11 days left
    // (the 20th to the 30th). Point: 28,000 + 11 × 2,000 = $50,000.00. Half range: t(13, 95 %) =
    // 1.771 × 1,037.749 × √(11 + 11² / 14) = 1.771 × 1,037.749 × 4.432026 = $8,145.42.
    const days = Array.from(
      { length: 14 },
      (_, i) => `2026-11-${String(6 + i).padStart(2, '0')}`,
    );
    await spendByDay(
      fresh,
      'applied-ml',
      Object.fromEntries(days.map((day, i) => [day, i % 2 ? 3000 : 1000])),
    );
    await renderFresh('applied-ml');
    expect(await screen.findByTestId('gpu-budget-forecast')).toHaveTextContent(
      '$50,000.00 (90 % range $41,854.58 to $58,145.42)',
    );
    // applied-ml's budget is $40,000 (Pulumi.prod.yaml).
    expect(screen.getByTestId('gpu-budget-forecast-warning')).toHaveTextContent(
      'The forecast is over the budget.',
    );
  });

  it('says there is no forecast yet for a team without spend', async () => {
    await renderFresh('ml-research');
    expect(await screen.findByTestId('gpu-budget-forecast')).toHaveTextContent(
      'None yet: 0 complete days of spend on record',
    );
    expect(
      screen.queryByTestId('gpu-budget-forecast-warning'),
    ).not.toBeInTheDocument();
  });
});

describe('teamOfEntity (which pages get the card)', () => {
  it('is the team of a Group made from a team, and the owner of a workload the templates registered', () => {
    expect(teamOfEntity(teamGroup('ml-research'))).toBe('ml-research');
    expect(teamOfEntity(workload)).toBe('inference');
  });

  it('is nothing for an ordinary Group or Component, or a workload owned by a user', () => {
    expect(
      teamOfEntity({ ...teamGroup('x'), metadata: { name: 'x' } }),
    ).toBeUndefined();
    expect(
      teamOfEntity({ ...workload, metadata: { name: 'svc' } }),
    ).toBeUndefined();
    expect(
      teamOfEntity({
        ...workload,
        spec: { ...workload.spec, owner: 'user:default/jane' },
      }),
    ).toBeUndefined();
  });
});
