/**
 * Catalog module: the GPU platform's teams as Groups.
 *
 * @packageDocumentation
 */
export {
  catalogModuleGpuTeams as default,
  PlatformTeamsProvider,
} from './module';
export {
  readTeams,
  teamGroup,
  TEAM_ANNOTATION,
  type PlatformTeam,
} from './teams';
