/**
 * The template form's cost preview against the real cost tracker with its demo data (prod
 * stack's teams and pools, clock at 2026-11-20T12:00Z), rendered with Backstage's frontend test
 * utilities.
 *
 * Prices by hand from catalog/instances.ts: a p5.48xlarge GPU is $55.04/h / 8 = $6.88; 8 of them
 * for 6 h are $330.24, for 744 h (the form's maximum) 8 × 744 × 6.88 = $40,949.76. A 1g.10gb MIG
 * slice of a p4de.24xlarge GPU is 1/7 × $27.44705 / 8 = $0.4901/h. What a team has left is the
 * cost tracker's own answer (GET /v1/teams), read by the spec.
 */
import { renderInTestApp } from '@backstage/frontend-test-utils';
import { screen } from '@testing-library/react';
import {
  type RunningCostTracker,
  getJson,
  startCostTracker,
} from '../../../../test-utils/costTracker';
import { costTrackerReadApiRef } from '../api';
import { money } from '../estimate';
import { directClient } from '../testing';
import { CostPreviewField } from './CostPreviewField';

jest.setTimeout(60_000);

let tracker: RunningCostTracker;
let remaining: Record<string, number>;

beforeAll(async () => {
  tracker = await startCostTracker({ demo: true });
  const teams = await getJson<{ name: string; remainingUsd: number }[]>(
    tracker,
    '/v1/teams',
  );
  remaining = Object.fromEntries(teams.map(t => [t.name, t.remainingUsd]));
});
afterAll(() => tracker?.stop());

function renderPreview(formData: Record<string, unknown>) {
  const props = {
    schema: { title: 'Estimated cost' },
    uiSchema: {},
    formContext: { formData },
    onChange: jest.fn(),
  } as any;
  return renderInTestApp(<CostPreviewField {...props} />, {
    apis: [[costTrackerReadApiRef, directClient(tracker.url)]],
  });
}

const TRAINING = {
  team: 'group:default/ml-research',
  pool: 'h100',
  gpuResource: 'nvidia.com/gpu',
  gpus: 8,
  hours: 6,
  priorityClass: 'training',
};

describe('GpuCostPreview', () => {
  it("prices the ask from the cost tracker's pool prices and compares it with what the team has left", async () => {
    await renderPreview(TRAINING);
    expect(await screen.findByTestId('gpu-cost-estimate')).toHaveTextContent(
      '8 × nvidia.com/gpu on h100 for 6 h at $6.88 per unit-hour: $330.24',
    );
    const left = remaining['ml-research'];
    expect(screen.getByTestId('gpu-cost-budget')).toHaveTextContent(
      `Team ml-research has ${money(left)} left of $120,000.00 this month; after this ask: ${money(
        Math.round((left - 330.24) * 100) / 100,
      )}.`,
    );
    expect(screen.getByTestId('gpu-cost-verdict')).toHaveTextContent(
      "Within the team's budget.",
    );
    expect(screen.queryByText(/critical class/)).not.toBeInTheDocument();
  });

  it('marks an ask the cost tracker would reject, saying by how much it is over', async () => {
    await renderPreview({
      ...TRAINING,
      team: 'group:default/applied-ml',
      hours: 744,
    });
    expect(await screen.findByTestId('gpu-cost-estimate')).toHaveTextContent(
      '$40,949.76',
    );
    const over = Math.round((40_949.76 - remaining['applied-ml']) * 100) / 100;
    expect(screen.getByTestId('gpu-cost-verdict')).toHaveTextContent(
      `The cost tracker would reject this ask: it is ${money(over)} over what the team has left.`,
    );
  });

  it("labels a critical class, and judges the portal's request for it against the budget, as the cost tracker does by default", async () => {
    await renderPreview({
      ...TRAINING,
      team: 'group:default/applied-ml',
      hours: 744,
      priorityClass: 'production-inference',
    });
    expect(
      await screen.findByText('production-inference: critical class'),
    ).toBeInTheDocument();
    // criticalApprovers defaults to admin and platform (components/costs/tracker-config.ts): not the portal.
    const over = Math.round((40_949.76 - remaining['applied-ml']) * 100) / 100;
    expect(screen.getByTestId('gpu-cost-verdict')).toHaveTextContent(
      `The cost tracker would reject this ask: it is ${money(over)} over what the team has left. ` +
        "production-inference is a critical class, but the portal's requests do not pass the budget with it: the platform team can grant an exception.",
    );
  });

  it('prices a MIG slice per slice, and asks for what is missing', async () => {
    await renderPreview({
      ...TRAINING,
      pool: 'a100-mig',
      gpuResource: 'nvidia.com/mig-1g.10gb',
      gpus: 1,
      hours: 10,
    });
    expect(await screen.findByTestId('gpu-cost-estimate')).toHaveTextContent(
      '1 × nvidia.com/mig-1g.10gb on a100-mig for 10 h at $0.49 per unit-hour: $4.90',
    );
  });

  it('asks for what is missing before it prices anything', async () => {
    await renderPreview({ team: 'group:default/ml-research', pool: 'h100' });
    expect(
      await screen.findByText('Pick gpus, hours to see the estimate.'),
    ).toBeInTheDocument();
  });

  it('says when the cost tracker cannot be reached, without blocking the form', async () => {
    const props = {
      schema: {},
      uiSchema: {},
      formContext: { formData: TRAINING },
      onChange: jest.fn(),
    } as any;
    await renderInTestApp(<CostPreviewField {...props} />, {
      apis: [[costTrackerReadApiRef, directClient('http://127.0.0.1:9')]],
    });
    expect(
      await screen.findByText(
        /The cost tracker could not be reached for an estimate/,
      ),
    ).toBeInTheDocument();
  });
});
