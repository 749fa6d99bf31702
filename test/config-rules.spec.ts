/**
 * The pure rules the stack config applies, tested on their own against documented facts:
 * NVIDIA's MIG placement table, IANA's special-purpose ranges, the image reference grammar and
 * AWS's tag limits.
 */
import * as assert from "assert";
import { GPU_MODELS, placeMigLayout } from "@gpu-platform/catalog";
import {
    awsTagKeyProblem,
    awsTagValueProblem,
    budgetTagProblems,
    BUDGET_TAG_KEYS,
    BUDGET_TAG_VALUE_PATTERNS,
} from "@gpu-platform/catalog/aws-tags";
import {
    addressesCovered,
    enclosingRange,
    NON_PUBLIC_RANGES,
    overlappingRange,
    parseIpv4Cidr,
    RFC1918_RANGES,
} from "@gpu-platform/catalog/ipv4";
import { imagePinProblems, parseImageReference } from "../components/shared/image-reference";

describe("MIG placement, as nvidia-mig-parted applies a layout", () => {
    const a100x80 = GPU_MODELS["a100-80gb"].migProfiles;
    // From `nvidia-smi mig -lgipp` on an A100 80 GB: start slices and size of each profile.
    const TABLE: Record<string, { starts: number[]; size: number }> = {
        "1g.10gb": { starts: [0, 1, 2, 3, 4, 5, 6], size: 1 },
        "1g.20gb": { starts: [0, 2, 4, 6], size: 2 },
        "2g.20gb": { starts: [0, 2, 4], size: 2 },
        "3g.40gb": { starts: [0, 4], size: 4 },
    };

    /** The placement holds every instance of the layout, each at a start the table allows, none overlapping. */
    function assertPlaces(layout: Record<string, number>): void {
        const placed = placeMigLayout(a100x80, layout);
        assert.ok(placed, `${JSON.stringify(layout)} has a placement`);
        const counts: Record<string, number> = {};
        const used = new Set<number>();
        for (const { profile, start } of placed) {
            counts[profile] = (counts[profile] ?? 0) + 1;
            assert.ok(TABLE[profile].starts.includes(start), `${profile} may start at ${start}`);
            for (let slice = start; slice < start + TABLE[profile].size; slice++) {
                assert.ok(!used.has(slice), `slice ${slice} taken once`);
                used.add(slice);
            }
        }
        assert.deepStrictEqual(counts, layout);
    }

    it("places 1g.20gb: 3 with 1g.10gb: 2 on an A100 80 GB (the 1g.10gb pair in one of the 1g.20gb slots)", () => {
        assertPlaces({ "1g.20gb": 3, "1g.10gb": 2 });
    });

    it("finds no placement when the profiles' start slices collide, whatever the order", () => {
        // 4g.40gb can only start at 0 (slices 0-3); 2g.20gb only at 0, 2, 4: one fits at 4, the second has nowhere to go.
        assert.strictEqual(placeMigLayout(a100x80, { "4g.40gb": 1, "2g.20gb": 2 }), undefined);
        assert.strictEqual(placeMigLayout(a100x80, { "7g.80gb": 1, "1g.10gb": 1 }), undefined);
        assert.strictEqual(placeMigLayout(a100x80, { "1g.10gb": 8 }), undefined, "slice 7 is no 1g start");
    });

    it("tries other orders when the first one fails, as mig-parted does", () => {
        // In the order written, 3g.40gb takes slices 0-3 and leaves one 2g.20gb start (4); starting with 2g.20gb leaves 4-7 for the 3g.
        assertPlaces({ "3g.40gb": 1, "2g.20gb": 2 });
    });
});

describe("IPv4 ranges", () => {
    it("parses CIDRs as intervals and refuses host bits", () => {
        assert.deepStrictEqual(parseIpv4Cidr("10.20.0.0/16"), {
            text: "10.20.0.0/16",
            first: 10 * 2 ** 24 + 20 * 2 ** 16,
            size: 65536,
            prefix: 16,
        });
        assert.strictEqual(parseIpv4Cidr("10.20.0.1/16"), undefined);
        assert.strictEqual(parseIpv4Cidr("256.0.0.0/8"), undefined);
    });

    it("tells private from public by RFC 1918, and counts overlapping blocks once", () => {
        assert.strictEqual(enclosingRange(parseIpv4Cidr("172.31.0.0/16")!, RFC1918_RANGES)?.cidr, "172.16.0.0/12");
        assert.strictEqual(enclosingRange(parseIpv4Cidr("172.32.0.0/16")!, RFC1918_RANGES), undefined);
        assert.strictEqual(overlappingRange(parseIpv4Cidr("198.18.5.0/24")!, NON_PUBLIC_RANGES)?.cidr, "198.18.0.0/15");
        assert.strictEqual(
            addressesCovered(["0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8"].map((c) => parseIpv4Cidr(c)!)),
            2 ** 32,
        );
    });
});

describe("image references", () => {
    it("splits a reference as the distribution grammar does", () => {
        assert.deepStrictEqual(parseImageReference("registry.local:5000/team/worker:1.2"), {
            domain: "registry.local:5000",
            path: "team/worker",
            tag: "1.2",
            digest: undefined,
        });
        assert.deepStrictEqual(parseImageReference("team/worker"), {
            domain: undefined,
            path: "team/worker",
            tag: undefined,
            digest: undefined,
        });
        assert.strictEqual(parseImageReference("team/Worker:1"), undefined, "paths are lower case");
        assert.strictEqual(
            parseImageReference("worker:" + "t".repeat(129)),
            undefined,
            "tags have at most 128 characters",
        );
    });

    it("accepts a tag or a digest as a pin, and says which forms are accepted otherwise", () => {
        assert.deepStrictEqual(imagePinProblems("image", "worker:2.0"), []);
        assert.deepStrictEqual(imagePinProblems("image", `worker@sha256:${"0".repeat(64)}`), []);
        const [latest] = imagePinProblems("image", "worker:latest");
        assert.strictEqual(latest.key, "image");
        assert.match(
            latest.message,
            /by tag \("registry\/repo:1\.4\.2"\) or by digest \("registry\/repo@sha256:<64 hex digits>"\)$/,
        );
    });
});

describe("tag rules", () => {
    it("applies AWS's limits: reserved prefix in any case, length in characters, allowed characters", () => {
        assert.match(awsTagKeyProblem("Aws:team")!, /reserves/);
        assert.strictEqual(awsTagKeyProblem("ü".repeat(128)), undefined, "128 characters, not bytes");
        assert.match(awsTagValueProblem("v".repeat(257))!, /at most 256/);
        assert.strictEqual(awsTagValueProblem(""), undefined, "a tag value may be empty");
    });

    it("judges the budget tags by own properties only", () => {
        const tags = Object.create({ team: "inherited" }) as Record<string, unknown>;
        Object.assign(tags, { "cost-center": "CC-1", environment: "dev", budget: "b-1" });
        const settings = {
            requiredTags: BUDGET_TAG_KEYS,
            tagValuePatterns: BUDGET_TAG_VALUE_PATTERNS,
            allowedEnvironments: ["dev"],
        };
        assert.deepStrictEqual(budgetTagProblems(tags, settings), [
            { key: "team", missing: true, problem: "is missing" },
        ]);
    });
});
