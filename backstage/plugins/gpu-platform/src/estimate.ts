import type { PoolOffers, TeamBudget } from './api';

/** What the form asks for, as far as the preview can read it; unset fields are undefined. */
export interface Ask {
  readonly team?: string;
  readonly pool?: string;
  readonly gpuResource?: string;
  readonly gpus?: number;
  readonly hours?: number;
  readonly priorityClass?: string;
}

export type Preview =
  | { readonly kind: 'incomplete'; readonly missing: readonly string[] }
  | { readonly kind: 'unknown'; readonly message: string }
  | {
      readonly kind: 'priced';
      readonly estimatedCostUsd: number;
      readonly usdPerUnitHour: number;
      /** The team's budget, or undefined when the form names no team the cost tracker knows. */
      readonly team?: TeamBudget;
      readonly remainingAfterUsd?: number;
      readonly critical: boolean;
      /** Whether the portal's request for this critical class would pass the budget (its caller kind is a critical approver). */
      readonly criticalPassesBudget: boolean;
      /** fits, rejected (over what is left), or over-but-critical (approved past the budget, flagged). */
      readonly verdict:
        'fits' | 'rejected' | 'critical-over-budget' | 'no-team';
    };

/** The caller kind the portal's requests come as (the cost tracker's `portal` credential). */
const PORTAL_CALLER = 'portal';

/** The team a form's value names: `group:default/ml-research` or a bare name. */
export function teamName(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const match = /^(?:group:)?(?:default\/)?([a-z0-9][-a-z0-9]*)$/i.exec(value);
  return match?.[1];
}

/** Rounds to the cent, as the cost tracker rounds every amount. */
export function cents(amount: number): number {
  return Math.round(amount * 100) / 100;
}

/**
 * The estimate of an ask from the cost tracker's own prices (GET /v1/pools, never a copy), the
 * team's remaining budget (GET /v1/teams), and whether the cost tracker would approve it: it
 * rejects what is over the remaining budget, unless the class is critical and the portal is one of
 * the callers whose critical requests pass it (`criticalApprovers`; by default it is not).
 */
export function previewAsk(
  ask: Ask,
  offers: PoolOffers,
  teams: readonly TeamBudget[],
): Preview {
  const missing = (['pool', 'gpus', 'hours'] as const).filter(
    key => ask[key] === undefined || ask[key] === '',
  );
  if (missing.length > 0) return { kind: 'incomplete', missing };
  const pool = offers.pools.find(p => p.name === ask.pool);
  if (!pool)
    return {
      kind: 'unknown',
      message: `The cost tracker knows no pool "${ask.pool}".`,
    };
  const resource =
    pool.resources.find(r => r.gpuResource === ask.gpuResource) ??
    (ask.gpuResource === undefined && pool.resources.length === 1
      ? pool.resources[0]
      : undefined);
  if (!resource) {
    return {
      kind: 'unknown',
      message: `Pool ${pool.name} offers ${pool.resources.map(r => r.gpuResource).join(', ')}; pick one.`,
    };
  }
  const estimatedCostUsd = cents(
    resource.usdPerUnitHour * ask.gpus! * ask.hours!,
  );
  const critical = (offers.criticalPriorityClasses ?? []).includes(
    ask.priorityClass ?? '',
  );
  const criticalPassesBudget =
    critical && (offers.criticalApprovers ?? []).includes(PORTAL_CALLER);
  const team = teams.find(t => t.name === teamName(ask.team));
  if (!team)
    return {
      kind: 'priced',
      estimatedCostUsd,
      usdPerUnitHour: resource.usdPerUnitHour,
      critical,
      criticalPassesBudget,
      verdict: 'no-team',
    };
  const fits = estimatedCostUsd <= team.remainingUsd;
  const overVerdict = criticalPassesBudget
    ? 'critical-over-budget'
    : 'rejected';
  return {
    kind: 'priced',
    estimatedCostUsd,
    usdPerUnitHour: resource.usdPerUnitHour,
    team,
    remainingAfterUsd: cents(team.remainingUsd - estimatedCostUsd),
    critical,
    criticalPassesBudget,
    verdict: fits ? 'fits' : overVerdict,
  };
}

const USD = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
});

/** `$1,234.50`; negative amounts read `−$9.70`. */
export function money(amount: number): string {
  return amount < 0 ? `−${USD.format(-amount)}` : USD.format(amount);
}
