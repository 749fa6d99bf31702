/**
 * The portal end to end (scripts/portal-e2e.sh runs it inside scripts/with-postgres.sh): the
 * platform's own Backstage backend (backstage/packages/backend, app-config.test.yaml) on
 * loopback with the throwaway PostgreSQL and the real cost tracker (demo data), a guest who is
 * ada, a member of ml-research only. Checked through Backstage's REST API: the stack's teams are
 * Groups, the templates are registered, the gpu-platform:request-gpus action runs in a dry run
 * (priced, nothing reserved) and refuses a team ada is not in, and the proxy lets a signed-in
 * user read the cost tracker but not write to it. Then, when the app's bundle is built, the
 * frontend in headless Chromium shows ml-research's budget card with the cost tracker's figures.
 */
import * as assert from "assert";
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { chromium } from "playwright-core";

const REPO = path.resolve(__dirname, "..", "..");
const PORT = Number(process.env.PORTAL_E2E_PORT ?? 17007);
const BACKSTAGE = `http://127.0.0.1:${PORT}`;
const RESULTS = path.join(REPO, "test-results", "portal");

let tracker: { process: ChildProcess; url: string; token: string };
let backend: ChildProcess;
let backendLog = "";
let token: string;

async function startTracker() {
    const child = spawn(process.execPath, ["-r", "esbuild-register", "services/cost-tracker/test/serve.ts", "--demo"], {
        cwd: REPO,
        stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk) => {
            out += String(chunk);
            if (out.includes("\n")) resolve(out.split("\n")[0]);
        });
        child.once("exit", (code) => reject(new Error(`the cost tracker exited (${code}) before it listened`)));
    });
    const { url, token } = JSON.parse(line) as { url: string; token: string };
    return { process: child, url, token };
}

async function waitForBackend(deadline: number): Promise<void> {
    while (Date.now() < deadline) {
        if (backendLog.includes("Backend startup failed")) throw new Error(`the backend failed:\n${backendLog}`);
        const ready = await fetch(`${BACKSTAGE}/.backstage/health/v1/readiness`).catch(() => undefined);
        if (ready?.ok) return;
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    throw new Error(`the backend was not ready in time:\n${backendLog.slice(-4000)}`);
}

async function api(method: string, route: string, body?: unknown): Promise<{ status: number; json: any }> {
    const response = await fetch(`${BACKSTAGE}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

async function reservedUsd(team: string): Promise<number> {
    const teams = (await (await fetch(`${tracker.url}/v1/teams`)).json()) as { name: string; reservedUsd: number }[];
    return teams.find((t) => t.name === team)!.reservedUsd;
}

/** The catalog processes what the backend found at start in the background: asks until found, for up to a minute. */
async function eventually(ask: () => Promise<{ status: number; json: any }>): Promise<{ status: number; json: any }> {
    const deadline = Date.now() + 60_000;
    for (;;) {
        const answer = await ask();
        if (answer.status !== 404 || Date.now() > deadline) return answer;
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
}

/** A template of one step, the training template's GPU request, as the dry-run API takes it. */
function requestTemplate(team: string) {
    return {
        template: {
            apiVersion: "scaffolder.backstage.io/v1beta3",
            kind: "Template",
            metadata: { name: "gpu-request-dry-run" },
            spec: {
                type: "service",
                parameters: [],
                steps: [
                    {
                        id: "requestGpus",
                        action: "gpu-platform:request-gpus",
                        input: {
                            team: `group:default/${team}`,
                            pool: "h100",
                            gpuResource: "nvidia.com/gpu",
                            gpus: 8,
                            hours: 6,
                            priorityClass: "training",
                            workload: { namespace: team, kind: "Job", name: "llama-ft" },
                        },
                    },
                ],
                output: { estimate: "${{ steps.requestGpus.output.estimatedCostUsd }}" },
            },
        },
        values: {},
        directoryContents: [],
    };
}

describe("the portal end to end (backend, real cost tracker, headless Chromium)", function () {
    this.timeout(600_000);

    before(async () => {
        tracker = await startTracker();
        backend = spawn(
            "bash",
            [
                "scripts/backstage-yarn.sh",
                "workspace",
                "backend",
                "start",
                "--config",
                "../../app-config.yaml",
                "--config",
                "../../app-config.test.yaml",
            ],
            {
                cwd: REPO,
                stdio: ["ignore", "pipe", "pipe"],
                // Its own process group: Yarn, backstage-cli and the backend are stopped together.
                detached: true,
                env: {
                    ...process.env,
                    PORTAL_E2E_PORT: String(PORT),
                    COST_TRACKER_URL: tracker.url,
                    COST_TRACKER_API_TOKEN: tracker.token,
                    // Argo CD and MLflow are not running here; their proxy endpoints only need a target.
                    ARGOCD_URL: "http://127.0.0.1:9",
                    ARGOCD_AUTH_TOKEN: "not-used",
                    MLFLOW_URL: "http://127.0.0.1:9",
                },
            },
        );
        backend.stdout!.on("data", (chunk) => (backendLog += String(chunk)));
        backend.stderr!.on("data", (chunk) => (backendLog += String(chunk)));
        await waitForBackend(Date.now() + 300_000);
        const refresh = await fetch(`${BACKSTAGE}/api/auth/guest/refresh`, { method: "POST" });
        token = ((await refresh.json()) as { backstageIdentity: { token: string } }).backstageIdentity.token;
    });

    after(() => {
        if (backend?.pid) process.kill(-backend.pid, "SIGTERM");
        tracker?.process.kill("SIGTERM");
        fs.mkdirSync(RESULTS, { recursive: true });
        fs.writeFileSync(path.join(RESULTS, "backend.log"), backendLog);
    });

    it("makes the stack's teams Groups, ada a member of ml-research only", async () => {
        const group = await eventually(() => api("GET", "/api/catalog/entities/by-name/group/default/ml-research"));
        assert.strictEqual(group.status, 200);
        assert.deepStrictEqual(group.json.spec.members, ["ada"]);
        const other = await api("GET", "/api/catalog/entities/by-name/group/default/inference");
        assert.deepStrictEqual(other.json.spec.members, []);
    });

    it("registers this repository's training template", async () => {
        const template = await eventually(() =>
            api("GET", "/api/catalog/entities/by-name/template/default/gpu-training-job"),
        );
        assert.strictEqual(template.status, 200);
    });

    it("dry-runs gpu-platform:request-gpus for ada's team: priced by the cost tracker, nothing reserved", async () => {
        const before = await reservedUsd("ml-research");
        const run = await api("POST", "/api/scaffolder/v2/dry-run", requestTemplate("ml-research"));
        assert.strictEqual(run.status, 200, JSON.stringify(run.json));
        // Pulumi.prod.yaml's h100 pool is p5.48xlarge: $55.04/h for 8 GPUs, $6.88 each; 8 × 6 h × $6.88 = $330.24.
        assert.strictEqual(run.json.output.estimate, 330.24);
        const lines = run.json.log.map((l: any) => l.body.message).join("\n");
        assert.match(lines, /Dry run: .* would cost \$330\.24.*Nothing was reserved\./);
        assert.strictEqual(await reservedUsd("ml-research"), before);
    });

    it("refuses a team ada is not a member of, before the cost tracker is asked", async () => {
        const before = await reservedUsd("inference");
        const run = await api("POST", "/api/scaffolder/v2/dry-run", requestTemplate("inference"));
        const lines = JSON.stringify(run.json);
        assert.match(lines, /user:default\/ada is not a member of team inference.*your teams: ml-research/);
        assert.strictEqual(await reservedUsd("inference"), before);
    });

    it("lets a signed-in user read the cost tracker through the proxy, never write to it", async () => {
        const read = await api("GET", "/api/proxy/cost-tracker/v1/teams");
        assert.strictEqual(read.status, 200);
        assert.ok(read.json.some((t: { name: string }) => t.name === "ml-research"));
        const before = await reservedUsd("ml-research");
        const write = await api("POST", "/api/proxy/cost-tracker/v1/gpu-requests", {
            team: "ml-research",
            pool: "h100",
            gpus: 1,
            hours: 1,
            priorityClass: "training",
            requester: "user:default/ada",
        });
        assert.ok(write.status >= 400, `the proxy passed a write: ${write.status}`);
        assert.strictEqual(await reservedUsd("ml-research"), before);
    });

    it("shows ml-research's budget card in headless Chromium with the cost tracker's figures", async function () {
        if (!fs.existsSync(path.join(REPO, "backstage", "packages", "app", "dist", "index.html"))) {
            // scripts/portal-e2e.sh builds the bundle first; a bare mocha run may not have.
            this.skip();
        }
        const teams = (await (await fetch(`${tracker.url}/v1/teams`)).json()) as any[];
        const budget = teams.find((t) => t.name === "ml-research");
        const browser = await chromium.launch({
            executablePath: "/usr/bin/chromium",
            args: [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        });
        try {
            const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
            fs.mkdirSync(RESULTS, { recursive: true });
            const remaining = page.getByTestId("gpu-budget-remaining");
            try {
                await page.goto(`${BACKSTAGE}/catalog/default/group/ml-research`);
                await page.getByRole("button", { name: /enter/i }).click();
                await remaining.waitFor({ timeout: 60_000 });
            } catch (err) {
                await page.screenshot({ path: path.join(RESULTS, "failed.png"), fullPage: true });
                throw err;
            }
            const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
            assert.strictEqual((await remaining.textContent())?.trim(), usd.format(budget.remainingUsd));
            assert.strictEqual((await page.getByTestId("gpu-budget-budget").textContent())?.trim(), "$120,000.00");
            await page.screenshot({ path: path.join(RESULTS, "ml-research-budget-card.png"), fullPage: true });
        } finally {
            await browser.close();
        }
    });
});
