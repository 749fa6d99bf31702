/**
 * A local HTTP server on 127.0.0.1 that answers as a real API does (OpenCost, Prometheus, AWS's
 * JSON and query protocols), each test setting the answer: the network is faked, every client is
 * the real one. It keeps every request it was sent.
 */
import * as http from "http";
import type { AddressInfo } from "net";

export interface Seen {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    body: string;
}
export type Handler = (req: Seen, res: http.ServerResponse) => void;

export interface LoopbackApi {
    url: string;
    seen: Seen[];
    handle(h: Handler): void;
    close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 whose answer each test sets (404 until it does). */
export async function fakeApi(): Promise<LoopbackApi> {
    let handler: Handler = (_req, res) => res.writeHead(404).end();
    const seen: Seen[] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
            const s = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
            seen.push(s);
            handler(s, res);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        seen,
        handle: (h) => void (handler = h),
        close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
    };
}

/** Answers 200 with `body` (JSON unless already a string). */
export function json(res: http.ServerResponse, body: unknown, type = "application/json"): void {
    res.writeHead(200, { "content-type": type }).end(typeof body === "string" ? body : JSON.stringify(body));
}
