/**
 * The budget gate's process: settings, the token, the health server, and the gate started once
 * this replica leads. SIGTERM stops the gate and the server; a lost lease exits, so Kubernetes
 * restarts the replica as a follower.
 */
import * as k8s from "@kubernetes/client-node";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { tokenFromSecret } from "./token";
import { startGate, type RunningGate } from "./gate";
import { kubeApi } from "./kube";
import { runElection } from "./leader";
import { createMetrics } from "./metrics";
import { healthServer } from "./server";
import { StartupError, readSettings } from "./settings";
import { trackerClient } from "./tracker";

const log = (message: string, fields: Record<string, unknown> = {}) =>
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), message, ...fields })}\n`);

function tokenReader(token: { value: string } | { secretArn: string }): () => Promise<string> {
    if ("value" in token) return () => Promise.resolve(token.value);
    const client = new SecretsManagerClient({});
    let cached: { value: string; at: number } | undefined;
    // Read at most every five minutes, so a rotated token reaches the gate.
    return async () => {
        if (cached && Date.now() - cached.at < 300_000) return cached.value;
        const answer = await client.send(new GetSecretValueCommand({ SecretId: token.secretArn }));
        cached = { value: tokenFromSecret(answer.SecretString ?? ""), at: Date.now() };
        return cached.value;
    };
}

function main(): void {
    let settings;
    try {
        settings = readSettings(process.env);
    } catch (err) {
        if (err instanceof StartupError) {
            process.stderr.write(`budget gate: cannot start:\n${err.problems.map((p) => `  - ${p}`).join("\n")}\n`);
            process.exit(2);
        }
        throw err;
    }
    const kc = new k8s.KubeConfig();
    kc.loadFromCluster();
    const kube = kubeApi(kc);
    const metrics = createMetrics();
    const tracker = trackerClient({ url: settings.trackerUrl, token: tokenReader(settings.token) });
    let gate: RunningGate | undefined;
    const server = healthServer(metrics, () => true).listen(settings.port);
    const election = new AbortController();
    const now = () => new Date();
    void runElection(
        {
            kube,
            namespace: settings.config.lease.namespace,
            name: settings.config.lease.name,
            identity: settings.identity,
            now,
            onStarted: () => {
                metrics.leader.set(1);
                log("leading: starting the gate");
                gate = startGate({ kube, tracker, config: settings.config, metrics, now, log });
            },
            onStopped: () => {
                log("lost the lease: exiting");
                process.exit(1);
            },
        },
        election.signal,
    );
    process.once("SIGTERM", () => {
        election.abort();
        const stopping = gate ? gate.stop() : Promise.resolve();
        void stopping.finally(() => server.close(() => process.exit(0)));
        setTimeout(() => process.exit(0), 10_000).unref();
    });
}

main();
