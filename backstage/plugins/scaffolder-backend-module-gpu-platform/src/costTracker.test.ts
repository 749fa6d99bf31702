/**
 * What the portal sends the cost tracker, as the identity contract of docs/cost-tracker-api.md
 * asks (the service checks it once issue 24 lands; until then a recording server shows it), and
 * that a write meeting a 503 is repeated with the same idempotency key.
 */
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CostTrackerClient } from './costTracker';

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A server that answers each request with the next of `answers` and records what it got. */
async function recordingServer(
  answers: Array<{ status: number; body: unknown }>,
) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', chunk => (body += String(chunk)));
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body,
      });
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)];
      res
        .writeHead(answer.status, { 'content-type': 'application/json' })
        .end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise(r => server.close(r)),
  };
}

const APPROVED = {
  id: '5b0a9a52-34a3-4c7b-8f43-7b1b4a5c0d11',
  status: 'approved',
  estimatedCostUsd: 6.88,
  remainingUsd: 100,
};
const ASK = {
  team: 'ml-research',
  pool: 'h100',
  gpus: 1,
  hours: 1,
  priorityClass: 'research',
  requester: 'user:default/ada',
};
const ADA = {
  userRef: 'user:default/ada',
  teams: ['inference', 'ml-research'],
};

describe('CostTrackerClient', () => {
  it("sends Backstage's token, the idempotency key, the acting user and the user's teams on a write", async () => {
    const server = await recordingServer([{ status: 201, body: APPROVED }]);
    const client = new CostTrackerClient({
      baseUrl: `${server.url}/`,
      token: 'portal-token-0123456789',
    });
    await expect(
      client.requestGpus(ASK, 'backstage:task-1:requestGpus', ADA),
    ).resolves.toEqual(APPROVED);
    await server.close();
    expect(server.seen).toHaveLength(1);
    const [request] = server.seen;
    expect([request.method, request.url]).toEqual(['POST', '/v1/gpu-requests']);
    expect(request.headers).toMatchObject({
      authorization: 'Bearer portal-token-0123456789',
      'idempotency-key': 'backstage:task-1:requestGpus',
      'x-acting-user': 'user:default/ada',
      'x-acting-user-teams': 'inference,ml-research',
      'content-type': 'application/json',
    });
    expect(JSON.parse(request.body)).toEqual(ASK);
  });

  it('repeats a write that met a 503 with the same key, and returns the answer that followed', async () => {
    const server = await recordingServer([
      {
        status: 503,
        body: {
          error: 'Service Unavailable',
          message: 'the database is unavailable',
        },
      },
      { status: 201, body: APPROVED },
    ]);
    const client = new CostTrackerClient({
      baseUrl: server.url,
      token: 'portal-token-0123456789',
      retryDelaysMs: [5],
    });
    await expect(client.requestGpus(ASK, 'key-1', ADA)).resolves.toEqual(
      APPROVED,
    );
    await server.close();
    expect(server.seen.map(s => s.headers['idempotency-key'])).toEqual([
      'key-1',
      'key-1',
    ]);
  });

  it('gives up after its last retry, saying the cost tracker cannot serve now', async () => {
    const server = await recordingServer([
      { status: 503, body: { message: 'the database is unavailable' } },
    ]);
    const client = new CostTrackerClient({
      baseUrl: server.url,
      token: 'portal-token-0123456789',
      retryDelaysMs: [5, 5],
    });
    await expect(client.requestGpus(ASK, 'key-2', ADA)).rejects.toThrow(
      `the cost tracker at ${server.url} cannot serve now (503: the database is unavailable)`,
    );
    await server.close();
    expect(server.seen).toHaveLength(3);
  });

  it('reads need no token', async () => {
    const server = await recordingServer([
      { status: 200, body: { pools: [] } },
    ]);
    const client = new CostTrackerClient({
      baseUrl: server.url,
      token: 'portal-token-0123456789',
    });
    await expect(client.pools()).resolves.toEqual([]);
    await server.close();
    expect(server.seen[0].headers.authorization).toBeUndefined();
  });
});
