/**
 * The platform deploys its own Backstage app by default: built from backstage/ (its Dockerfile
 * and allowlist ignore file) into an ECR repository of its own, tagged by content, and run by
 * the chart; a stack that names an image runs that one instead.
 */
import * as assert from "assert";
import { named, ofType, record, validStackConfig } from "./harness";
import { buildPlatform } from "../platform";

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const IMAGE = "docker-build:index:Image";

describe("portal: the platform's own Backstage image", () => {
    it("builds backstage/ for the CPU pool's architecture and runs it, when the stack names no image", async () => {
        const { resources } = await record(() => buildPlatform(validStackConfig("dev")));
        const image = named(resources, IMAGE, "gpu-platform-dev-backstage-image-image").inputs as any;
        assert.deepStrictEqual(
            [image.context.location, image.dockerfile.location, image.platforms, image.push, image.buildOnPreview],
            ["backstage", "backstage/Dockerfile", ["linux/amd64"], true, false],
        );
        const repository = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/gpu-platform-dev-backstage-image-repo`;
        assert.match(image.tags[0], new RegExp(`^${repository.replace(/\./g, "\\.")}:[0-9a-f]{12,}$`));
        const values = named(resources, RELEASE, "gpu-platform-dev-backstage-release").inputs.values as any;
        assert.deepStrictEqual(
            [values.backstage.image.registry, values.backstage.image.repository],
            [`${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`, "gpu-platform-dev-backstage-image-repo"],
        );
        assert.ok(values.backstage.image.digest || values.backstage.image.tag, "pinned by digest or tag");
    });

    it("runs a stack's own image as given, and builds nothing for Backstage", async () => {
        const config = validStackConfig("prod");
        const given = "123456789012.dkr.ecr.us-east-1.amazonaws.com/portal/backstage:1.0.0";
        const { resources } = await record(() =>
            buildPlatform({
                ...config,
                portalLayer: { ...config.portalLayer!, backstage: { ...config.portalLayer!.backstage!, image: given } },
            }),
        );
        assert.deepStrictEqual(
            ofType(resources, IMAGE)
                .map((r) => r.name)
                .filter((n) => n.includes("backstage")),
            [],
        );
        const values = named(resources, RELEASE, "gpu-platform-prod-backstage-release").inputs.values as any;
        assert.deepStrictEqual(values.backstage.image, {
            registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            repository: "portal/backstage",
            tag: "1.0.0",
        });
    });
});
