/**
 * Careless and hostile stack configs (issue 15): each class of mistake is refused with one line
 * naming its key, and the near-misses a platform team relies on are still accepted.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { PROJECT, REPO_ROOT } from "./harness";
import { ConfigError, loadPlatformConfig, policyPackSettingsOf, validatePlatformConfig } from "../stacks";

/** A valid dev config with a MIG pool and a pipeline; each case breaks one thing. */
function base(): Record<string, any> {
    return {
        environment: "dev",
        region: "us-east-1",
        network: { cidr: "10.20.0.0/16" },
        cluster: {
            kubernetesVersion: "1.35",
            endpointAccess: "public-and-private",
            publicAccessCidrs: ["203.0.113.0/24"],
            adminRoleArns: ["arn:aws:iam::123456789012:role/platform-admin"],
            creatorRoleArn: "arn:aws:iam::123456789012:role/platform-deployer",
        },
        nodePools: {
            system: { instanceType: "m7i.xlarge", minSize: 1, maxSize: 3 },
            mig: {
                instanceType: "p4de.24xlarge",
                maxSize: 2,
                gpuSharing: { mode: "mig", layout: { "3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2 } },
            },
        },
        teams: [
            {
                name: "ml-research",
                costCenter: "CC-1001",
                monthlyBudgetUsd: 15000,
                iamRoleArn: "arn:aws:iam::123456789012:role/ml-research",
            },
        ],
        inferencePipelines: [
            {
                name: "embeddings",
                team: "ml-research",
                pool: "mig",
                image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/inference/embeddings:1.4.2",
                gpuResource: "nvidia.com/mig-3g.40gb",
            },
        ],
        tags: { team: "platform", "cost-center": "CC-0001", budget: "platform-dev" },
    };
}

type Edit = (raw: Record<string, any>) => Record<string, any> | void;

function problemsOf(edit: Edit, stack = "dev"): string[] {
    const raw = base();
    const edited = edit(raw) ?? raw;
    return validatePlatformConfig(edited, PROJECT, stack).problems.map((p) => `${p.key}: ${p.message}`);
}

/** Each class: configs that must be refused, with the key and message the refusal names. */
const REFUSED: Record<string, Array<[string, Edit, string, RegExp]>> = {
    "unknown keys": [
        [
            "a misspelt top-level key in the project's namespace",
            (r) => ({ ...r, "gpu-platform:nodePool": {} }),
            "nodePool",
            /^is not a known key; did you mean nodePools\?$/,
        ],
        ["a bare misspelt top-level key", (r) => void (r.tag = {}), "tag", /did you mean tags\?/],
        [
            "a misspelt namespace",
            (r) => ({ ...r, "gpu-platfrom:region": "us-east-1" }),
            "gpu-platfrom:region",
            /namespace "gpu-platfrom", which nothing reads.*did you mean gpu-platform:region\?/,
        ],
        [
            "the project's key in a provider's namespace",
            (r) => ({ ...r, "aws:nodePools": {} }),
            "aws:nodePools",
            /did you mean gpu-platform:nodePools\?/,
        ],
        [
            "a namespace nothing reads",
            (r) => ({ ...r, "gpu:teams": [] }),
            "gpu:teams",
            /which nothing reads.*did you mean gpu-platform:teams\?/,
        ],
        [
            "a misspelt provider namespace",
            (r) => ({ ...r, "kubernets:context": "x" }),
            "kubernets:context",
            /did you mean kubernetes:context\?/,
        ],
        [
            "a misspelt nested key",
            (r) => void (r.cluster.publicAccessCidr = []),
            "cluster.publicAccessCidr",
            /did you mean publicAccessCidrs\?/,
        ],
    ],
    "VPC ranges": [
        [
            "loopback",
            (r) => void (r.network.cidr = "127.0.0.0/16"),
            "network.cidr",
            /127\.0\.0\.0\/8, loopback, which no VPC can use/,
        ],
        ["multicast", (r) => void (r.network.cidr = "224.10.0.0/16"), "network.cidr", /224\.0\.0\.0\/4, multicast/],
        [
            "link-local",
            (r) => void (r.network.cidr = "169.254.0.0/16"),
            "network.cidr",
            /169\.254\.0\.0\/16, link-local/,
        ],
        ["this network", (r) => void (r.network.cidr = "0.0.0.0/16"), "network.cidr", /0\.0\.0\.0\/8, "this network"/],
        ["class E", (r) => void (r.network.cidr = "250.1.0.0/16"), "network.cidr", /240\.0\.0\.0\/4, reserved/],
        ["Docker's bridge range", (r) => void (r.network.cidr = "172.17.0.0/16"), "network.cidr", /172\.17\.0\.0\/16/],
        [
            "public without the opt-in",
            (r) => void (r.network.cidr = "8.8.0.0/16"),
            "network.cidr",
            /outside the private ranges.*network\.allowNonPrivateCidr: true/,
        ],
        [
            "shared address space without the opt-in",
            (r) => void (r.network.cidr = "100.64.0.0/16"),
            "network.cidr",
            /outside the private ranges/,
        ],
        [
            "loopback even with the opt-in",
            (r) => void (r.network = { cidr: "127.0.0.0/16", allowNonPrivateCidr: true }),
            "network.cidr",
            /loopback/,
        ],
    ],
    regions: [
        [
            "a region-shaped name that is no region",
            (r) => void (r.region = "us-east-9"),
            "region",
            /must be an AWS region such as us-east-1 \(found "us-east-9"\)/,
        ],
        [
            "an admin role of the aws partition in GovCloud",
            (r) => void (r.region = "us-gov-west-1"),
            "cluster.adminRoleArns[0]",
            /partition "aws", but region us-gov-west-1 is in "aws-us-gov"/,
        ],
        [
            "a China team role in us-east-1",
            (r) => void (r.teams[0].iamRoleArn = "arn:aws-cn:iam::123456789012:role/ml"),
            "teams[0].iamRoleArn",
            /partition "aws-cn", but region us-east-1 is in "aws"/,
        ],
        [
            "an alarm topic of another partition",
            (r) =>
                void (r.inferencePipelines[0].alarmTopicArn = "arn:aws-us-gov:sns:us-gov-west-1:123456789012:alarms"),
            "inferencePipelines[0].alarmTopicArn",
            /partition "aws-us-gov"/,
        ],
        [
            "a partition that does not exist",
            (r) => void (r.teams[0].iamRoleArn = "arn:aws-moon:iam::123456789012:role/ml"),
            "teams[0].iamRoleArn",
            /partition "aws-moon", which does not exist/,
        ],
    ],
    tags: [
        [
            "an aws: key",
            (r) => void (r.tags["aws:owner"] = "me"),
            "tags.aws:owner",
            /starts with "aws:", which AWS reserves/,
        ],
        ["an AWS: key in capitals", (r) => void (r.tags["AWS:Owner"] = "me"), "tags.AWS:Owner", /reserves/],
        ["an aws: value", (r) => void (r.tags.owner = "aws:me"), "tags.owner", /^value starts with "aws:"/],
        [
            "51 tags with environment",
            (r) => void Object.assign(r.tags, Object.fromEntries(Array.from({ length: 47 }, (_, i) => [`k${i}`, "v"]))),
            "tags",
            /has 51 tags with the environment tag the program adds; AWS allows at most 50/,
        ],
        [
            "a key of 129 characters",
            (r) => void (r.tags["k".repeat(129)] = "v"),
            `tags.${"k".repeat(129)}`,
            /129 characters; AWS allows at most 128/,
        ],
        ["a character AWS refuses", (r) => void (r.tags.owner = "a;b"), "tags.owner", /characters AWS refuses/],
        [
            "a budget value the pack refuses",
            (r) => void (r.tags.budget = "Platform_Dev"),
            "tags.budget",
            /does not match \^\[a-z0-9\]\[a-z0-9-\]\{1,62\}\$; the budget-tags policy \(policies\/config\.dev\.json\) would refuse/,
        ],
        ["a team value the pack refuses", (r) => void (r.tags.team = "Platform Team"), "tags.team", /does not match/],
        ["an empty cost center", (r) => void (r.tags["cost-center"] = ""), "tags.cost-center", /^is empty;/],
        [
            "an environment the stack's policy config does not allow",
            (r) => void Object.assign(r, { environment: "prod", cluster: { kubernetesVersion: "1.35" } }),
            "environment",
            /is "prod"; this stack allows dev/,
        ],
    ],
    "team names": [
        [
            "cert-manager",
            (r) => void (r.teams[0].name = r.inferencePipelines[0].team = "cert-manager"),
            "teams[0].name",
            /namespace the cluster or its add-ons own/,
        ],
        [
            "karpenter",
            (r) => void (r.teams[0].name = r.inferencePipelines[0].team = "karpenter"),
            "teams[0].name",
            /namespace the cluster or its add-ons own/,
        ],
        [
            "a kube- prefix",
            (r) => void (r.teams[0].name = r.inferencePipelines[0].team = "kube-ml"),
            "teams[0].name",
            /starting with kube-/,
        ],
        [
            "openshift",
            (r) => void (r.teams[0].name = r.inferencePipelines[0].team = "openshift"),
            "teams[0].name",
            /namespace the cluster or its add-ons own/,
        ],
    ],
    "prototype names": [
        [
            "a pool named constructor",
            (r) => void (r.nodePools.constructor = { instanceType: "m7i.xlarge", maxSize: 1 }),
            "nodePools.constructor",
            /Object\.prototype/,
        ],
        [
            "a pool named __proto__",
            (r) =>
                JSON.parse(
                    JSON.stringify(r).replace(
                        '"system":',
                        '"__proto__":{"instanceType":"p5.48xlarge","maxSize":1},"system":',
                    ),
                ),
            "nodePools.__proto__",
            /Object\.prototype/,
        ],
        [
            "a MIG profile named toString",
            (r) => void (r.nodePools.mig.gpuSharing.layout = { toString: 1 }),
            "nodePools.mig.gpuSharing.layout.toString",
            /Object\.prototype/,
        ],
        [
            "a quota profile named hasOwnProperty",
            (r) => void (r.teams[0].quota = { mig: { hasOwnProperty: 1 } }),
            "teams[0].quota.mig.hasOwnProperty",
            /Object\.prototype/,
        ],
        [
            "a priority class named constructor",
            (r) => void (r.priorityClasses = [{ name: "constructor", value: 1, maxGpusPerPod: 1 }]),
            "priorityClasses[0].name",
            /Object\.prototype/,
        ],
        [
            "a team named constructor",
            (r) => void (r.teams[0].name = r.inferencePipelines[0].team = "constructor"),
            "teams[0].name",
            /Object\.prototype/,
        ],
        [
            "tags with __proto__ posing as the team tag",
            (r) => void (r.tags = JSON.parse('{"__proto__": {"team": "x"}, "cost-center": "CC-1", "budget": "b-1"}')),
            "tags.__proto__",
            /Object\.prototype/,
        ],
        [
            "a top-level key named __proto__",
            (r) => ({ ...r, "gpu-platform:__proto__": "{}" }),
            "__proto__",
            /Object\.prototype/,
        ],
        [
            "a pipeline on pool toString",
            (r) => void (r.inferencePipelines[0].pool = "toString"),
            "inferencePipelines[0].pool",
            /"toString" is not a node pool/,
        ],
        [
            "a pipeline asking for gpuResource constructor",
            (r) => void (r.inferencePipelines[0].gpuResource = "constructor"),
            "inferencePipelines[0].gpuResource",
            /"constructor" is not offered/,
        ],
        [
            "a pipeline in priority class valueOf",
            (r) => void (r.inferencePipelines[0].priorityClass = "valueOf"),
            "inferencePipelines[0].priorityClass",
            /"valueOf" is not a priority class/,
        ],
        [
            "Kubernetes version constructor",
            (r) => void (r.cluster.kubernetesVersion = "constructor"),
            "cluster.kubernetesVersion",
            /must be a Kubernetes version EKS offers/,
        ],
    ],
    budgets: [
        [
            "1e308",
            (r) => void (r.teams[0].monthlyBudgetUsd = 1e308),
            "teams[0].monthlyBudgetUsd",
            /at most 10,000,000 US dollars/,
        ],
        [
            "0.0001",
            (r) => void (r.teams[0].monthlyBudgetUsd = 0.0001),
            "teams[0].monthlyBudgetUsd",
            /at least 1 US dollar/,
        ],
        [
            "NaN",
            (r) => void (r.teams[0].monthlyBudgetUsd = NaN),
            "teams[0].monthlyBudgetUsd",
            /must be a number of US dollars/,
        ],
        [
            "Infinity",
            (r) => void (r.teams[0].monthlyBudgetUsd = Infinity),
            "teams[0].monthlyBudgetUsd",
            /must be a number of US dollars/,
        ],
        [
            '"NaN" as text',
            (r) => void (r.teams[0].monthlyBudgetUsd = "NaN"),
            "teams[0].monthlyBudgetUsd",
            /must be a number of US dollars \(found "NaN"\)/,
        ],
        [
            "a fraction of a cent",
            (r) => void (r.teams[0].monthlyBudgetUsd = 100.005),
            "teams[0].monthlyBudgetUsd",
            /whole cents/,
        ],
        [
            "a negative budget",
            (r) => void (r.teams[0].monthlyBudgetUsd = -5),
            "teams[0].monthlyBudgetUsd",
            /at least 1 US dollar/,
        ],
    ],
    "unpinned images": [
        [
            "a bare repository",
            (r) => void (r.inferencePipelines[0].image = "busybox"),
            "inferencePipelines[0].image",
            /names no tag or digest.*by tag \("registry\/repo:1\.4\.2"\) or by digest/,
        ],
        [
            "latest",
            (r) => void (r.inferencePipelines[0].image = "busybox:latest"),
            "inferencePipelines[0].image",
            /"latest", which moves with every push/,
        ],
        [
            "a registry port and no tag",
            (r) => void (r.inferencePipelines[0].image = "registry.local:5000/team/worker"),
            "inferencePipelines[0].image",
            /names no tag or digest/,
        ],
        [
            "a short digest",
            (r) => void (r.inferencePipelines[0].image = "busybox@sha256:abc"),
            "inferencePipelines[0].image",
            /is not a container image reference/,
        ],
        [
            "an upper-case path",
            (r) => void (r.inferencePipelines[0].image = "registry.local/Team/Worker:1"),
            "inferencePipelines[0].image",
            /is not a container image reference/,
        ],
    ],
    "API endpoint CIDRs": [
        [
            "a private range",
            (r) => void (r.cluster.publicAccessCidrs = ["10.1.0.0/16"]),
            "cluster.publicAccessCidrs[0]",
            /includes 10\.0\.0\.0\/8, private \(RFC 1918\); EKS refuses/,
        ],
        [
            "shared address space",
            (r) => void (r.cluster.publicAccessCidrs = ["100.64.0.0/10"]),
            "cluster.publicAccessCidrs[0]",
            /shared address space/,
        ],
        [
            "41 ranges",
            (r) => void (r.cluster.publicAccessCidrs = Array.from({ length: 41 }, (_, i) => `198.51.${i}.0/24`)),
            "cluster.publicAccessCidrs",
            /has 41 CIDRs; EKS allows at most 40/,
        ],
        [
            "the same range twice",
            (r) => void (r.cluster.publicAccessCidrs = ["198.51.100.0/24", "198.51.100.0/24"]),
            "cluster.publicAccessCidrs[1]",
            /duplicates cluster\.publicAccessCidrs\[0\]/,
        ],
        [
            "0.0.0.0/0 in dev without the setting",
            (r) => void (r.cluster.publicAccessCidrs = ["0.0.0.0/0"]),
            "cluster.publicAccessCidrs",
            /opens the API endpoint to 0\.0\.0\.0\/0.*cluster\.allowPublicApiFromAnywhere: true/,
        ],
        [
            "the internet in two halves",
            (r) => void (r.cluster.publicAccessCidrs = ["0.0.0.0/1", "128.0.0.0/1"]),
            "cluster.publicAccessCidrs",
            /4,294,967,296 addresses, more than a \/8/,
        ],
        [
            "the setting in prod",
            (r) =>
                void Object.assign(r, {
                    environment: "prod",
                    cluster: { kubernetesVersion: "1.35", allowPublicApiFromAnywhere: true },
                    tags: { ...r.tags, budget: "platform-prod" },
                }),
            "cluster.allowPublicApiFromAnywhere",
            /must not be set in prod/,
        ],
    ],
    "priority classes against the policy config": [
        [
            "a class the pack does not know",
            (r) =>
                void (r.priorityClasses = [
                    { name: "batch", value: 10, maxGpusPerPod: 4 },
                    { name: "production-inference", value: 1000, maxGpusPerPod: 2 },
                ]),
            "priorityClasses[0].name",
            /class "batch" has no GPU limit in policies\/config\.dev\.json/,
        ],
        [
            "a limit the pack does not share",
            (r) => void (r.priorityClasses = [{ name: "production-inference", value: 1000, maxGpusPerPod: 4 }]),
            "priorityClasses[0].maxGpusPerPod",
            /allows 4 GPUs per pod, but policies\/config\.dev\.json gives gpu-workload-priority-class 2/,
        ],
        [
            "classes the pack knows and the cluster lacks",
            (r) => void (r.priorityClasses = [{ name: "production-inference", value: 1000, maxGpusPerPod: 2 }]),
            "priorityClasses",
            /gives gpu-workload-priority-class limits for "critical-agents", "training", "research", "development", not classes of this stack/,
        ],
    ],
    "one line per problem": [
        [
            "a tag key with a newline",
            (r) => void (r.tags["a\nb"] = "v"),
            'tags["a\\nb"]',
            /^key has characters AWS refuses/,
        ],
        ["a megabyte region", (r) => void (r.region = "x".repeat(1_000_000)), "region", /\(1000000 characters\)\)$/],
        [
            "a list nested 100,000 deep",
            (r) => void (r.teams = Array.from({ length: 100_000 }).reduce<unknown>((inner) => [inner], 1)),
            `teams${"[0]".repeat(16)}`,
            /^nests more than 16 levels deep/,
        ],
    ],
};

describe("hostile stack config: every class refused, one line per problem, naming the key", () => {
    it("accepts the base config", () => {
        assert.deepStrictEqual(
            problemsOf(() => undefined),
            [],
        );
    });

    for (const [group, cases] of Object.entries(REFUSED)) {
        describe(group, () => {
            for (const [title, edit, key, message] of cases) {
                it(`refuses ${title}`, () => {
                    const found = problemsOf(edit);
                    const named = found.filter((line) => line.startsWith(`${key}: `));
                    assert.ok(named.length > 0, `no problem under ${key}; got:\n${found.join("\n")}`);
                    assert.ok(
                        named.some((line) => message.test(line.slice(key.length + 2))),
                        `no problem under ${key} matches ${message}; got:\n${named.join("\n")}`,
                    );
                    for (const line of found)
                        assert.ok(
                            !/[\n\r]/.test(line) && line.length < 1000,
                            `one short line: ${JSON.stringify(line.slice(0, 200))}`,
                        );
                });
            }
        });
    }

    describe("and still accepts what a platform team means", () => {
        const accepted: Array<[string, Edit]> = [
            [
                "provider config in the providers' namespaces",
                (r) => ({
                    ...r,
                    "aws:region": "us-east-1",
                    "aws:profile": "dev",
                    "kubernetes:cluster": "x",
                    "pulumi:disable-default-providers": '["*"]',
                }),
            ],
            [
                "the project's keys given with their namespace, in the older :config: form too",
                (r) => ({
                    ...Object.fromEntries(Object.entries(r).map(([k, v]) => [`${PROJECT}:${k}`, v])),
                    [`${PROJECT}:config:tags`]: r.tags,
                }),
            ],
            [
                "a public VPC range with the named opt-in",
                (r) => void (r.network = { cidr: "100.64.0.0/16", allowNonPrivateCidr: true }),
            ],
            ["every RFC 1918 range", (r) => void (r.network.cidr = "192.168.0.0/16")],
            [
                "0.0.0.0/0 in dev with the named setting",
                (r) =>
                    void Object.assign(r.cluster, {
                        publicAccessCidrs: ["0.0.0.0/0"],
                        allowPublicApiFromAnywhere: true,
                    }),
            ],
            [
                "40 public ranges",
                (r) => void (r.cluster.publicAccessCidrs = Array.from({ length: 40 }, (_, i) => `198.51.${i}.0/24`)),
            ],
            [
                "roles and topics in the GovCloud partition",
                (r) => {
                    r.region = "us-gov-west-1";
                    r.cluster.adminRoleArns = ["arn:aws-us-gov:iam::123456789012:role/platform-admin"];
                    r.cluster.creatorRoleArn = "arn:aws-us-gov:iam::123456789012:role/platform-deployer";
                    r.teams[0].iamRoleArn = "arn:aws-us-gov:iam::123456789012:role/ml-research";
                    r.inferencePipelines[0].alarmTopicArn = "arn:aws-us-gov:sns:us-gov-west-1:123456789012:alarms";
                },
            ],
            [
                "50 tags with environment, and letters AWS allows beyond ASCII",
                (r) =>
                    void Object.assign(r.tags, {
                        équipe: "données",
                        ...Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`k${i}`, "v"])),
                    }),
            ],
            [
                "a budget of $1 and one of $10,000,000 in cents",
                (r) =>
                    void r.teams.push(
                        { name: "small", costCenter: "CC-2", monthlyBudgetUsd: 1 },
                        { name: "large", costCenter: "CC-3", monthlyBudgetUsd: 9_999_999.99 },
                    ),
            ],
            [
                "an image pinned by digest, by tag and digest, or from a registry with a port",
                (r) => {
                    const pipeline = r.inferencePipelines[0];
                    r.inferencePipelines = [
                        { ...pipeline, image: `busybox@sha256:${"a".repeat(64)}` },
                        {
                            ...pipeline,
                            name: "two",
                            image: `registry.local:5000/team/worker:2024.1-rc1@sha256:${"b".repeat(64)}`,
                        },
                        { ...pipeline, name: "three", image: "registry.local:5000/team/worker:v3" },
                    ];
                },
            ],
            [
                "1g.20gb: 3 with 1g.10gb: 2, which the A100 80 GB places at slices 2, 4, 6 and 0, 1",
                (r) => {
                    r.nodePools.mig.gpuSharing.layout = { "1g.20gb": 3, "1g.10gb": 2 };
                    r.inferencePipelines[0].gpuResource = "nvidia.com/mig-1g.20gb";
                },
            ],
        ];
        for (const [title, edit] of accepted) {
            it(title, () => assert.deepStrictEqual(problemsOf(edit), []));
        }

        it("own priority classes when the stack's policy config names the same limits", () => {
            const raw = base();
            raw.priorityClasses = [
                { name: "batch", value: 10, maxGpusPerPod: 4 },
                { name: "production-inference", value: 1000, maxGpusPerPod: 2 },
            ];
            const limits = { maxGpusPerPodByClass: { batch: 4, "production-inference": 2 } };
            const pack = policyPackSettingsOf(
                { "gpu-workload-priority-class": limits, "gpu-workload-class-limit": limits },
                "spec policy config",
            );
            assert.deepStrictEqual(validatePlatformConfig(raw, PROJECT, "dev", pack).problems, []);
            // And a policy config that turns the class policies off holds nothing against them.
            const off = policyPackSettingsOf({ all: "disabled" }, "spec policy config");
            assert.deepStrictEqual(validatePlatformConfig(raw, PROJECT, "dev", off).problems, []);
        });
    });

    it("reads every namespace of the config through Pulumi, not only the declared keys", () => {
        const raw = base();
        const values: Record<string, string> = Object.fromEntries(
            Object.entries(raw).map(([k, v]) => [`${PROJECT}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
        );
        pulumi.runtime.setAllConfig({
            ...values,
            "gpu-platfrom:region": "us-west-2",
            [`${PROJECT}:nodePool`]: "{}",
            "aws:region": "us-east-1",
        });
        try {
            assert.throws(
                () => loadPlatformConfig(new pulumi.Config(PROJECT)),
                (err: unknown) =>
                    err instanceof ConfigError &&
                    err.problems.map((p) => p.key).join(" ") === "gpu-platfrom:region nodePool" &&
                    /did you mean gpu-platform:region\?/.test(err.problems[0].message),
            );
        } finally {
            pulumi.runtime.setAllConfig({});
        }
    });

    it("does not pollute Object.prototype, whatever the config holds", () => {
        problemsOf((r) => {
            r.tags = JSON.parse('{"__proto__": {"polluted": "yes"}}');
            r.nodePools.mig.gpuSharing.layout = JSON.parse(
                '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 1}}}',
            );
        });
        assert.strictEqual(({} as Record<string, unknown>).polluted, undefined);
    });
});

describe("a large config validates in time linear in its size", function () {
    this.timeout(60_000);

    /** n pools, teams and pipelines, each pipeline naming a team, pool and class that do not exist. */
    function large(n: number): Record<string, any> {
        const raw = base();
        for (let i = 0; i < n; i++) {
            raw.nodePools[`gpu-${i}`] = { instanceType: "p5.48xlarge", maxSize: 1 };
            raw.teams.push({
                name: `team-${i}`,
                costCenter: "CC-1001",
                monthlyBudgetUsd: 1000,
                iamRoleArn: `arn:aws:iam::123456789012:role/team-${i}`,
            });
            raw.inferencePipelines.push({
                name: `pipe-${i}`,
                team: `nobody-${i}`,
                pool: `nowhere-${i}`,
                image: "busybox",
                priorityClass: `none-${i}`,
            });
        }
        raw.cluster.adminRoleArns = Array.from({ length: n }, (_, i) => `arn:aws:iam::123456789012:role/admin-${i}`);
        return raw;
    }

    it("reports every problem of a config of 4,000 pools, teams and pipelines (over 1 MB), each message of bounded length", () => {
        const raw = large(4000);
        assert.ok(JSON.stringify(raw).length > 1_000_000, "over 1 MB of JSON");
        const problems = validatePlatformConfig(raw, PROJECT, "dev").problems;
        // Per pipeline: unknown team, unpinned image, unknown class, unknown pool.
        assert.strictEqual(problems.length, 4 * 4000);
        assert.ok(
            problems.every((p) => p.message.length < 400),
            "messages name a few candidates, not all 4,000",
        );
        assert.match(problems[0].message, /defined teams: ml-research, team-0, team-1, .* and 3993 more$/);
    });
});

describe("hostile config through the offline plan CLI", function () {
    this.timeout(120_000);
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-config-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    function plan(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
        return new Promise((resolve) => {
            execFile(
                process.execPath,
                [path.join(REPO_ROOT, "tools/plan/bin.js"), ...args],
                { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
                (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
            );
        });
    }

    it("exits 2 with one line per problem for a config file breaking many classes at once, and no stack trace", async () => {
        const file = path.join(dir, "hostile.yaml");
        fs.writeFileSync(
            file,
            stringify({
                config: {
                    "gpu-platfrom:region": "us-east-1",
                    "gpu-platform:nodePool": { x: 1 },
                    "gpu-platform:network": { cidr: "127.0.0.0/16" },
                    "gpu-platform:tags": {
                        team: "platform",
                        "cost-center": "CC-0001",
                        budget: "platform-dev",
                        "aws:owner": "me",
                    },
                    "gpu-platform:teams": [{ name: "cert-manager", costCenter: "CC-1001", monthlyBudgetUsd: 1e308 }],
                },
            }),
        );
        const run = await plan("--stack", "dev", "--config-file", file, "--set", "inferencePipelines[0].image=busybox");
        assert.strictEqual(run.code, 2);
        assert.strictEqual(run.stdout, "");
        const lines = run.stderr.trim().split("\n");
        assert.match(lines[0], /^error: Invalid stack config \(\d+ problems\):$/);
        for (const key of [
            "gpu-platfrom:region",
            "nodePool",
            "network.cidr",
            "tags.aws:owner",
            "teams[0].name",
            "teams[0].monthlyBudgetUsd",
            "inferencePipelines[0].image",
        ]) {
            assert.ok(
                lines.some((line) => line.startsWith(`error:   - ${key}: `)),
                `a line for ${key}:\n${run.stderr}`,
            );
        }
        assert.ok(
            lines.every((line) => line.startsWith("error: ")),
            "nothing but the problem lines",
        );
        assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
    });

    it("exits 2 for the public API opened to the world in dev, and 0 once the named setting allows it", async () => {
        const open = await plan("--stack", "dev", "--set", "cluster.publicAccessCidrs[0]=0.0.0.0/0");
        assert.strictEqual(open.code, 2);
        assert.match(open.stderr, /error: {3}- cluster\.publicAccessCidrs: opens the API endpoint to 0\.0\.0\.0\/0/);
        const allowed = await plan(
            "--stack",
            "dev",
            "--set",
            "cluster.publicAccessCidrs[0]=0.0.0.0/0",
            "--set",
            "cluster.allowPublicApiFromAnywhere=true",
        );
        assert.strictEqual(allowed.code, 0, allowed.stderr);
    });
});
