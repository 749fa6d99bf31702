/** Health (`/healthz`: the process runs; `/readyz`: it follows the leader or has synced) and `/metrics`. */
import * as http from "http";
import type { GateMetrics } from "./metrics";

export function healthServer(metrics: GateMetrics, ready: () => boolean): http.Server {
    return http.createServer((req, res) => {
        const path = (req.url ?? "/").split("?")[0];
        if (path === "/healthz") return void res.writeHead(200, { "content-type": "text/plain" }).end("ok");
        if (path === "/readyz") {
            const ok = ready();
            return void res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ready" : "starting");
        }
        if (path === "/metrics") {
            metrics.registry.metrics().then(
                (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
                () => res.writeHead(500).end(),
            );
            return;
        }
        res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    });
}
