/**
 * Every values key a portal component sets exists in its chart's values at the pinned version.
 *
 * The charts' default values are in test/fixtures/charts/<chart>-<version>.values.yaml. Each
 * was obtained, as its header says, from a git snapshot of the chart's source repository: the
 * chart's values.yaml read at the release tag of the pinned version (repository, path, tag,
 * commit and date in the header), trimmed of comments with every key and default kept. The
 * header's markers name what the defaults cannot show: `open` maps (free-form keys),
 * `template-only` keys (read by the templates at that tag, absent from the defaults; found by
 * scanning `.Values.*` in them), `subchart` keys, and `item-fields` (the fields the templates
 * read from each item of a map keyed by name). The spec parses both and checks the pure values
 * functions' output, path by path.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { REPO_ROOT } from "./harness";
import { CHARTS, ChartPin } from "../components/shared/charts";
import {
    argoCdValues,
    backstageValues,
    externalSecretsValues,
    gitOpsValues,
    loadBalancerControllerValues,
    mlflowValues,
} from "../components/portal";
import { kueueValues } from "../components/scheduling";

interface ChartFixture {
    readonly defaults: Record<string, unknown>;
    readonly header: string[];
    readonly open: string[][];
    readonly templateOnly: string[][];
    readonly subcharts: string[];
    /** `applications.<name>` → the fields each item may set. */
    readonly itemFields: { path: string[]; fields: string[] }[];
}

/** `configs.cm."oidc.config"` → ["configs", "cm", "oidc.config"] */
function splitPath(text: string): string[] {
    return [...text.trim().matchAll(/"([^"]*)"|([^.]+)/g)].map((m) => m[1] ?? m[2]);
}

function readFixture(pin: ChartPin): ChartFixture {
    const text = fs.readFileSync(
        path.join(REPO_ROOT, "test", "fixtures", "charts", `${pin.chart}-${pin.version}.values.yaml`),
        "utf8",
    );
    const [head, body] = text.split(/^---$/m);
    const header = head.split("\n").filter((l) => l.startsWith("#"));
    const marked = (kind: string) =>
        header.filter((l) => l.startsWith(`# ${kind}: `)).map((l) => l.slice(`# ${kind}: `.length));
    return {
        defaults: parse(body) as Record<string, unknown>,
        header,
        open: marked("open").map(splitPath),
        templateOnly: marked("template-only").map(splitPath),
        subcharts: marked("subchart"),
        itemFields: marked("item-fields").map((l) => {
            const [itemPath, fields] = l.split(/:\s(.*)/s);
            return { path: splitPath(itemPath), fields: fields.split(",").map((f) => f.trim().split(" ")[0]) };
        }),
    };
}

/** Every leaf a values object sets, as a key path; lists and scalars are leaves. */
function leafPaths(values: unknown, prefix: string[] = []): string[][] {
    if (typeof values !== "object" || values === null || Array.isArray(values) || Object.keys(values).length === 0)
        return [prefix];
    return Object.entries(values).flatMap(([key, value]) => leafPaths(value, [...prefix, key]));
}

const startsWith = (p: string[], prefix: string[]) =>
    prefix.length <= p.length && prefix.every((k, i) => k === p[i] || k === "<name>");

/** Why `p` is a key of the chart, or undefined when it is not. */
function whyKnown(p: string[], chart: ChartFixture): string | undefined {
    if (chart.subcharts.includes(p[0])) return "subchart";
    // Items of a map keyed by name: the map is open, each item's fields are not.
    const item = chart.itemFields.find((i) => startsWith(p, i.path) && p.length > i.path.length);
    if (item) return item.fields.includes(p[item.path.length]) ? "item-field" : undefined;
    if (chart.open.some((o) => startsWith(p, o))) return "open";
    if (chart.templateOnly.some((t) => startsWith(p, t))) return "template-only";
    let node: unknown = chart.defaults;
    for (const key of p) {
        if (typeof node !== "object" || node === null || Array.isArray(node) || !Object.hasOwn(node, key))
            return undefined;
        node = (node as Record<string, unknown>)[key];
    }
    return "default";
}

function unknownKeys(values: Record<string, unknown>, chart: ChartFixture): string[] {
    return leafPaths(values)
        .filter((p) => !whyKnown(p, chart))
        .map((p) => p.join("."));
}

const ROLE = "arn:aws:iam::123456789012:role/example";
const SAMPLES: Record<string, { pin: ChartPin; values: Record<string, unknown>[] }> = {
    "aws-load-balancer-controller": {
        pin: CHARTS.awsLoadBalancerController,
        values: [
            loadBalancerControllerValues({
                clusterName: "c",
                region: "us-east-1",
                vpcId: "vpc-1",
                roleArn: ROLE,
                defaultTags: { team: "platform" },
                replicas: 2,
                portalClass: { scheme: "internal", groupName: "portal", inboundCidrs: ["10.0.0.0/16"] },
            }),
        ],
    },
    "external-secrets": { pin: CHARTS.externalSecrets, values: [externalSecretsValues(ROLE)] },
    "argo-cd": {
        pin: CHARTS.argoCd,
        values: [
            argoCdValues({
                url: "http://argocd.d",
                host: "argocd.d",
                highAvailability: false,
                adminEnabled: true,
                teams: [],
                adminGroups: [],
                readOnlyAccounts: [],
            }),
            argoCdValues({
                url: "https://argocd.p",
                host: "argocd.p",
                highAvailability: true,
                adminEnabled: false,
                sso: {
                    provider: "oidc",
                    issuer: "https://login.example.com",
                    clientId: "argocd",
                    clientSecretArn: "arn",
                },
                teams: [{ name: "a", group: "a" }],
                adminGroups: ["platform"],
                readOnlyAccounts: ["backstage"],
            }),
            argoCdValues({
                url: "https://argocd.p",
                host: "argocd.p",
                highAvailability: false,
                adminEnabled: true,
                sso: {
                    provider: "dex",
                    connectors: [{ type: "github", id: "github", name: "GitHub" }],
                    clientSecretArn: "arn",
                },
                teams: [],
                adminGroups: [],
                readOnlyAccounts: [],
            }),
        ],
    },
    "argocd-apps": {
        pin: CHARTS.argoCdApps,
        values: [
            gitOpsValues({
                repoUrl: "https://github.com/acme/gitops.git",
                path: "apps",
                targetRevision: "main",
                teams: [{ name: "a", namespace: "a" }],
            }),
        ],
    },
    kueue: {
        pin: CHARTS.kueue,
        values: [
            kueueValues({ highAvailability: false, frameworks: ["batch/job", "pod"] }),
            kueueValues({ highAvailability: true, frameworks: ["batch/job", "pod", "deployment", "statefulset"] }),
        ],
    },
    mlflow: {
        pin: CHARTS.mlflow,
        values: [
            mlflowValues({
                host: "mlflow.d",
                region: "us-east-1",
                replicas: 1,
                database: { host: "db", port: 5432, name: "mlflow" },
                authDatabase: { host: "db", port: 5432, name: "mlflow_auth" },
                bucket: "b",
                roleArn: ROLE,
            }),
        ],
    },
    backstage: {
        pin: CHARTS.backstage,
        values: [
            backstageValues({
                url: "http://backstage.d",
                replicas: 1,
                database: { host: "db", port: 5432, name: "backstage", region: "us-east-1" },
                templatesUrl: "https://github.com/acme/gpu-platform/blob/main/backstage/templates/*.yaml",
                proxy: { costTracker: "http://tracker", argoCd: "http://argocd" },
                argoCdTokenVersion: "a1b2c3d4-0000-4000-8000-000000000001",
                templates: {
                    gitopsRepoUrl: "github.com?owner=acme&repo=gitops",
                    gitopsBranch: "main",
                    argocdUrl: "http://a",
                    mlflowUrl: "http://m",
                    mlflowNamespace: "mlflow",
                    teamSecretsPrefix: "gpu-platform-prod",
                },
            }),
        ],
    },
};

describe("chart values", () => {
    for (const [chart, { pin, values }] of Object.entries(SAMPLES)) {
        describe(`${chart} ${pin.version}`, () => {
            const fixture = readFixture(pin);

            it("has a fixture of the pinned version from the chart's repository, with its source noted", () => {
                assert.ok(
                    fixture.header.some(
                        (l) =>
                            l.includes(`Helm repository: ${pin.repository}`) && l.includes(`version ${pin.version})`),
                    ),
                    "the pin's repository and version",
                );
                assert.ok(
                    fixture.header.some((l) =>
                        /^# Source: github\.com\/[\w.-]+\/[\w.-]+, \S+values\.yaml at tag \S+/.test(l),
                    ),
                    "the source repository, path and tag",
                );
                assert.ok(
                    fixture.header.some((l) => /commit [0-9a-f]{40}/.test(l)),
                    "the commit",
                );
            });

            it("knows every key the component sets", () => {
                for (const v of values) assert.deepStrictEqual(unknownKeys(v, fixture), []);
            });
        });
    }

    it("kueue: turns on no feature gate, as ClusterQueues' lendingLimit needs none at v0.19.2", () => {
        // kubernetes-sigs/kueue pkg/features/kube_features.go: LendingLimit went GA, locked on, in v0.17
        // (tag v0.18.0: "LockToDefault: true, // remove in 0.19") and is gone at tag v0.19.2 (#13067), where
        // apis/kueue/v1beta2/clusterqueue_types.go takes lendingLimit as is. A gate Kueue no longer knows
        // stops the manager at start (cmd/kueue/main.go: LoadAndValidateFeatureGates fails, os.Exit(1)),
        // so the values must not name it.
        const chart = readFixture(CHARTS.kueue);
        assert.deepStrictEqual((chart.defaults.controllerManager as Record<string, unknown>).featureGates, []);
        for (const ha of [false, true]) {
            const values = kueueValues({ highAvailability: ha, frameworks: ["batch/job"] });
            assert.strictEqual((values.controllerManager as Record<string, unknown>).featureGates, undefined);
        }
    });

    it("refuses a key the chart does not have, and one below a leaf", () => {
        const fixture = readFixture(CHARTS.backstage);
        assert.deepStrictEqual(
            unknownKeys(
                { backstage: { imag: { tag: "1" }, replicas: { min: 1 } }, ingress: { annotations: { a: "b" } } },
                fixture,
            ),
            ["backstage.imag.tag", "backstage.replicas.min"],
        );
        const apps = readFixture(CHARTS.argoCdApps);
        assert.deepStrictEqual(
            unknownKeys({ projects: { a: { destinations: [], clusterResourceWhitelists: [] } } }, apps),
            ["projects.a.clusterResourceWhitelists"],
        );
    });
});
