import {
  type DiscoveryApi,
  type FetchApi,
  createApiRef,
} from '@backstage/core-plugin-api';

/** A pool as GET /v1/pools lists it: each GPU resource it offers with the catalog's price per unit-hour. */
export interface PoolOffer {
  readonly name: string;
  readonly instanceType: string;
  readonly resources: readonly {
    gpuResource: string;
    usdPerUnitHour: number;
    maxUnits: number;
  }[];
}

export interface PoolOffers {
  readonly pools: readonly PoolOffer[];
  /** Classes approved past the budget (flagged) for a caller of `criticalApprovers`; absent from a cost tracker that does not say. */
  readonly criticalPriorityClasses?: readonly string[];
  /**
   * The caller kinds whose critical-class requests pass the budget (by default the platform team's
   * and the budget gate's, not the portal's); absent from a cost tracker that does not say, and
   * then the preview promises nothing past the budget.
   */
  readonly criticalApprovers?: readonly string[];
}

/**
 * The month-end forecast as GET /v1/teams gives it (services/cost-tracker/src/http/schemas.ts,
 * `teamSummarySchema.forecast`): a point and a prediction range at `confidencePct`, all null while
 * the team has too little history.
 */
export interface Forecast {
  readonly asOfDay: string;
  readonly historyDays: number;
  readonly confidencePct: number;
  readonly pointUsd: number | null;
  readonly lowUsd: number | null;
  readonly highUsd: number | null;
}

/** A team as GET /v1/teams lists it. */
export interface TeamBudget {
  readonly name: string;
  readonly month: string;
  readonly monthlyBudgetUsd: number;
  readonly monthToDateUsd: number;
  readonly reservedUsd: number;
  readonly remainingUsd: number;
  /** The forecast's point; null without enough history. */
  readonly forecastUsd: number | null;
  readonly forecast: Forecast;
}

/** A decision as GET /v1/gpu-requests lists it. */
export interface Decision {
  readonly id: string;
  readonly status: 'approved' | 'rejected';
  readonly requester: string;
  readonly pool: string;
  readonly gpuResource: string;
  readonly gpus: number;
  readonly hours: number;
  readonly priorityClass: string;
  readonly estimatedCostUsd: number;
  readonly overBudget: boolean;
  readonly reason: string;
  readonly createdAt: string;
}

/** The cost tracker's reads: no credential of the cost tracker's is needed or sent. */
export interface CostTrackerReadApi {
  pools(): Promise<PoolOffers>;
  teams(): Promise<TeamBudget[]>;
  decisions(team: string, limit: number): Promise<Decision[]>;
}

export const costTrackerReadApiRef = createApiRef<CostTrackerReadApi>({
  id: 'plugin.gpu-platform.cost-tracker',
});

/** The read API over Backstage's proxy (`/api/proxy/cost-tracker`, GET only, no write credential), or any base URL. */
export class CostTrackerReadClient implements CostTrackerReadApi {
  static overProxy(options: {
    discoveryApi: DiscoveryApi;
    fetchApi: FetchApi;
  }): CostTrackerReadClient {
    return new CostTrackerReadClient({
      baseUrl: async () =>
        `${await options.discoveryApi.getBaseUrl('proxy')}/cost-tracker`,
      fetchApi: options.fetchApi,
    });
  }

  constructor(
    private readonly options: {
      baseUrl: () => Promise<string>;
      fetchApi: FetchApi;
    },
  ) {}

  async pools(): Promise<PoolOffers> {
    return this.get<PoolOffers>('/v1/pools');
  }

  async teams(): Promise<TeamBudget[]> {
    return this.get<TeamBudget[]>('/v1/teams');
  }

  async decisions(team: string, limit: number): Promise<Decision[]> {
    return this.get<Decision[]>(
      `/v1/gpu-requests?team=${encodeURIComponent(team)}&limit=${limit}`,
    );
  }

  private async get<T>(path: string): Promise<T> {
    const response = await this.options.fetchApi.fetch(
      `${await this.options.baseUrl()}${path}`,
    );
    if (!response.ok) {
      throw new Error(
        `the cost tracker answered ${response.status} to GET ${path.split('?')[0]}`,
      );
    }
    return (await response.json()) as T;
  }
}
