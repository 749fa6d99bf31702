/**
 * Backstage's proxy endpoints are the ones the portal uses, and no more: an endpoint nothing
 * calls is a door that only confuses (issue 24: `/api/proxy/mlflow` answered 401 to everyone,
 * since it deliberately carries no MLflow credential). The image's app-config.yaml and the chart
 * values the Backstage component writes list the same endpoints, and every `proxy` call in the
 * portal's own code and templates names one of them.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PROXY_ENDPOINTS } from "../components/portal/backstage";
import { REPO_ROOT } from "./harness";

const BACKSTAGE = path.join(REPO_ROOT, "backstage");

/** Every source file of the portal's own packages, plugins and templates (no dependencies, no build output). */
function portalSources(dir = BACKSTAGE): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory())
            return ["node_modules", "dist", "dist-types", ".yarn"].includes(entry.name) ? [] : portalSources(full);
        return /\.(ts|tsx|js|yaml|yml)$/.test(entry.name) ? [full] : [];
    });
}

/** The endpoint each proxy call names: `/api/proxy/<x>`, `/proxy/<x>` in templates, or `getBaseUrl('proxy')}/<x>`. */
function proxyCalls(text: string): string[] {
    const patterns = [/\/proxy\/([\w-]+)/g, /getBaseUrl\(\s*['"]proxy['"]\s*\)\s*\}?\s*\/([\w-]+)/g];
    return patterns.flatMap((p) => [...text.matchAll(p)].map((m) => `/${m[1]}`));
}

describe("Backstage's proxy endpoints", () => {
    const appConfig = parse(fs.readFileSync(path.join(BACKSTAGE, "app-config.yaml"), "utf8")) as {
        proxy: { endpoints: Record<string, unknown> };
    };

    it("are the cost tracker's reads and Argo CD's, in the image's app-config and the chart values alike; no /mlflow", () => {
        assert.deepStrictEqual(Object.keys(appConfig.proxy.endpoints).sort(), ["/argocd", "/cost-tracker"]);
        assert.deepStrictEqual(Object.values(PROXY_ENDPOINTS).sort(), ["/argocd", "/cost-tracker"]);
    });

    it("cover every proxy call in the portal's code and templates", () => {
        const calls = new Map<string, string[]>();
        for (const file of portalSources())
            for (const endpoint of proxyCalls(fs.readFileSync(file, "utf8")))
                calls.set(endpoint, [...(calls.get(endpoint) ?? []), path.relative(REPO_ROOT, file)]);
        const known = Object.keys(appConfig.proxy.endpoints);
        const unknown = [...calls].filter(([endpoint]) => !known.includes(endpoint));
        assert.deepStrictEqual(unknown, [], "a proxy call to an endpoint app-config does not define");
        assert.ok(calls.has("/cost-tracker"), "the plugin reads budgets through /cost-tracker");
    });
});
