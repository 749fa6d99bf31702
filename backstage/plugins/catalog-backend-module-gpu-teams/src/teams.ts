import type { Config } from '@backstage/config';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  type GroupEntityV1alpha1,
} from '@backstage/catalog-model';

/** A team of the platform's stack, as the platform writes it into app-config (gpuPlatform.teams). */
export interface PlatformTeam {
  readonly name: string;
  readonly costCenter?: string;
  readonly monthlyBudgetUsd?: number;
  /** Users (`ada` or `user:default/ada`) who may spend the team's budget. Default none: membership then comes from Users' `spec.memberOf`. */
  readonly members: string[];
}

/** Marks a Group as one of the platform's teams; the portal's budget card shows on such Groups. */
export const TEAM_ANNOTATION = 'gpu-platform/team';
export const COST_CENTER_ANNOTATION = 'gpu-platform/cost-center';
const LOCATION = 'gpu-platform-teams:app-config';
const TEAM_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The teams of gpuPlatform.teams, each checked; one line per problem, naming its key. */
export function readTeams(config: Config): PlatformTeam[] {
  const entries = config.getOptionalConfigArray('gpuPlatform.teams') ?? [];
  const problems: string[] = [];
  const teams = entries.map((entry, i) => {
    const name = entry.getString('name');
    if (!TEAM_NAME.test(name))
      problems.push(
        `gpuPlatform.teams[${i}].name: "${name}" must be lower case letters, digits and '-' (a Kubernetes namespace name)`,
      );
    return {
      name,
      costCenter: entry.getOptionalString('costCenter'),
      monthlyBudgetUsd: entry.getOptionalNumber('monthlyBudgetUsd'),
      members: entry.getOptionalStringArray('members') ?? [],
    };
  });
  teams.forEach((team, i) => {
    if (teams.findIndex(t => t.name === team.name) !== i)
      problems.push(
        `gpuPlatform.teams[${i}].name: "${team.name}" is listed twice`,
      );
  });
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return teams;
}

/** The Group a team is in the catalog: named as the team, so ownership and membership match the cost tracker's. */
export function teamGroup(team: PlatformTeam): GroupEntityV1alpha1 {
  const facts = [
    team.costCenter && `cost center ${team.costCenter}`,
    team.monthlyBudgetUsd !== undefined &&
      `a monthly budget of $${team.monthlyBudgetUsd.toLocaleString('en-US')}`,
  ].filter(Boolean);
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: {
      name: team.name,
      namespace: 'default',
      title: team.name,
      description: `A team of the GPU platform${facts.length ? ` (${facts.join(', ')})` : ''}`,
      annotations: {
        [ANNOTATION_LOCATION]: LOCATION,
        [ANNOTATION_ORIGIN_LOCATION]: LOCATION,
        [TEAM_ANNOTATION]: team.name,
        ...(team.costCenter
          ? { [COST_CENTER_ANNOTATION]: team.costCenter }
          : {}),
      },
    },
    spec: { type: 'team', children: [], members: team.members },
  };
}
