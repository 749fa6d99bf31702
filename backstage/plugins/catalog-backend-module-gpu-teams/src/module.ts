import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  catalogProcessingExtensionPoint,
  type EntityProvider,
  type EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import { type PlatformTeam, teamGroup, readTeams } from './teams';

/** Emits the platform's teams as Groups, replacing them all whenever the backend starts. */
export class PlatformTeamsProvider implements EntityProvider {
  constructor(private readonly teams: readonly PlatformTeam[]) {}

  getProviderName(): string {
    return 'gpu-platform-teams';
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    await connection.applyMutation({
      type: 'full',
      entities: this.teams.map(team => ({
        entity: teamGroup(team),
        locationKey: this.getProviderName(),
      })),
    });
  }
}

/** The catalog module: one Group per team of gpuPlatform.teams (the stack's `teams`). */
export const catalogModuleGpuTeams = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'gpu-teams',
  register({ registerInit }) {
    registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        config: coreServices.rootConfig,
      },
      async init({ catalog, config }) {
        catalog.addEntityProvider(new PlatformTeamsProvider(readTeams(config)));
      },
    });
  },
});
