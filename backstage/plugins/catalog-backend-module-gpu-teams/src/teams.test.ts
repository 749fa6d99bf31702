import { ConfigReader } from '@backstage/config';
import type { JsonObject } from '@backstage/types';
import { groupEntityV1alpha1Validator } from '@backstage/catalog-model';
import { PlatformTeamsProvider } from './module';
import { readTeams, teamGroup } from './teams';

const config = (teams: JsonObject[]) =>
  new ConfigReader({ gpuPlatform: { teams } });

describe('the stack teams as catalog Groups', () => {
  it('makes one valid Group per team, named as the team, with its members and cost center', async () => {
    const teams = readTeams(
      config([
        {
          name: 'ml-research',
          costCenter: 'CC-1001',
          monthlyBudgetUsd: 120000,
          members: ['ada', 'user:default/grace'],
        },
        { name: 'inference' },
      ]),
    );
    const group = teamGroup(teams[0]);
    expect(await groupEntityV1alpha1Validator.check(group)).toBe(true);
    expect(group.metadata.name).toBe('ml-research');
    expect(group.metadata.annotations).toMatchObject({
      'gpu-platform/team': 'ml-research',
      'gpu-platform/cost-center': 'CC-1001',
    });
    expect(group.metadata.description).toBe(
      'A team of the GPU platform (cost center CC-1001, a monthly budget of $120,000)',
    );
    expect(group.spec.members).toEqual(['ada', 'user:default/grace']);
    expect(teamGroup(teams[1]).spec.members).toEqual([]);
  });

  it('names every bad team in one message, a line each, before any Group is made', () => {
    expect(() =>
      readTeams(
        config([
          { name: 'ML_Research' },
          { name: 'inference' },
          { name: 'inference' },
        ]),
      ),
    ).toThrow(
      [
        `gpuPlatform.teams[0].name: "ML_Research" must be lower case letters, digits and '-' (a Kubernetes namespace name)`,
        'gpuPlatform.teams[2].name: "inference" is listed twice',
      ].join('\n'),
    );
  });

  it('has no teams when the stack gives none', () => {
    expect(readTeams(new ConfigReader({}))).toEqual([]);
  });

  it('replaces all its Groups at once when the catalog connects', async () => {
    const applyMutation = jest.fn();
    const provider = new PlatformTeamsProvider(
      readTeams(config([{ name: 'ml-research' }, { name: 'inference' }])),
    );
    await provider.connect({ applyMutation, refresh: jest.fn() });
    expect(applyMutation).toHaveBeenCalledTimes(1);
    const mutation = applyMutation.mock.calls[0][0];
    expect(mutation.type).toBe('full');
    expect(mutation.entities.map((e: any) => e.entity.metadata.name)).toEqual([
      'ml-research',
      'inference',
    ]);
  });
});
