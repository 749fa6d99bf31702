import { type Entity, parseEntityRef } from '@backstage/catalog-model';
import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  Table,
  type TableColumn,
} from '@backstage/core-components';
import { configApiRef, useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { type Decision, type TeamBudget, costTrackerReadApiRef } from '../api';
import { money } from '../estimate';
import { forecastInWords } from '../forecast';

/** Marks a Group made from one of the platform's teams (plugins/catalog-backend-module-gpu-teams). */
export const TEAM_ANNOTATION = 'gpu-platform/team';
/** Marks a Component a GPU template registered: the approval its workload runs under. */
export const APPROVAL_ANNOTATION = 'gpu-platform/approval';
const RECENT_DECISIONS = 5;

/** The team whose budget an entity shows: a team's Group, or the owner of a workload's Component. */
export function teamOfEntity(entity: Entity): string | undefined {
  const annotations = entity.metadata.annotations ?? {};
  if (entity.kind === 'Group') return annotations[TEAM_ANNOTATION];
  if (
    entity.kind === 'Component' &&
    annotations[APPROVAL_ANNOTATION] &&
    typeof entity.spec?.owner === 'string'
  ) {
    const owner = parseEntityRef(entity.spec.owner, {
      defaultKind: 'group',
      defaultNamespace: 'default',
    });
    return owner.kind.toLocaleLowerCase('en-US') === 'group'
      ? owner.name
      : undefined;
  }
  return undefined;
}

/** The entity card: the team's budget, what is spent and reserved, the forecast, recent decisions, and the dashboard. */
export function BudgetCard() {
  const { entity } = useEntity();
  const team = teamOfEntity(entity);
  const api = useApi(costTrackerReadApiRef);
  const dashboardUrl = useApi(configApiRef).getOptionalString(
    'gpuPlatform.costTracker.dashboardUrl',
  );
  const state = useAsync(async () => {
    if (!team) return undefined;
    // The decisions are asked for only for a team the cost tracker knows: it refuses any other name.
    const budget = (await api.teams()).find(t => t.name === team);
    return {
      budget,
      decisions: budget ? await api.decisions(team, RECENT_DECISIONS) : [],
    };
  }, [api, team]);
  const deepLink = dashboardUrl
    ? { title: 'Open the cost dashboard', link: dashboardUrl }
    : undefined;
  return (
    <InfoCard
      title={`GPU budget${team ? ` of ${team}` : ''}`}
      deepLink={deepLink}
    >
      {state.loading && <Progress />}
      {state.error && <ResponseErrorPanel error={state.error} />}
      {!state.loading && !state.error && !state.value?.budget && (
        <Typography>
          The cost tracker has no team {team ?? '(none named)'}.
        </Typography>
      )}
      {state.value?.budget && <BudgetFigures budget={state.value.budget} />}
      {state.value?.budget && (
        <RecentDecisions decisions={state.value.decisions} />
      )}
    </InfoCard>
  );
}

function BudgetFigures({ budget }: { budget: TeamBudget }) {
  const forecast = forecastInWords(budget);
  const rows: [string, string, string][] = [
    [
      'budget',
      `Monthly budget (${budget.month})`,
      money(budget.monthlyBudgetUsd),
    ],
    ['spent', 'Spent this month', money(budget.monthToDateUsd)],
    ['reserved', 'Reserved by approved requests', money(budget.reservedUsd)],
    ['remaining', 'Remaining', money(budget.remainingUsd)],
    ['forecast', 'Month-end forecast', forecast.text],
  ];
  return (
    <Box
      component="dl"
      data-testid="gpu-budget-figures"
      display="grid"
      gridTemplateColumns="auto auto"
      gridGap={4}
    >
      {rows.map(([key, label, value]) => (
        <Box key={key} display="contents">
          <Typography component="dt" color="textSecondary">
            {label}
          </Typography>
          <Typography
            component="dd"
            data-testid={`gpu-budget-${key}`}
            style={{ margin: 0, textAlign: 'right' }}
          >
            {value}
          </Typography>
        </Box>
      ))}
      {forecast.warning && (
        <Typography
          component="dd"
          color="error"
          data-testid="gpu-budget-forecast-warning"
          style={{ gridColumn: '1 / 3', margin: 0 }}
        >
          {forecast.warning}
        </Typography>
      )}
    </Box>
  );
}

const DECISION_COLUMNS: TableColumn<Decision>[] = [
  {
    title: 'When',
    field: 'createdAt',
    render: d => d.createdAt.slice(0, 16).replace('T', ' '),
  },
  { title: 'Who', field: 'requester' },
  {
    title: 'Ask',
    render: d =>
      `${d.gpus} × ${d.gpuResource} on ${d.pool} for ${d.hours} h (${d.priorityClass})`,
  },
  { title: 'Estimate', render: d => money(d.estimatedCostUsd) },
  {
    title: 'Decision',
    render: decisionInWords,
  },
];

function decisionInWords(decision: Decision): string {
  if (decision.status === 'rejected') return `rejected: ${decision.reason}`;
  return decision.overBudget ? 'approved past the budget' : 'approved';
}

function RecentDecisions({ decisions }: { decisions: Decision[] }) {
  if (decisions.length === 0)
    return (
      <Typography color="textSecondary">
        No GPU requests yet this month.
      </Typography>
    );
  return (
    <Table
      title="Recent decisions"
      options={{
        paging: false,
        search: false,
        padding: 'dense',
        toolbar: true,
      }}
      columns={DECISION_COLUMNS}
      data={decisions}
    />
  );
}
