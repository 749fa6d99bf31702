import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT, stackConfig } from "./harness";
import { ConfigError, loadPlatformConfig, validatePlatformConfig } from "../stacks";

/** A valid dev-like config; each test breaks one thing. */
function base(): Record<string, any> {
    return {
        environment: "dev",
        region: "us-east-1",
        cluster: {
            kubernetesVersion: "1.35",
            endpointAccess: "public-and-private",
            publicAccessCidrs: ["203.0.113.0/24"],
        },
        nodePools: {
            system: { instanceType: "m7i.xlarge", minSize: 1, maxSize: 3 },
            h100: { instanceType: "p5.48xlarge", maxSize: 2 },
        },
        teams: [{ name: "ml-research", costCenter: "CC-1001", monthlyBudgetUsd: 1000 }],
        tags: { team: "platform", "cost-center": "CC-0001", budget: "platform-dev" },
    };
}

function problems(raw: Record<string, unknown>, stack = "dev"): string[] {
    return validatePlatformConfig(raw, PROJECT, stack).problems.map((p) => `${p.key}: ${p.message}`);
}

describe("stack config", () => {
    it("accepts the base config, applies the dev profile and leaves unset pool settings to NodePool's defaults", () => {
        const result = validatePlatformConfig(base(), PROJECT, "dev");
        assert.deepStrictEqual(result.problems, []);
        const config = result.config!;
        assert.strictEqual(config.network.availabilityZones, 2);
        assert.strictEqual(config.network.natGateways, "single");
        assert.strictEqual(config.protectData, false);
        assert.deepStrictEqual(config.tags, {
            team: "platform",
            "cost-center": "CC-0001",
            budget: "platform-dev",
            environment: "dev",
        });
        assert.deepStrictEqual(
            config.nodePools.find((p) => p.name === "h100"),
            { name: "h100", instanceType: "p5.48xlarge", maxSize: 2 },
            "sizes, disk and GPU sharing left unset: the component owns their defaults",
        );
    });

    for (const stack of ["dev", "prod"]) {
        it(`validates Pulumi.${stack}.yaml`, () => {
            assert.deepStrictEqual(problems(stackConfig(stack), stack), []);
        });
    }

    it("gives prod its profile: three zones, NAT per zone, flow logs, private API, protected data", () => {
        const config = validatePlatformConfig(stackConfig("prod"), PROJECT, "prod").config!;
        assert.deepStrictEqual(config.network, {
            cidr: "10.30.0.0/16",
            availabilityZones: 3,
            natGateways: "one-per-az",
            flowLogs: true,
        });
        assert.strictEqual(config.cluster.endpointAccess, "private");
        assert.strictEqual(config.protectData, true);
    });

    it("rejects an instance type the catalog does not know, listing the allowed ones", () => {
        const raw = base();
        raw.nodePools.h100.instanceType = "p9.48xlarge";
        const [problem] = problems(raw);
        assert.match(
            problem,
            /^nodePools\.h100\.instanceType: "p9\.48xlarge" is not in the catalog; allowed: .*p5\.48xlarge/,
        );
    });

    it("rejects minSize above maxSize", () => {
        const raw = base();
        raw.nodePools.h100.minSize = 3;
        assert.deepStrictEqual(problems(raw), [
            "nodePools.h100.minSize: is 3, above maxSize 2; minSize must be at most maxSize",
        ]);
    });

    it("rejects a duplicate team name, naming both entries", () => {
        const raw = base();
        raw.teams.push({ name: "ml-research", costCenter: "CC-1002", monthlyBudgetUsd: 10 });
        assert.deepStrictEqual(problems(raw), [
            'teams[1].name: duplicates teams[0].name "ml-research"; team names must be unique',
        ]);
    });

    it("rejects an invalid team name", () => {
        const raw = base();
        raw.teams[0].name = "ML_Research";
        assert.deepStrictEqual(problems(raw), [
            `teams[0].name: must be lower-case letters, digits and '-', starting with a letter (a DNS label) (found "ML_Research")`,
        ]);
    });

    it("rejects a team without a budget", () => {
        const raw = base();
        delete raw.teams[0].monthlyBudgetUsd;
        assert.deepStrictEqual(problems(raw), [
            "teams[0].monthlyBudgetUsd: is required: every team needs a monthly budget",
        ]);
    });

    it("rejects a malformed CIDR and a CIDR with host bits", () => {
        const raw = base();
        raw.network = { cidr: "10.0.0.1/16" };
        raw.cluster.publicAccessCidrs = ["office"];
        assert.deepStrictEqual(problems(raw), [
            'network.cidr: must be an IPv4 CIDR with no host bits set, e.g. 10.0.0.0/16 (found "10.0.0.1/16")',
            'cluster.publicAccessCidrs[0]: must be an IPv4 CIDR with no host bits set, e.g. 10.0.0.0/16 (found "office")',
        ]);
    });

    it("rejects a VPC range too small for pod addresses", () => {
        const raw = base();
        raw.network = { cidr: "10.0.0.0/24" };
        assert.deepStrictEqual(problems(raw), [
            'network.cidr: must have a prefix from /16 to /20: pods take VPC addresses, so smaller ranges run out (found "10.0.0.0/24")',
        ]);
    });

    it("rejects a Kubernetes version EKS does not offer", () => {
        const raw = base();
        raw.cluster.kubernetesVersion = "1.29";
        assert.deepStrictEqual(problems(raw), [
            'cluster.kubernetesVersion: must be a Kubernetes version EKS offers: 1.32, 1.33, 1.34, 1.35, 1.36 (found "1.29")',
        ]);
    });

    it("rejects a misspelt key instead of ignoring it", () => {
        const raw = base();
        raw.nodePools.h100.maxsize = 4;
        assert.deepStrictEqual(problems(raw), ["nodePools.h100.maxsize: is not a known key; did you mean maxSize?"]);
    });

    it("rejects a public API endpoint in prod and one without allowed CIDRs", () => {
        const raw = base();
        raw.environment = "prod";
        raw.tags = { team: "platform", "cost-center": "CC-0001", budget: "platform-prod" };
        raw.cluster.publicAccessCidrs = [];
        assert.deepStrictEqual(problems(raw, "prod"), [
            'cluster.publicAccessCidrs: is required with endpointAccess "public-and-private": list the CIDRs allowed to reach the API (none would open it to 0.0.0.0/0)',
            'cluster.endpointAccess: must be "private" in prod: the API endpoint is reachable only from inside the VPC',
        ]);
    });

    it("requires a CPU pool that keeps a node for system pods", () => {
        const raw = base();
        raw.nodePools.system.minSize = 0;
        assert.deepStrictEqual(problems(raw), [
            "nodePools: needs a CPU pool with minSize of 1 or more: system pods and the autoscaler cannot run on tainted GPU nodes",
        ]);
    });

    it("requires the budget tags", () => {
        const raw = base();
        raw.tags = { team: "platform" };
        assert.deepStrictEqual(problems(raw), [
            "tags.cost-center: is required: budget reports group spend by this tag",
            "tags.budget: is required: budget reports group spend by this tag",
        ]);
    });

    it("reports every problem at once, across sections", () => {
        const raw = base();
        raw.region = "mars-1";
        raw.nodePools.h100.minSize = 5;
        raw.nodePools.h100.maxSize = "two";
        raw.teams.push({ name: "ml-research", costCenter: "CC-1001" });
        const found = problems(raw);
        assert.deepStrictEqual(found.map((p) => p.split(":")[0]).sort(), [
            "nodePools.h100.maxSize",
            "region",
            "teams[1].monthlyBudgetUsd",
            "teams[1].name",
        ]);
    });

    it("names required keys that are missing", () => {
        const raw = base();
        delete raw.cluster;
        delete raw.environment;
        assert.deepStrictEqual(problems(raw), [
            'environment: is required; one of "dev", "prod"',
            "cluster: is required (object)",
        ]);
    });

    describe("through pulumi.Config", () => {
        afterEach(() => pulumi.runtime.setAllConfig({}));

        it("reads structured values and throws one ConfigError listing every problem, without a stack trace", () => {
            const raw = base();
            raw.nodePools.h100.minSize = 3;
            raw.teams[0].costCenter = "";
            const values = Object.fromEntries(
                Object.entries(raw).map(([k, v]) => [`${PROJECT}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
            );
            pulumi.runtime.setAllConfig(values);
            assert.throws(
                () => loadPlatformConfig(new pulumi.Config(PROJECT)),
                (err: unknown) => {
                    assert.ok(err instanceof ConfigError);
                    assert.ok(pulumi.RunError.isInstance(err), "a RunError, which Pulumi prints without a stack trace");
                    assert.strictEqual(
                        err.message,
                        "Invalid stack config (2 problems):\n" +
                            `  - teams[0].costCenter: must be 2-32 letters, digits or '-', e.g. CC-1001 (found "")\n` +
                            "  - nodePools.h100.minSize: is 3, above maxSize 2; minSize must be at most maxSize",
                    );
                    return true;
                },
            );
        });

        it("never quotes a secret config value in an error", () => {
            const raw = base();
            raw.region = "mars-7-hunter2-password";
            pulumi.runtime.setAllConfig(
                Object.fromEntries(
                    Object.entries(raw).map(([k, v]) => [
                        `${PROJECT}:${k}`,
                        typeof v === "string" ? v : JSON.stringify(v),
                    ]),
                ),
                [`${PROJECT}:region`],
            );
            process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify([`${PROJECT}:region`]);
            try {
                assert.throws(
                    () => loadPlatformConfig(new pulumi.Config(PROJECT)),
                    (err: unknown) => {
                        assert.ok(err instanceof ConfigError);
                        assert.match(err.message, /region: .*\[secret\]/);
                        assert.doesNotMatch(err.message, /hunter2/);
                        return true;
                    },
                );
            } finally {
                delete process.env.PULUMI_CONFIG_SECRET_KEYS;
            }
        });
    });
});
