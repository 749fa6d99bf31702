/**
 * The calls the portal makes to the GPU cost tracker, as the cost tracker's API contract
 * (docs/cost-tracker-api.md) defines them: writes carry Backstage's own bearer token and name
 * the signed-in user it acts for (`X-Acting-User`) and the teams the catalog says that user
 * belongs to (`X-Acting-User-Teams`); reads need no token.
 *
 * A write that meets no answer (connection refused, timeout) or a 502/503/504 is sent again, a
 * few times, with the same Idempotency-Key: the cost tracker answers a repeated key with its
 * first answer and reserves nothing twice.
 */

/** Who Backstage acts for: the user's entity ref and the names of the teams they belong to. */
export interface ActingUser {
  readonly userRef: string;
  readonly teams: readonly string[];
}

export interface CostTrackerClientOptions {
  /** The cost tracker's base URL, e.g. http://cost-tracker.internal (no trailing /v1). */
  readonly baseUrl: string;
  /** Backstage's own credential for writes. */
  readonly token: string;
  /** Pauses before each repeat of a write that met no answer. Default 1 s, 3 s. */
  readonly retryDelaysMs?: readonly number[];
  /** How long one call may take. Default 10 s. */
  readonly timeoutMs?: number;
}

/** The answer to POST /v1/gpu-requests, as far as the portal reads it. */
export interface GpuRequestAnswer {
  readonly id?: string;
  readonly status: 'approved' | 'rejected';
  readonly estimatedCostUsd: number;
  readonly remainingUsd: number;
  readonly expiresAt?: string;
  readonly overBudget?: boolean;
  readonly adopted?: boolean;
  readonly reason?: string;
}

export interface GpuRequestBody {
  readonly team: string;
  readonly pool: string;
  readonly gpuResource?: string;
  readonly gpus: number;
  readonly hours: number;
  readonly priorityClass: string;
  readonly requester: string;
  readonly purpose?: string;
  readonly workload?: { namespace: string; kind: string; name: string };
}

/** A pool as GET /v1/pools lists it: the resources it offers, each with the catalog's price. */
export interface PoolOffer {
  readonly name: string;
  readonly resources: readonly {
    gpuResource: string;
    usdPerUnitHour: number;
    maxUnits: number;
  }[];
}

/** A team as GET /v1/teams lists it. */
export interface TeamSummary {
  readonly name: string;
  readonly monthlyBudgetUsd: number;
  readonly monthToDateUsd: number;
  readonly reservedUsd: number;
  readonly remainingUsd: number;
}

/** The cost tracker could not be asked: nothing answered, or it answered that it cannot serve now. */
export class CostTrackerUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CostTrackerUnavailable';
  }
}

/** The cost tracker answered with an error of its own (4xx other than a rejection, or 500). */
export class CostTrackerError extends Error {
  constructor(
    public readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'CostTrackerError';
  }
}

const RETRIED_STATUSES = [502, 503, 504];

export class CostTrackerClient {
  private readonly baseUrl: string;

  constructor(private readonly options: CostTrackerClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** Asks for GPUs for `acting.userRef`: 201/200 approved (or adopted), 409 rejected; anything else throws. */
  async requestGpus(
    body: GpuRequestBody,
    idempotencyKey: string,
    acting: ActingUser,
  ): Promise<GpuRequestAnswer> {
    const { status, json } = await this.write(
      '/v1/gpu-requests',
      body,
      idempotencyKey,
      acting,
    );
    if (status === 200 || status === 201 || status === 409)
      return json as GpuRequestAnswer;
    throw this.errorFor(status, json);
  }

  /** Releases a reservation (a later step failed); releasing twice is harmless. */
  async release(
    id: string,
    idempotencyKey: string,
    acting: ActingUser,
  ): Promise<void> {
    const { status, json } = await this.write(
      `/v1/gpu-requests/${encodeURIComponent(id)}/release`,
      undefined,
      idempotencyKey,
      acting,
    );
    if (status !== 200) throw this.errorFor(status, json);
  }

  async pools(): Promise<PoolOffer[]> {
    return ((await this.read('/v1/pools')) as { pools: PoolOffer[] }).pools;
  }

  async teams(): Promise<TeamSummary[]> {
    return (await this.read('/v1/teams')) as TeamSummary[];
  }

  private async read(path: string): Promise<unknown> {
    const response = await this.send(path, { method: 'GET' });
    const json = await jsonOf(response);
    if (!response.ok) throw this.errorFor(response.status, json);
    return json;
  }

  private async write(
    path: string,
    body: unknown,
    idempotencyKey: string,
    acting: ActingUser,
  ): Promise<{ status: number; json: unknown }> {
    const init = {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.options.token}`,
        'idempotency-key': idempotencyKey,
        'x-acting-user': acting.userRef,
        'x-acting-user-teams': acting.teams.join(','),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    };
    const delays = this.options.retryDelaysMs ?? [1000, 3000];
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.send(path, init);
        if (
          RETRIED_STATUSES.includes(response.status) &&
          attempt < delays.length
        ) {
          await sleep(delays[attempt]);
          continue;
        }
        return { status: response.status, json: await jsonOf(response) };
      } catch (err) {
        if (
          !(err instanceof CostTrackerUnavailable) ||
          attempt >= delays.length
        )
          throw err;
        await sleep(delays[attempt]);
      }
    }
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        ...init,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new CostTrackerUnavailable(
        `the cost tracker at ${this.baseUrl} did not answer (${causeOf(err)})`,
      );
    }
  }

  private errorFor(status: number, json: unknown): Error {
    const message =
      typeof json === 'object' && json !== null && 'message' in json
        ? String((json as { message: unknown }).message)
        : JSON.stringify(json);
    if (RETRIED_STATUSES.includes(status))
      return new CostTrackerUnavailable(
        `the cost tracker at ${this.baseUrl} cannot serve now (${status}: ${message})`,
      );
    return new CostTrackerError(status, message);
  }
}

async function jsonOf(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}

/** The innermost reason fetch gives: ECONNREFUSED, a timeout, a DNS failure (read by shape: errors may come from another realm). */
function causeOf(err: unknown): string {
  let current = err as
    { cause?: unknown; code?: string; message?: string } | undefined;
  while (
    current?.cause !== undefined &&
    typeof current.cause === 'object' &&
    current.cause !== null
  )
    current = current.cause as typeof current;
  return current?.code ?? current?.message ?? String(current);
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
