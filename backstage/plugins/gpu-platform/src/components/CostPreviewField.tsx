import { Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import type { FieldExtensionComponentProps } from '@backstage/plugin-scaffolder-react';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import useAsync from 'react-use/esm/useAsync';
import { costTrackerReadApiRef } from '../api';
import { type Ask, type Preview, money, previewAsk } from '../estimate';

/** Where the ask's fields are in the form; each defaults to its own name. */
export interface CostPreviewUiOptions {
  fields?: Partial<Record<keyof Ask, string>>;
}

/** The ask as the form holds it now, every step's values included. */
export function askOf(
  formData: Record<string, unknown>,
  fields: CostPreviewUiOptions['fields'] = {},
): Ask {
  const value = (key: keyof Ask) => formData[fields[key] ?? key];
  const text = (key: keyof Ask) =>
    typeof value(key) === 'string' && value(key) !== ''
      ? String(value(key))
      : undefined;
  const number = (key: keyof Ask) =>
    typeof value(key) === 'number' ? (value(key) as number) : undefined;
  return {
    team: text('team'),
    pool: text('pool'),
    gpuResource: text('gpuResource'),
    gpus: number('gpus'),
    hours: number('hours'),
    priorityClass: text('priorityClass'),
  };
}

/**
 * The form's cost preview (`ui:field: GpuCostPreview`): as the user picks the pool, GPU resource,
 * count and hours, the estimate from the cost tracker's pool prices, the team's remaining budget,
 * and a mark on an ask the cost tracker would reject. It holds no value of its own.
 */
export function CostPreviewField(
  props: FieldExtensionComponentProps<null, CostPreviewUiOptions>,
) {
  const api = useApi(costTrackerReadApiRef);
  const formData =
    (props.formContext as { formData?: Record<string, unknown> } | undefined)
      ?.formData ?? {};
  const ask = askOf(formData, props.uiSchema?.['ui:options']?.fields);
  const prices = useAsync(() => Promise.all([api.pools(), api.teams()]), [api]);
  return (
    <Box data-testid="gpu-cost-preview" marginY={2}>
      <Typography variant="h6">
        {props.schema.title ?? 'Estimated cost'}
      </Typography>
      {prices.loading && <Progress />}
      {prices.error && (
        <Alert severity="warning">
          The cost tracker could not be reached for an estimate (
          {prices.error.message}); the request is still checked when you create
          it.
        </Alert>
      )}
      {prices.value && (
        <PreviewText
          ask={ask}
          preview={previewAsk(ask, prices.value[0], prices.value[1])}
        />
      )}
    </Box>
  );
}

function PreviewText({ ask, preview }: { ask: Ask; preview: Preview }) {
  if (preview.kind === 'incomplete') {
    return (
      <Typography color="textSecondary">
        Pick {preview.missing.join(', ')} to see the estimate.
      </Typography>
    );
  }
  if (preview.kind === 'unknown')
    return <Alert severity="info">{preview.message}</Alert>;
  const unit = ask.gpuResource ?? 'GPU';
  return (
    <>
      <Typography component="div" data-testid="gpu-cost-estimate">
        {ask.gpus} × {unit} on {ask.pool} for {ask.hours} h at{' '}
        {money(preview.usdPerUnitHour)} per unit-hour:{' '}
        <strong>{money(preview.estimatedCostUsd)}</strong>
        {preview.critical && (
          <Chip
            size="small"
            color="secondary"
            label={`${ask.priorityClass}: critical class`}
            style={{ marginLeft: 8 }}
          />
        )}
      </Typography>
      {preview.team ? (
        <Typography data-testid="gpu-cost-budget">
          Team {preview.team.name} has {money(preview.team.remainingUsd)} left
          of {money(preview.team.monthlyBudgetUsd)} this month; after this ask:{' '}
          {money(preview.remainingAfterUsd!)}.
        </Typography>
      ) : (
        <Typography color="textSecondary">
          Pick the owning team to compare with its budget.
        </Typography>
      )}
      <Verdict preview={preview} priorityClass={ask.priorityClass} />
    </>
  );
}

function Verdict({
  preview,
  priorityClass,
}: {
  preview: Extract<Preview, { kind: 'priced' }>;
  priorityClass?: string;
}) {
  if (preview.verdict === 'rejected') {
    return (
      <Alert severity="error" data-testid="gpu-cost-verdict">
        The cost tracker would reject this ask: it is{' '}
        {money(-preview.remainingAfterUsd!)} over what the team has left.
        {preview.critical &&
          ` ${priorityClass} is a critical class, but the portal's requests do not pass the budget with it: the platform team can grant an exception.`}{' '}
        Ask for fewer GPUs or fewer hours, or wait until money is freed.
      </Alert>
    );
  }
  if (preview.verdict === 'critical-over-budget') {
    return (
      <Alert severity="warning" data-testid="gpu-cost-verdict">
        Over what the team has left, but {priorityClass} is a critical class: it
        is approved past the budget, and flagged to the team's budget owner.
      </Alert>
    );
  }
  if (preview.verdict === 'fits') {
    return (
      <Alert severity="success" data-testid="gpu-cost-verdict">
        Within the team's budget.
      </Alert>
    );
  }
  return null;
}
