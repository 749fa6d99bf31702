import type { FetchApi } from '@backstage/core-plugin-api';
import { CostTrackerReadClient } from './api';

/** The plugin's read client pointed straight at a running cost tracker, as the proxy would forward it. */
export function directClient(baseUrl: string): CostTrackerReadClient {
  const fetchApi: FetchApi = { fetch: (input, init) => fetch(input, init) };
  return new CostTrackerReadClient({ baseUrl: async () => baseUrl, fetchApi });
}
