/**
 * What the portal's end-to-end spec does in headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core; a test tool's own browser download cannot work here): sign in as the guest,
 * and fill the gpu-training-job template's form as a data scientist would, page by page
 * (backstage/templates/gpu-training-job.yaml). Fields are found by the ids the form gives them,
 * `root_<the template's key>` (react-jsonschema-form's id scheme), the team picker by its label.
 */
import { type Browser, type Page, chromium } from "playwright-core";

export function launchChromium(): Promise<Browser> {
    return chromium.launch({
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
}

/** Opens `url` and signs in with the guest provider, the only one app-config.test.yaml configures. */
export async function openSignedIn(page: Page, url: string): Promise<void> {
    await page.goto(url);
    await page.getByRole("button", { name: /enter/i }).click();
}

/** The first page of the training template: the Job's name and the owning team, picked from MyGroupsPicker. */
export interface WorkloadPage {
    readonly name: string;
    /** The Group's name as the picker lists it (the picker's value is its entity ref). */
    readonly team: string;
}

/** The GPU page's ask; the GPU resource is the pool's default. */
export interface GpuAsk {
    /** The pool's option as the template names it, e.g. "h100: whole H100 80GB GPUs (p5.48xlarge)". */
    readonly poolOption: RegExp;
    readonly gpus: number;
    readonly hours: number;
    /** The class's option, e.g. /^training:/. */
    readonly priorityClassOption: RegExp;
}

/** The names MyGroupsPicker offers on the training template's first page, in its order. */
export async function teamsOffered(page: Page): Promise<string[]> {
    const picker = page.getByLabel("Owning team");
    await picker.click();
    const options = page.getByRole("option");
    await options.first().waitFor();
    const names = await options.allTextContents();
    await page.keyboard.press("Escape");
    return names.map((n) => n.trim());
}

export async function fillWorkloadPage(page: Page, workload: WorkloadPage): Promise<void> {
    await field(page, "name").fill(workload.name);
    await page.getByLabel("Owning team").click();
    await page.getByRole("option", { name: workload.team, exact: true }).click();
    await page.getByRole("button", { name: "Next" }).click();
}

export async function fillModelPage(page: Page, model: { name: string; image: string }): Promise<void> {
    await field(page, "modelName").fill(model.name);
    await field(page, "image").fill(model.image);
    await page.getByRole("button", { name: "Next" }).click();
}

/** The form's field for a template parameter. */
function field(page: Page, key: string) {
    return page.locator(`#root_${key}`);
}

/** Picks an option of a Material UI select (an enum field). */
async function pick(page: Page, key: string, option: RegExp): Promise<void> {
    await field(page, key).click();
    await page.getByRole("option", { name: option }).click();
}

export async function fillGpuPage(page: Page, ask: GpuAsk): Promise<void> {
    await pick(page, "pool", ask.poolOption);
    await pick(page, "priorityClass", ask.priorityClassOption);
    await field(page, "gpus").fill(String(ask.gpus));
    await setHours(page, ask.hours);
}

export async function setHours(page: Page, hours: number): Promise<void> {
    await field(page, "hours").fill(String(hours));
}

/**
 * What the cost preview (GpuCostPreview) says, part by part, once its estimate reads `estimate`:
 * the preview re-prices the ask as the form changes, so this waits for the ask's own figure.
 */
export async function costPreviewOf(
    page: Page,
    estimate: string,
): Promise<{ estimate: string; budget: string; verdict: string }> {
    const preview = page.getByTestId("gpu-cost-preview");
    await preview.getByTestId("gpu-cost-estimate").filter({ hasText: estimate }).waitFor({ timeout: 30_000 });
    const text = async (testId: string) => ((await preview.getByTestId(testId).textContent()) ?? "").trim();
    return {
        estimate: await text("gpu-cost-estimate"),
        budget: await text("gpu-cost-budget"),
        verdict: await text("gpu-cost-verdict"),
    };
}
