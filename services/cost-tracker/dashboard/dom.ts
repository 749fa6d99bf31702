/**
 * What every part of the dashboard shares: one money format, one time format, table cells that
 * carry their exact value (data-usd), and the CSV export every table offers.
 */
import type { Category } from "../src/model";

export const CATEGORY_LABELS: Record<Category, string> = {
    gpu: "GPU",
    "cpu-memory": "CPU & memory",
    storage: "Storage",
    network: "Network",
    "ai-api": "AI APIs",
    "other-aws": "Other AWS",
    "credits-tax": "Credits, refunds & tax",
};
export const COLORS: Record<Category | "reserved" | "remaining" | "forecast" | "budget", string> = {
    gpu: "#5b5bd6",
    "cpu-memory": "#12a594",
    storage: "#f5a524",
    network: "#0090ff",
    "ai-api": "#e5484d",
    "other-aws": "#8b8d98",
    "credits-tax": "#30a46c",
    reserved: "#f5a524",
    remaining: "#d0d5dd",
    forecast: "#1d2433",
    budget: "#b42318",
};

export const money = new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
});
export const hours = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

/** Every time on the page one way: ISO 8601 to the minute, with its zone ("2026-11-26 15:00 UTC"). */
export function isoMinute(at: Date | string): string {
    return `${new Date(at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The service's messages write amounts plainly ("$41224.5"); the page shows every amount as the tables do ("$41,224.50"). */
export function formatAmounts(text: string): string {
    return text.replace(/\$(-?\d+(?:\.\d+)?)/g, (_m, n: string) => money.format(Number(n)));
}

export async function get<T>(url: string): Promise<T> {
    const response = await fetch(url, { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return (await response.json()) as T;
}

export function cell(text: string, attrs: Record<string, string> = {}): HTMLTableCellElement {
    const td = document.createElement("td");
    td.textContent = text;
    for (const [k, v] of Object.entries(attrs)) td.setAttribute(k, v);
    return td;
}

export function usdCell(value: number, testId: string, extraClass = ""): HTMLTableCellElement {
    const td = cell(money.format(value), { "data-testid": testId, "data-usd": String(value) });
    if (extraClass) td.className = extraClass;
    return td;
}

/**
 * A table as CSV (RFC 4180): the header's labels, then each row with a cell's exact figure where
 * it carries one (data-usd, data-hours, data-count), so a spreadsheet sums cents, not "$1,234.50" strings.
 */
export function tableCsv(table: HTMLTableElement): string {
    const rows = [...table.querySelectorAll("tr")].map((tr) =>
        [...tr.querySelectorAll("th, td")].map((c) => {
            const exact = c.getAttribute("data-usd") ?? c.getAttribute("data-hours") ?? c.getAttribute("data-count");
            return exact ?? (c.firstChild?.textContent ?? "").trim();
        }),
    );
    return rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

function csvField(text: string): string {
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Saves `text` as a file the browser downloads; nothing leaves the page. */
function download(fileName: string, text: string): void {
    const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    const link = Object.assign(document.createElement("a"), { href: url, download: fileName });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** A "Download CSV" button above every table that has none, saving `<table id>-<month>.csv` of what the table shows. */
export function addCsvButtons(month: string): void {
    for (const table of document.querySelectorAll<HTMLTableElement>("table[id]")) {
        const box = table.closest(".scroll") ?? table;
        if (box.previousElementSibling?.classList.contains("csv-bar")) continue;
        const bar = Object.assign(document.createElement("div"), { className: "csv-bar" });
        const button = Object.assign(document.createElement("button"), { type: "button", textContent: "Download CSV" });
        button.dataset.csvFor = table.id;
        button.addEventListener("click", () => download(`${table.id}-${month}.csv`, tableCsv(table)));
        bar.append(button);
        box.before(bar);
    }
}
