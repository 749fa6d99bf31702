import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import type { CatalogService } from '@backstage/plugin-catalog-node';

/**
 * The platform's teams are the catalog's Groups in the default namespace, named as the stack's
 * `teams` (plugins/catalog-backend-module-gpu-teams makes them).
 */
export const TEAM_NAMESPACE = 'default';

/**
 * The names of the teams the catalog says `userRef` belongs to: the Groups with a `hasMember`
 * relation to the user (made from the Group's `spec.members` or the User's `spec.memberOf`),
 * so a user known only to the sign-in provider, with no User entity, still counts.
 */
export async function teamsOfUser(
  catalog: CatalogService,
  userRef: string,
  credentials: BackstageCredentials,
): Promise<string[]> {
  const { items } = await catalog.getEntities(
    {
      filter: {
        kind: 'Group',
        'metadata.namespace': TEAM_NAMESPACE,
        'relations.hasMember': userRef.toLocaleLowerCase('en-US'),
      },
      fields: ['metadata.name'],
    },
    { credentials },
  );
  return items.map(group => group.metadata.name).sort();
}

/**
 * The team a template's `team` parameter names: a Group's entity ref as the owner picker gives
 * it (`group:default/ml-research`) or a bare team name; undefined when it names anything else.
 */
export function teamNameOf(team: string): string | undefined {
  try {
    const ref = parseEntityRef(team, {
      defaultKind: 'group',
      defaultNamespace: TEAM_NAMESPACE,
    });
    return ref.kind.toLocaleLowerCase('en-US') === 'group' &&
      ref.namespace === TEAM_NAMESPACE
      ? ref.name
      : undefined;
  } catch {
    return undefined;
  }
}
