import * as assert from "assert";
import { ecrImmutableTags, ecrScanOnPush } from "../ecr";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const REPOSITORY = "aws:ecr/repository:Repository";
const repository = { imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } };

describe("policies: ecr", () => {
    it("pass a repository that scans on push and keeps tags immutable", async () => {
        assert.deepStrictEqual(await violationsOf(ecrScanOnPush, [resource(REPOSITORY, "tracker", repository)]), []);
        assert.deepStrictEqual(await violationsOf(ecrImmutableTags, [resource(REPOSITORY, "tracker", repository)]), []);
    });

    it("ecr-scan-on-push reports a repository that does not scan on push", async () => {
        const v = await theViolation(ecrScanOnPush, [
            resource(REPOSITORY, "tracker", changed(repository, "imageScanningConfiguration.scanOnPush", false)),
        ]);
        assert.strictEqual(
            v.message,
            'ECR repository "tracker" does not scan images on push; set imageScanningConfiguration: { scanOnPush: true }.',
        );
    });

    it("ecr-immutable-tags reports mutable tags, the default included", async () => {
        const v = await theViolation(ecrImmutableTags, [
            resource(REPOSITORY, "tracker", changed(repository, "imageTagMutability", undefined)),
        ]);
        assert.strictEqual(
            v.message,
            'ECR repository "tracker" lets a tag be pushed again to another image (imageTagMutability "MUTABLE, the default"); set imageTagMutability: "IMMUTABLE" and tag each build uniquely (a version or a content hash).',
        );
        const mutable = await theViolation(ecrImmutableTags, [
            resource(REPOSITORY, "tracker", changed(repository, "imageTagMutability", "MUTABLE")),
        ]);
        assert.match(mutable.message, /\(imageTagMutability "MUTABLE"\)/);
    });

    it("ecr-immutable-tags passes exclusions for named tags, and reports a * filter, which makes every tag mutable", async () => {
        const excluding = (filter: string) => ({
            ...repository,
            imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
            imageTagMutabilityExclusionFilters: [{ filter, filterType: "WILDCARD" }],
        });
        assert.deepStrictEqual(
            await violationsOf(ecrImmutableTags, [resource(REPOSITORY, "tracker", excluding("latest"))]),
            [],
        );
        for (const filter of ["*", "**"]) {
            const v = await theViolation(ecrImmutableTags, [resource(REPOSITORY, "tracker", excluding(filter))]);
            assert.strictEqual(
                v.message,
                `ECR repository "tracker" is IMMUTABLE_WITH_EXCLUSION, but its exclusion filter "${filter}" matches every tag, so every tag can be pushed again to another image; ` +
                    'narrow imageTagMutabilityExclusionFilters to the tags that must move (such as latest), or set imageTagMutability: "IMMUTABLE".',
            );
        }
        const mutableWithExclusion = { ...excluding("release-*"), imageTagMutability: "MUTABLE_WITH_EXCLUSION" };
        assert.match(
            (await theViolation(ecrImmutableTags, [resource(REPOSITORY, "tracker", mutableWithExclusion)])).message,
            /\(imageTagMutability "MUTABLE_WITH_EXCLUSION"\)/,
        );
    });
});
