/**
 * How the service reaches OpenCost and Prometheus from Fargate: through the Kubernetes API
 * server's service proxy, with an EKS token, trusting only the cluster's CA. The API server is a
 * local HTTPS server shaped like the real one (paths `/api/v1/namespaces/<ns>/services/
 * <scheme>:<name>:<port>/proxy/…`, a 403 `Status` for anything RBAC does not allow), serving a
 * recorded OpenCost answer and Prometheus' API to the service's real clients. The token's
 * signature is checked by an independent SigV4 computation written here from AWS's spec.
 *
 * Also the database credentials' path on Fargate: DATABASE_URL without a password plus
 * DATABASE_PASSWORD from ECS secrets, checked on the wire against a server speaking
 * PostgreSQL's protocol, which then refuses the password as RDS does after a rotation.
 */
import * as assert from "assert";
import { createHash, createHmac } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import type { AddressInfo } from "net";
import * as path from "path";
import { costTrackerConfigProblems } from "@gpu-platform/catalog/contracts";
import { postgresDatabase } from "../src/db/database";
import { readSettings } from "../src/settings";
import { sourcesFor } from "../src/sources";
import { CLUSTER_ID_HEADER, TOKEN_PREFIX, eksToken, kubernetesApiTransport } from "../src/sources/kubernetes-api";
import { OpenCostSource } from "../src/sources/opencost";
import { PrometheusClient } from "../src/sources/prometheus";
import { testConfig } from "./helpers";

const FIXTURES = path.join(__dirname, "fixtures");
const TLS = path.join(FIXTURES, "kube-apiserver");
const ALLOCATION = fs.readFileSync(path.join(FIXTURES, "opencost-allocation.json"), "utf8");
const CA_DATA = fs.readFileSync(path.join(TLS, "ca.pem")).toString("base64");
const CREDENTIALS = {
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    sessionToken: "session/token+with=odd chars",
};
const CLUSTER = "gpu-platform-prod";
const OPENCOST_PROXY = "/api/v1/namespaces/opencost/services/http:opencost:9003/proxy";
const PROMETHEUS_PROXY = "/api/v1/namespaces/prometheus/services/http:prometheus-server:80/proxy";

interface Seen {
    path: string;
    authorization?: string;
    accept?: string;
}

/** An API server on 127.0.0.1 with the cluster CA's certificate: proxies the two allowed services, refuses the rest as RBAC does. */
async function fakeApiServer(): Promise<{ server: string; seen: Seen[]; close(): Promise<void> }> {
    const seen: Seen[] = [];
    const srv = https.createServer(
        { key: fs.readFileSync(path.join(TLS, "server.key")), cert: fs.readFileSync(path.join(TLS, "server.pem")) },
        (req, res) => {
            const url = req.url ?? "";
            seen.push({ path: url, authorization: req.headers.authorization, accept: req.headers.accept });
            const json = (status: number, body: unknown): void =>
                void res
                    .writeHead(status, { "content-type": "application/json" })
                    .end(typeof body === "string" ? body : JSON.stringify(body));
            if (!req.headers.authorization?.startsWith(`Bearer ${TOKEN_PREFIX}`))
                return json(401, { kind: "Status", status: "Failure", reason: "Unauthorized", code: 401 });
            if (url.startsWith(`${OPENCOST_PROXY}/allocation/compute?`)) return json(200, ALLOCATION);
            // An answer cut off half-way: headers and part of the body, then the connection drops.
            if (url.startsWith(`${PROMETHEUS_PROXY}/cut`)) {
                res.writeHead(200, { "content-type": "application/json" }).write('{"status":"succ');
                return void setImmediate(() => res.destroy());
            }
            if (url.startsWith(`${PROMETHEUS_PROXY}/api/v1/query?`)) {
                const query = new URL(url, "https://x").searchParams.get("query") ?? "";
                const result = query.startsWith("kube_node_labels")
                    ? [
                          {
                              metric: { node: "ip-10-30-1-17.ec2.internal", label_gpu_platform_pool: "h100" },
                              value: [1795392000, "1"],
                          },
                      ]
                    : [];
                return json(200, { status: "success", data: { resultType: "vector", result } });
            }
            const name = /\/services\/([^/]+)\/proxy/.exec(url)?.[1] ?? "?";
            json(403, {
                kind: "Status",
                status: "Failure",
                reason: "Forbidden",
                code: 403,
                message: `services "${name}" is forbidden: User "arn:aws:sts::123456789012:assumed-role/cost-tracker-task-role/x" cannot get resource "services/proxy"`,
            });
        },
    );
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    const { port } = srv.address() as AddressInfo;
    return {
        server: `https://127.0.0.1:${port}`,
        seen,
        close: () => new Promise((resolve) => (srv.closeAllConnections(), srv.close(() => resolve()))),
    };
}

const api = (server: string, caData = CA_DATA) => ({
    server,
    certificateAuthorityData: caData,
    clusterName: CLUSTER,
    region: "us-east-1",
});
const at = (iso: string) => () => new Date(iso);

/** RFC 3986 encoding, as SigV4's canonical query string wants it. */
const rfc3986 = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const hmac = (key: Buffer | string, s: string) => createHmac("sha256", key).update(s, "utf8").digest();

/**
 * The signature a presigned GET of `url` should carry, computed from the SigV4 spec
 * (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
 * canonical request, string to sign, the derived key chain.
 */
function expectedSignature(url: URL, signedHeaderValues: Record<string, string>, secretAccessKey: string): string {
    const params = [...url.searchParams.entries()]
        .filter(([k]) => k !== "X-Amz-Signature")
        .map(([k, v]) => [rfc3986(k), rfc3986(v)]);
    params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const signedHeaders = url.searchParams.get("X-Amz-SignedHeaders")!;
    const canonicalHeaders = signedHeaders
        .split(";")
        .map((h) => `${h}:${signedHeaderValues[h]}\n`)
        .join("");
    const canonicalRequest = [
        "GET",
        url.pathname,
        params.map(([k, v]) => `${k}=${v}`).join("&"),
        canonicalHeaders,
        signedHeaders,
        sha256(""),
    ].join("\n");
    const date = url.searchParams.get("X-Amz-Date")!;
    const scope = url.searchParams.get("X-Amz-Credential")!.split("/").slice(1).join("/");
    const [day, region, service] = scope.split("/");
    const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), "aws4_request");
    return createHmac("sha256", key)
        .update(["AWS4-HMAC-SHA256", date, scope, sha256(canonicalRequest)].join("\n"))
        .digest("hex");
}

function decodeToken(token: string): URL {
    assert.ok(token.startsWith(TOKEN_PREFIX), token);
    const encoded = token.slice(TOKEN_PREFIX.length);
    assert.doesNotMatch(encoded, /[=+/]/, "base64url without padding, as aws eks get-token prints it");
    return new URL(Buffer.from(encoded, "base64url").toString("utf8"));
}

describe("cost tracker: in-cluster sources through the Kubernetes API", () => {
    let apiServer: Awaited<ReturnType<typeof fakeApiServer>>;
    beforeEach(async () => (apiServer = await fakeApiServer()));
    afterEach(() => apiServer.close());

    it("makes the token aws eks get-token makes: a 60-second presigned STS GetCallerIdentity bound to the cluster", async () => {
        const token = await eksToken({
            clusterName: CLUSTER,
            region: "us-east-1",
            credentials: async () => CREDENTIALS,
            signingDate: new Date("2026-11-23T10:20:30Z"),
        });
        const url = decodeToken(token);
        assert.strictEqual(url.origin, "https://sts.us-east-1.amazonaws.com");
        assert.strictEqual(url.pathname, "/");
        const q = Object.fromEntries(url.searchParams);
        assert.strictEqual(q.Action, "GetCallerIdentity");
        assert.strictEqual(q.Version, "2011-06-15");
        assert.strictEqual(q["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
        assert.strictEqual(q["X-Amz-Credential"], "AKIDEXAMPLE/20261123/us-east-1/sts/aws4_request");
        assert.strictEqual(q["X-Amz-Date"], "20261123T102030Z");
        assert.strictEqual(q["X-Amz-Expires"], "60");
        assert.strictEqual(
            q["X-Amz-SignedHeaders"],
            `host;${CLUSTER_ID_HEADER}`,
            "EKS refuses a token whose signature does not cover the cluster id",
        );
        assert.strictEqual(q["X-Amz-Security-Token"], CREDENTIALS.sessionToken);
        assert.strictEqual(
            q["X-Amz-Signature"],
            expectedSignature(
                url,
                { host: "sts.us-east-1.amazonaws.com", [CLUSTER_ID_HEADER]: CLUSTER },
                CREDENTIALS.secretAccessKey,
            ),
            "the signature SigV4 gives for this request",
        );
    });

    it("signs for the STS host of the region's partition: amazonaws.com.cn in China, as aws-iam-authenticator checks it", async () => {
        // aws-iam-authenticator v0.7.18 pkg/endpoints/partitions.go: aws-cn's STS domain is amazonaws.com.cn.
        const origin = async (region: string) =>
            decodeToken(
                await eksToken({
                    clusterName: CLUSTER,
                    region,
                    credentials: async () => CREDENTIALS,
                    signingDate: new Date("2026-11-23T10:20:30Z"),
                }),
            ).origin;
        assert.strictEqual(await origin("cn-north-1"), "https://sts.cn-north-1.amazonaws.com.cn");
        assert.strictEqual(await origin("cn-northwest-1"), "https://sts.cn-northwest-1.amazonaws.com.cn");
        assert.strictEqual(await origin("us-gov-west-1"), "https://sts.us-gov-west-1.amazonaws.com");
        assert.strictEqual(await origin("eusc-de-east-1"), "https://sts.eusc-de-east-1.amazonaws.eu");
    });

    it("reads OpenCost's allocations and Prometheus through the services' proxies, as the bearer of a token, and reuses it for 10 minutes", async () => {
        let now = new Date("2026-11-23T10:00:00Z");
        const transport = kubernetesApiTransport(api(apiServer.server), {
            credentials: async () => CREDENTIALS,
            now: () => now,
        });
        const prometheus = new PrometheusClient({
            url: `${apiServer.server}${PROMETHEUS_PROXY}`,
            namespaceLabel: "namespace",
            poolLabel: "gpu-platform/pool",
            transport,
        });
        const opencost = new OpenCostSource({
            url: `${apiServer.server}${OPENCOST_PROXY}`,
            teams: ["ml-research", "inference", "applied-ml"],
            teamLabel: "gpu-platform/team",
            nodePools: (signal) => prometheus.nodePools(signal),
            now: at("2026-11-23T10:00:00Z"),
            transport,
        });
        const records = await opencost.read(
            ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"],
            AbortSignal.timeout(5000),
        );
        // The H100 node's pool, read from Prometheus, leaves its CPU and memory to gpu-allocation: only storage and network stay (on the 20th, storage).
        const llama = records.filter((r) => r.workload === "ml-research/job/llama-ft");
        assert.deepStrictEqual(
            [...new Set(llama.map((r) => r.category))],
            ["storage"],
            "20 Nov: $1.75 of PVs, and no CPU or memory",
        );
        assert.deepStrictEqual(
            apiServer.seen.map((s) => s.path.split("?")[0]).sort(),
            [`${OPENCOST_PROXY}/allocation/compute`, `${PROMETHEUS_PROXY}/api/v1/query`],
            "the service's own paths appended under each proxy",
        );
        const tokens = new Set(apiServer.seen.map((s) => s.authorization));
        assert.strictEqual(tokens.size, 1);
        now = new Date("2026-11-23T10:09:59Z");
        await prometheus.nodePools(AbortSignal.timeout(5000));
        assert.strictEqual(
            new Set(apiServer.seen.map((s) => s.authorization)).size,
            1,
            "the same token within 10 minutes",
        );
        now = new Date("2026-11-23T10:10:00Z");
        await prometheus.nodePools(AbortSignal.timeout(5000));
        const last = apiServer.seen[apiServer.seen.length - 1].authorization!;
        assert.ok(!tokens.has(last), "a new token after 10 minutes");
        assert.strictEqual(
            decodeToken(last.slice("Bearer ".length)).searchParams.get("X-Amz-Date"),
            "20261123T101000Z",
        );
    });

    it("refuses an API server whose certificate the cluster's CA did not sign", async () => {
        const otherCa = fs.readFileSync(path.join(TLS, "other-ca.pem")).toString("base64");
        const transport = kubernetesApiTransport(api(apiServer.server, otherCa), {
            credentials: async () => CREDENTIALS,
        });
        await assert.rejects(
            transport.get(new URL(`${apiServer.server}${OPENCOST_PROXY}/healthz`), AbortSignal.timeout(5000)),
            /self[- ]signed|unable to verify|certificate/i,
        );
        assert.deepStrictEqual(apiServer.seen, [], "no request, and no token, reached it");
    });

    it("reports RBAC's refusal of a service it was not granted, naming the path and the reason", async () => {
        const transport = kubernetesApiTransport(api(apiServer.server), { credentials: async () => CREDENTIALS });
        const grafana = new PrometheusClient({
            url: `${apiServer.server}/api/v1/namespaces/monitoring/services/http:grafana:80/proxy`,
            namespaceLabel: "namespace",
            poolLabel: "p",
            transport,
        });
        await assert.rejects(grafana.query("up", AbortSignal.timeout(5000)), (err: Error) => {
            assert.match(
                err.message,
                /^prometheus: \/api\/v1\/namespaces\/monitoring\/services\/http:grafana:80\/proxy\/api\/v1\/query answered 403: .*services \\"http:grafana:80\\" is forbidden/,
            );
            return true;
        });
    });

    it("wires the config document's sources: URLs under kubernetesApi.server go through it, with credentials from the default chain", async () => {
        const saved = { ...process.env };
        Object.assign(process.env, {
            AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
            AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
        });
        try {
            const base = testConfig();
            const config = {
                ...base,
                sources: {
                    ...base.sources,
                    kubernetesApi: api(apiServer.server),
                    opencost: { url: `${apiServer.server}${OPENCOST_PROXY}` },
                    prometheus: { url: `${apiServer.server}${PROMETHEUS_PROXY}`, namespaceLabel: "namespace" },
                },
            };
            const { sources, prometheus } = sourcesFor(config, at("2026-11-23T10:00:00Z"));
            assert.deepStrictEqual(
                sources.map((s) => s.name),
                ["gpu-allocation", "opencost"],
            );
            await sources[1].read(["2026-11-22", "2026-11-23"], AbortSignal.timeout(5000));
            await prometheus!.utilisation(AbortSignal.timeout(5000), config.pools);
            assert.ok(apiServer.seen.length >= 4);
            for (const s of apiServer.seen) {
                const url = decodeToken(s.authorization!.slice("Bearer ".length));
                assert.strictEqual(url.searchParams.get("X-Amz-Credential")?.split("/")[0], "AKIDEXAMPLE");
                // Signed at the service's clock (sourcesFor's `now`), not the machine's.
                assert.strictEqual(url.searchParams.get("X-Amz-Date"), "20261123T100000Z");
            }
        } finally {
            process.env = saved;
        }
    });

    it("signs again on the next read after a signing failed, and asks the API server for JSON", async () => {
        let asked = 0;
        const transport = kubernetesApiTransport(api(apiServer.server), {
            credentials: async () => {
                if (++asked === 1) throw new Error("the task role is not ready yet");
                return CREDENTIALS;
            },
            now: at("2026-11-23T10:00:00Z"),
        });
        const url = new URL(`${apiServer.server}${PROMETHEUS_PROXY}/api/v1/query?query=up`);
        await assert.rejects(transport.get(url, AbortSignal.timeout(5000)), /the task role is not ready yet/);
        // Within the 10 minutes a token is reused for, yet not the failure: a second signing.
        const answer = await transport.get(url, AbortSignal.timeout(5000));
        assert.strictEqual(answer.status, 200);
        assert.strictEqual(asked, 2);
        assert.deepStrictEqual(
            apiServer.seen.map((s) => s.accept),
            ["application/json"],
        );
    });

    it("fails a read whose answer is cut off half-way", async () => {
        const transport = kubernetesApiTransport(api(apiServer.server), {
            credentials: async () => CREDENTIALS,
            now: at("2026-11-23T10:00:00Z"),
        });
        await assert.rejects(
            transport.get(new URL(`${apiServer.server}${PROMETHEUS_PROXY}/cut`), AbortSignal.timeout(5000)),
            /aborted|ECONNRESET|socket hang up/,
        );
    });

    it("wires a Prometheus outside kubernetesApi.server straight to its URL, and Cost Explorer and the pipelines' inputs when configured", async () => {
        const direct = http.createServer((req, res) => {
            directPaths.push(req.url ?? "");
            res.writeHead(200, { "content-type": "application/json" }).end(
                JSON.stringify({
                    status: "success",
                    data: {
                        resultType: "vector",
                        result: [{ metric: { job: "kube-state-metrics" }, value: [0, "1"] }],
                    },
                }),
            );
        });
        const directPaths: string[] = [];
        await new Promise<void>((resolve) => direct.listen(0, "127.0.0.1", resolve));
        try {
            const base = testConfig();
            const config = {
                ...base,
                sources: {
                    ...base.sources,
                    kubernetesApi: api(apiServer.server),
                    prometheus: {
                        url: `http://127.0.0.1:${(direct.address() as AddressInfo).port}`,
                        namespaceLabel: "namespace",
                    },
                    costExplorer: { region: "us-east-1", tagKey: "team" },
                    pipelineInputs: { region: "us-east-1", pipelines: [] },
                },
            };
            const { sources, prometheus, pipelineInputs } = sourcesFor(config, at("2026-11-23T10:00:00Z"));
            assert.deepStrictEqual(
                sources.map((s) => s.name),
                ["gpu-allocation", "cost-explorer"],
            );
            assert.strictEqual(pipelineInputs?.name, "pipeline-inputs");
            assert.deepStrictEqual(await prometheus!.query("up", AbortSignal.timeout(5000)), [
                { metric: { job: "kube-state-metrics" }, value: 1 },
            ]);
            assert.deepStrictEqual(
                directPaths.map((p) => p.split("?")[0]),
                ["/api/v1/query"],
            );
            assert.deepStrictEqual(apiServer.seen, [], "nothing through the API server");
        } finally {
            direct.closeAllConnections();
            await new Promise((resolve) => direct.close(resolve));
        }
    });
});

describe("cost tracker: the document's kubernetesApi", () => {
    it("is checked field by field, one line each", () => {
        const base = testConfig();
        const doc = {
            ...base,
            sources: {
                ...base.sources,
                kubernetesApi: {
                    server: "http://api/x",
                    certificateAuthorityData: "not base64!",
                    clusterName: "",
                    region: "moon",
                },
            },
        };
        assert.deepStrictEqual(
            costTrackerConfigProblems(doc).map((p) => `${p.key}: ${p.message}`),
            [
                'sources.kubernetesApi.server: must be the API server\'s https URL without a path, e.g. https://ABC.gr7.us-east-1.eks.amazonaws.com (found "http://api/x")',
                "sources.kubernetesApi.certificateAuthorityData: must be the cluster's certificate authority as base64 (certificateAuthority.data of the EKS cluster)",
                'sources.kubernetesApi.clusterName: must be an EKS cluster name (found "")',
                'sources.kubernetesApi.region: must be an AWS region such as us-east-1 (found "moon")',
            ],
        );
        assert.deepStrictEqual(
            costTrackerConfigProblems({
                ...base,
                sources: { ...base.sources, kubernetesApi: api("https://ABC.gr7.us-east-1.eks.amazonaws.com") },
            }),
            [],
        );
    });
});

/** A server that speaks just enough PostgreSQL: asks for a cleartext password, records it, and refuses it with SQLSTATE 28P01. */
async function passwordRefusingPostgres(): Promise<{ port: number; passwords: string[]; close(): Promise<void> }> {
    const passwords: string[] = [];
    const srv = net.createServer((socket) => {
        let buffer = Buffer.alloc(0);
        let started = false;
        socket.on("data", (chunk) => {
            buffer = Buffer.concat([buffer, chunk]);
            if (!started && buffer.length >= 4 && buffer.length >= buffer.readInt32BE(0)) {
                buffer = buffer.subarray(buffer.readInt32BE(0));
                started = true;
                // AuthenticationCleartextPassword: 'R', length 8, code 3.
                socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
            }
            if (started && buffer.length >= 5 && buffer[0] === 0x70 && buffer.length >= 1 + buffer.readInt32BE(1)) {
                passwords.push(buffer.subarray(5, 1 + buffer.readInt32BE(1) - 1).toString("utf8"));
                const fields = Buffer.concat(
                    [
                        ["S", "FATAL"],
                        ["V", "FATAL"],
                        ["C", "28P01"],
                        ["M", 'password authentication failed for user "costtracker"'],
                    ].map(([k, v]) => Buffer.from(`${k}${v}\0`)),
                );
                const length = Buffer.alloc(4);
                length.writeInt32BE(4 + fields.length + 1);
                socket.end(Buffer.concat([Buffer.from("E"), length, fields, Buffer.from([0])]));
            }
        });
        socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    return {
        port: (srv.address() as AddressInfo).port,
        passwords,
        close: () => new Promise((resolve) => srv.close(() => resolve())),
    };
}

describe("cost tracker: database credentials on Fargate", () => {
    it("sends DATABASE_PASSWORD with DATABASE_URL's user and host, whatever characters it holds, and reports a refused password", async () => {
        const pg = await passwordRefusingPostgres();
        try {
            const password = "p@ss:w/rd%41 ü#?&=";
            const { settings, problems } = readSettings(
                {
                    DATABASE_URL: `postgres://costtracker@127.0.0.1:${pg.port}/costtracker`,
                    DATABASE_PASSWORD: password,
                    COST_TRACKER_CONFIG_JSON: "{}",
                    COST_TRACKER_API_TOKEN: "t".repeat(32),
                },
                [],
            );
            assert.deepStrictEqual(problems, []);
            const rejected: string[] = [];
            const db = postgresDatabase(settings!.databaseUrl!, {
                onPasswordRejected: (err) => rejected.push((err as Error & { code: string }).code),
            });
            await assert.rejects(db.query("SELECT 1"), /password authentication failed/);
            await assert.rejects(
                db.transaction(async (tx) => tx.query("SELECT 1")),
                /password authentication failed/,
            );
            await db.close();
            assert.deepStrictEqual(pg.passwords, [password, password], "the password arrives as ECS injected it");
            assert.deepStrictEqual(
                rejected,
                ["28P01", "28P01"],
                "each refusal is reported, so the service can exit and a new task read the rotated secret",
            );
        } finally {
            await pg.close();
        }
    });

    it("names the settings ECS passes when they are wrong", () => {
        assert.deepStrictEqual(
            readSettings(
                {
                    DATABASE_PASSWORD: "x",
                    COST_TRACKER_CONFIG: "c.json",
                    COST_TRACKER_CONFIG_JSON: "{}",
                    COST_TRACKER_API_TOKEN: "t".repeat(16),
                    COST_TRACKER_ALERT_WEBHOOK_URL: "slack",
                },
                [],
            ).problems,
            [
                "DATABASE_PASSWORD: is set but DATABASE_URL is not; the password is for the server DATABASE_URL names",
                "COST_TRACKER_CONFIG_JSON: set it or COST_TRACKER_CONFIG (a path), not both",
                "COST_TRACKER_ALERT_WEBHOOK_URL: must be an http(s) URL",
            ],
        );
    });
});
