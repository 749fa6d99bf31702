/** The service as a child process, for specs that start it for real (src/main.ts through esbuild-register). */
import { spawn, type ChildProcess } from "child_process";
import * as net from "net";
import * as path from "path";

const SERVICE_DIR = path.resolve(__dirname, "..");

export interface ServiceProcess {
    readonly child: ChildProcess;
    /** Everything it wrote to stdout and stderr so far. */
    output(): string;
    /** Its exit code (null when a signal ended it). */
    readonly exited: Promise<number | null>;
}

export function startService(env: Record<string, string>): ServiceProcess {
    let output = "";
    const child = spawn(process.execPath, ["-r", "esbuild-register", "src/main.ts"], {
        cwd: SERVICE_DIR,
        env: { PATH: process.env.PATH ?? "", ...env },
    });
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, output: () => output, exited };
}

/** Polls `probe` until it yields a value (a throw counts as not yet). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await probe().catch(() => undefined);
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
}

/** A loopback port nothing listens on (free when asked). */
export async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
}
