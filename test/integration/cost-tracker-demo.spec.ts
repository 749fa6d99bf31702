/**
 * `npm run cost-tracker -- --demo` stops when the npm process it was started as is told to
 * stop (a process manager, an IDE's stop button, `kill <pid of npm>`): npm forwards SIGTERM to
 * its script's process (@npmcli/run-script's signal manager), and the scripts `exec` the next
 * command, so no shell sits between npm and the server to swallow the signal.
 *
 * In the integration command: the demo builds its dashboard and seeds a month of data first
 * (about half a minute on two cores).
 */
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** The status of GET /readyz, or undefined when nothing listens. */
function ready(port: number): Promise<number | undefined> {
    return new Promise((resolve) => {
        const req = http.get({ host: "127.0.0.1", port, path: "/readyz", timeout: 2000 }, (res) => {
            res.resume();
            resolve(res.statusCode);
        });
        req.on("error", () => resolve(undefined));
        req.on("timeout", () => req.destroy());
    });
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 250));
    }
    assert.fail(`timed out waiting until ${what}`);
}

/** The processes descended from `root` (from ps), the server among them. */
function descendantsOf(root: number): number[] {
    const rows = execFileSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" })
        .trim()
        .split("\n")
        .map((line) => line.trim().split(/\s+/).map(Number));
    const found: number[] = [];
    const visit = (pid: number) => {
        for (const [child, parent] of rows)
            if (parent === pid) {
                found.push(child);
                visit(child);
            }
    };
    visit(root);
    return found;
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

describe("npm run cost-tracker -- --demo", function () {
    this.timeout(180_000);
    let npm: ChildProcess | undefined;
    let started: number[] = [];
    let dataDir: string;
    afterEach(() => {
        // Only what this test started, if it failed before they stopped: npm and its descendants.
        for (const pid of started.filter(alive)) process.kill(pid, "SIGKILL");
        if (npm && npm.exitCode === null) npm.kill("SIGKILL");
        fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("stops the server when the npm process it runs under gets SIGTERM", async () => {
        const port = await freePort();
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cost-tracker-demo-"));
        npm = spawn("npm", ["run", "cost-tracker", "--", "--demo"], {
            cwd: REPO_ROOT,
            env: { ...process.env, PORT: String(port), COST_TRACKER_DATA_DIR: dataDir },
            stdio: "ignore",
        });
        await until("the demo answers", 150_000, async () => (await ready(port)) !== undefined);
        started = descendantsOf(npm.pid!);
        assert.ok(started.length > 0, "npm runs the server as its descendant");
        const exited = new Promise<number | null>((resolve) => npm!.once("exit", (code) => resolve(code)));
        npm.kill("SIGTERM");
        await exited;
        await until("nothing listens on the demo's port", 20_000, async () => (await ready(port)) === undefined);
        await until("every process npm started has exited", 20_000, () =>
            Promise.resolve(started.every((pid) => !alive(pid))),
        );
    });
});
