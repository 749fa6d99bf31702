/**
 * Reaching OpenCost and Prometheus inside an EKS cluster from outside it (the service runs on
 * Fargate) through the Kubernetes API server's service proxy:
 *
 *   GET <server>/api/v1/namespaces/<ns>/services/<scheme>:<name>:<port>/proxy/<path>
 *
 * The API server authenticates the request with an EKS token and authorizes it with RBAC
 * (`get` on `services/proxy` for exactly those service names), then forwards it to the service.
 * Nothing in the cluster is exposed for it: no load balancer, no NodePort, no public endpoint.
 *
 * The token is what `aws eks get-token` prints: "k8s-aws-v1." followed by the base64url (no
 * padding) of a presigned URL of STS `GetCallerIdentity`, signed with SigV4 for 60 seconds with
 * the header `x-k8s-aws-id: <cluster name>` among the signed headers. EKS's authenticator calls
 * that URL to learn who signed it (the task role) and maps the role through its access entry.
 * The API server accepts a token for 15 minutes after it was signed; one is reused for 10.
 * Credentials come from the default provider chain: the task role on Fargate.
 */
import { createHash, createHmac, type Hash as NodeHash, type Hmac } from "crypto";
import * as https from "https";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentityProvider, Hash, SourceData } from "@smithy/types";
import { stsHostname } from "@gpu-platform/catalog/regions";
import type { KubernetesApiAccess } from "@gpu-platform/catalog/contracts";
import type { HttpTransport } from "./source";

export const TOKEN_PREFIX = "k8s-aws-v1.";
/** The header naming the cluster a token is for; EKS rejects a token without it among the signed headers. */
export const CLUSTER_ID_HEADER = "x-k8s-aws-id";
const PRESIGN_SECONDS = 60;
const TOKEN_REUSE_MS = 10 * 60_000;

/** SHA-256 and HMAC-SHA-256 from Node's crypto, in the shape SigV4 signers take. */
class Sha256 implements Hash {
    private readonly hash: NodeHash | Hmac;
    constructor(secret?: SourceData) {
        this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
    }
    update(data: SourceData): void {
        this.hash.update(bytes(data));
    }
    digest(): Promise<Uint8Array> {
        return Promise.resolve(new Uint8Array(this.hash.digest()));
    }
}

function bytes(data: SourceData): Buffer {
    if (typeof data === "string") return Buffer.from(data, "utf8");
    if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return Buffer.from(data);
}

/** An EKS bearer token for `clusterName`, signed with `credentials` for STS in `region`. */
export async function eksToken(options: {
    clusterName: string;
    region: string;
    credentials: AwsCredentialIdentityProvider;
    signingDate?: Date;
}): Promise<string> {
    // The partition's domain: aws-iam-authenticator refuses a China token signed for ….amazonaws.com.
    const hostname = stsHostname(options.region);
    const signer = new SignatureV4({
        credentials: options.credentials,
        region: options.region,
        service: "sts",
        sha256: Sha256,
    });
    const presigned = await signer.presign(
        {
            method: "GET",
            protocol: "https:",
            hostname,
            path: "/",
            query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
            headers: { host: hostname, [CLUSTER_ID_HEADER]: options.clusterName },
        },
        { expiresIn: PRESIGN_SECONDS, signingDate: options.signingDate },
    );
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(presigned.query ?? {})) {
        for (const v of Array.isArray(value) ? value : [value]) if (v !== null) query.append(key, v);
    }
    const url = `https://${hostname}/?${query.toString()}`;
    return TOKEN_PREFIX + Buffer.from(url, "utf8").toString("base64url");
}

/**
 * GETs from the API server with an EKS token, trusting only the cluster's own certificate
 * authority (not the public ones: the server's certificate is issued by the cluster's CA).
 */
export function kubernetesApiTransport(
    api: KubernetesApiAccess,
    options: { credentials?: AwsCredentialIdentityProvider; now?: () => Date } = {},
): HttpTransport {
    const credentials = options.credentials ?? defaultProvider();
    const now = options.now ?? (() => new Date());
    const ca = Buffer.from(api.certificateAuthorityData, "base64").toString("utf8");
    let cached: { token: Promise<string>; until: number } | undefined;
    const token = (): Promise<string> => {
        const at = now();
        if (!cached || at.getTime() >= cached.until) {
            const pending = eksToken({
                clusterName: api.clusterName,
                region: api.region,
                credentials,
                signingDate: at,
            });
            // A failed signing is not kept: the next read tries again.
            pending.catch(() => (cached = undefined));
            cached = { token: pending, until: at.getTime() + TOKEN_REUSE_MS };
        }
        return cached.token;
    };
    return {
        async get(url: URL, signal: AbortSignal) {
            const bearer = await token();
            return new Promise((resolve, reject) => {
                const request = https.get(
                    url,
                    { ca, headers: { accept: "application/json", authorization: `Bearer ${bearer}` }, signal },
                    (response) => {
                        const chunks: Buffer[] = [];
                        response.on("data", (chunk: Buffer) => chunks.push(chunk));
                        response.on("end", () =>
                            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
                        );
                        response.on("error", reject);
                    },
                );
                request.on("error", reject);
            });
        },
    };
}
