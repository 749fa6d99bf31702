/**
 * The portal end to end (scripts/portal-e2e.sh runs it inside scripts/with-postgres.sh): the
 * platform's own Backstage backend (backstage/packages/backend, app-config.test.yaml) on
 * loopback with the throwaway PostgreSQL and the real cost tracker (demo data, its clock at
 * 2026-11-20T12:00Z), a guest who is ada, a member of ml-research and applied-ml, not of
 * inference. Checked through Backstage's REST API: the stack's teams are Groups, the training
 * template is registered, and its dry run (the catalog's entity, this repository's skeleton) is
 * priced by the cost tracker, renders the Job and reserves nothing, and refuses a team ada is not
 * in; the proxy lets a signed-in user read the cost tracker but not write to it. Then, when the
 * app's bundle is built, the frontend in headless Chromium shows ml-research's budget card with
 * the cost tracker's figures, and the training template's form offers ada her own teams and
 * previews the cost of her ask live, marking one past the team's budget. Screenshots of each.
 */
import * as assert from "assert";
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { Page } from "playwright-core";
import { parse } from "yaml";
import {
    costPreviewOf,
    fillGpuPage,
    fillModelPage,
    fillWorkloadPage,
    launchChromium,
    openSignedIn,
    setHours,
    teamsOffered,
} from "./portal-browser";

const REPO = path.resolve(__dirname, "..", "..");
const PORT = Number(process.env.PORTAL_E2E_PORT ?? 17007);
const BACKSTAGE = `http://127.0.0.1:${PORT}`;
const RESULTS = path.join(REPO, "test-results", "portal");

let tracker: { process: ChildProcess; url: string; portalToken: string };
let backend: ChildProcess;
let backendLog = "";
let token: string;

async function startTracker() {
    const child = spawn(process.execPath, ["-r", "esbuild-register", "tools/cost-tracker/serve.ts", "--demo"], {
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
    const { url, portalToken } = JSON.parse(line) as { url: string; portalToken: string };
    return { process: child, url, portalToken };
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

interface TeamFigures {
    name: string;
    reservedUsd: number;
    remainingUsd: number;
    forecast: { confidencePct: number; pointUsd: number; lowUsd: number; highUsd: number };
}

/** A team's figures as the cost tracker answers GET /v1/teams. */
async function teamBudget(team: string): Promise<TeamFigures> {
    const teams = (await (await fetch(`${tracker.url}/v1/teams`)).json()) as TeamFigures[];
    const found = teams.find((t) => t.name === team);
    assert.ok(found, `the cost tracker has no team ${team}`);
    return found;
}

/** The budget card's forecast row for a team with a month of history, as the demo's teams have on 2026-11-20. */
function forecastText({ forecast }: TeamFigures): string {
    return `${usd(forecast.pointUsd)} (${forecast.confidencePct} % range ${usd(forecast.lowUsd)} to ${usd(forecast.highUsd)})`;
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

const usd = (amount: number) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(amount);

/** scripts/portal-e2e.sh builds the app's bundle first; a bare mocha run may not have, and then skips the browser. */
const appBuilt = () => fs.existsSync(path.join(REPO, "backstage", "packages", "app", "dist", "index.html"));

/**
 * Runs `steps` on a fresh page of headless Chromium; `shoot(step)` saves `<name>-<step>.png`, and
 * the page as it was when a step failed is saved as `<name>-failed.png`.
 */
async function inBrowser(name: string, steps: (page: Page, shoot: (step: string) => Promise<void>) => Promise<void>) {
    fs.mkdirSync(RESULTS, { recursive: true });
    const browser = await launchChromium();
    try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        const shoot = async (step: string) => {
            await page.screenshot({ path: path.join(RESULTS, `${name}-${step}.png`), fullPage: true });
        };
        try {
            await steps(page, shoot);
        } catch (err) {
            await shoot("failed");
            throw err;
        }
        await shoot("done");
    } finally {
        await browser.close();
    }
}

/** The files under a template's directory as the dry-run API takes them: paths relative to the template, base64. */
function directoryContents(dir: string, under = ""): { path: string; base64Content: string }[] {
    return fs.readdirSync(path.join(dir, under), { withFileTypes: true }).flatMap((entry) => {
        const relative = path.posix.join(under, entry.name);
        if (entry.isDirectory()) return directoryContents(dir, relative);
        return [{ path: relative, base64Content: fs.readFileSync(path.join(dir, relative)).toString("base64") }];
    });
}

/** ada's training Job as the form would send it: 8 whole H100 GPUs for 6 hours under `training`. */
function trainingJobValues(team: string) {
    return {
        name: "llama-ft",
        team: `group:default/${team}`,
        modelName: "llama",
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/ml-research/trainer:2.1.0",
        pool: "h100",
        gpuResource: "nvidia.com/gpu",
        gpus: 8,
        hours: 6,
        priorityClass: "training",
        cpu: 8,
        memoryGi: 64,
    };
}

/** Dry-runs the registered gpu-training-job template (the catalog's entity, this repository's skeleton) through the REST API. */
async function dryRunTrainingJob(team: string): Promise<{ status: number; json: any }> {
    const template = await api("GET", "/api/catalog/entities/by-name/template/default/gpu-training-job");
    assert.strictEqual(template.status, 200, "the training template is not in the catalog");
    return api("POST", "/api/scaffolder/v2/dry-run", {
        template: template.json,
        values: trainingJobValues(team),
        // The template's `fetch:template` reads ./skeleton, beside the template file.
        directoryContents: directoryContents(path.join(REPO, "backstage", "templates"), "skeleton"),
    });
}

/** A file of the dry run's result, as text. */
function dryRunFile(run: { json: any }, file: string): string {
    const found = (run.json.directoryContents as { path: string; base64Content: string }[]).find(
        (f) => f.path === file,
    );
    assert.ok(found, `the dry run wrote no ${file}`);
    return Buffer.from(found.base64Content, "base64").toString("utf8");
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
                    // The portal's own credential, as a deployment gives it: it acts only for the signed-in user's teams.
                    COST_TRACKER_API_TOKEN: tracker.portalToken,
                    // Argo CD is not running here; its proxy endpoint only needs a target.
                    ARGOCD_URL: "http://127.0.0.1:9",
                    ARGOCD_AUTH_TOKEN: "not-used",
                    // Only for publish:github:pull-request's dry run, which builds its client and returns (app-config.test.yaml).
                    GITHUB_TOKEN: "dry-run-only",
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

    it("makes the stack's teams Groups, ada a member of ml-research and applied-ml, not inference", async () => {
        const group = await eventually(() => api("GET", "/api/catalog/entities/by-name/group/default/ml-research"));
        assert.strictEqual(group.status, 200);
        assert.deepStrictEqual(group.json.spec.members, ["ada"]);
        const applied = await api("GET", "/api/catalog/entities/by-name/group/default/applied-ml");
        assert.deepStrictEqual(applied.json.spec.members, ["ada"]);
        const other = await api("GET", "/api/catalog/entities/by-name/group/default/inference");
        assert.deepStrictEqual(other.json.spec.members, []);
    });

    it("registers this repository's training template", async () => {
        const template = await eventually(() =>
            api("GET", "/api/catalog/entities/by-name/template/default/gpu-training-job"),
        );
        assert.strictEqual(template.status, 200);
    });

    it("dry-runs the gpu-training-job template for ada's team: priced by the cost tracker, rendered, nothing reserved", async () => {
        const before = await teamBudget("ml-research");
        const run = await dryRunTrainingJob("ml-research");
        assert.strictEqual(run.status, 200, JSON.stringify(run.json).slice(0, 2000));
        // Pulumi.prod.yaml's h100 pool is p5.48xlarge: $55.04/h for 8 GPUs, $6.88 each; 8 × 6 h × $6.88 = $330.24.
        const lines = run.json.log.map((l: any) => l.body.message).join("\n");
        assert.match(
            lines,
            /Dry run: 8 × nvidia\.com\/gpu on h100 for 6 h would cost \$330\.24.*Nothing was reserved\./,
        );
        // The template prints the action's figures as they are: what the team had, less $330.24, rounded to the cent.
        const left = Math.round((before.remainingUsd - 330.24) * 100) / 100;
        const approval = (run.json.output.text[0].content as string).replace(/\s+/g, " ");
        assert.ok(approval.includes(`estimated $330.24; $${left} left`), approval);
        assert.deepStrictEqual(run.json.directoryContents.map((f: { path: string }) => f.path).sort(), [
            "apps/ml-research/llama-ft/mlflow-credentials.yaml",
            "apps/ml-research/llama-ft/network-policy.yaml",
            "apps/ml-research/llama-ft/workload.yaml",
            "catalog/ml-research/llama-ft/catalog-info.yaml",
        ]);
        const job = parse(dryRunFile(run, "apps/ml-research/llama-ft/workload.yaml"));
        assert.strictEqual(job.metadata.namespace, "ml-research");
        assert.strictEqual(job.spec.activeDeadlineSeconds, 6 * 3600);
        assert.strictEqual(job.spec.template.spec.containers[0].resources.limits["nvidia.com/gpu"], "8");
        assert.strictEqual(job.metadata.annotations["gpu-platform/requested-by"], "user:default/ada");
        assert.strictEqual((await teamBudget("ml-research")).reservedUsd, before.reservedUsd);
    });

    it("refuses a team ada is not a member of, before the cost tracker is asked", async () => {
        const before = await teamBudget("inference");
        const run = await dryRunTrainingJob("inference");
        assert.match(
            JSON.stringify(run.json),
            /user:default\/ada is not a member of team inference.*your teams: applied-ml, ml-research/,
        );
        assert.strictEqual((await teamBudget("inference")).reservedUsd, before.reservedUsd);
    });

    it("lets a signed-in user read the cost tracker through the proxy, never write to it", async () => {
        const read = await api("GET", "/api/proxy/cost-tracker/v1/teams");
        assert.strictEqual(read.status, 200);
        assert.ok(read.json.some((t: { name: string }) => t.name === "ml-research"));
        const before = await teamBudget("ml-research");
        const write = await api("POST", "/api/proxy/cost-tracker/v1/gpu-requests", {
            team: "ml-research",
            pool: "h100",
            gpus: 1,
            hours: 1,
            priorityClass: "training",
            requester: "user:default/ada",
        });
        assert.ok(write.status >= 400, `the proxy passed a write: ${write.status}`);
        assert.strictEqual((await teamBudget("ml-research")).reservedUsd, before.reservedUsd);
    });

    it("shows ml-research's budget card in headless Chromium with the cost tracker's figures", async function () {
        if (!appBuilt()) this.skip();
        const budget = await teamBudget("ml-research");
        await inBrowser("ml-research-budget-card", async (page) => {
            const remaining = page.getByTestId("gpu-budget-remaining");
            await openSignedIn(page, `${BACKSTAGE}/catalog/default/group/ml-research`);
            await remaining.waitFor({ timeout: 60_000 });
            assert.strictEqual((await remaining.textContent())?.trim(), usd(budget.remainingUsd));
            assert.strictEqual((await page.getByTestId("gpu-budget-budget").textContent())?.trim(), "$120,000.00");
            assert.strictEqual(
                (await page.getByTestId("gpu-budget-forecast").textContent())?.trim(),
                forecastText(budget),
            );
        });
    });

    it("opens the gpu-training-job form: ada's own teams to pick, a live cost preview, an ask past the budget marked", async function () {
        if (!appBuilt()) this.skip();
        const { remainingUsd } = await teamBudget("ml-research");
        // 200 h of 8 H100 GPUs: 8 × 200 × $6.88 = $11,008.00, past what ml-research has left in the demo
        // on 2026-11-20 (the cost tracker's clock): $7,900.48, so over by $3,107.52.
        assert.ok(
            remainingUsd < 11_008,
            `the demo's ml-research has $${remainingUsd} left: the rejected ask would fit`,
        );
        await inBrowser("gpu-training-job-form", async (page, shoot) => {
            await openSignedIn(page, `${BACKSTAGE}/create/templates/default/gpu-training-job`);
            // Exactly her two teams; the picker's order is the catalog's, which no one promises.
            assert.deepStrictEqual((await teamsOffered(page)).sort(), ["applied-ml", "ml-research"]);
            await fillWorkloadPage(page, { name: "llama-ft", team: "ml-research" });
            await fillModelPage(page, { name: "llama", image: trainingJobValues("ml-research").image });
            await fillGpuPage(page, { poolOption: /^h100:/, gpus: 8, hours: 6, priorityClassOption: /^training:/ });
            // 8 × 6 h × $6.88 (p5.48xlarge: $55.04/h for 8 GPUs) = $330.24.
            const fits = await costPreviewOf(page, "$330.24");
            assert.match(fits.estimate, /^8 × nvidia\.com\/gpu on h100 for 6 h at \$6\.88 per unit-hour: \$330\.24$/);
            const after = usd(Math.round((remainingUsd - 330.24) * 100) / 100);
            assert.strictEqual(
                fits.budget,
                `Team ml-research has ${usd(remainingUsd)} left of $120,000.00 this month; after this ask: ${after}.`,
            );
            assert.strictEqual(fits.verdict, "Within the team's budget.");
            await shoot("fits");
            await setHours(page, 200);
            const rejected = await costPreviewOf(page, "$11,008.00");
            const over = usd(Math.round((11_008 - remainingUsd) * 100) / 100);
            assert.strictEqual(
                rejected.verdict,
                `The cost tracker would reject this ask: it is ${over} over what the team has left. ` +
                    "Ask for fewer GPUs or fewer hours, or wait until money is freed.",
            );
            await shoot("rejected");
        });
    });
});
