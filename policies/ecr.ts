/**
 * ECR baseline: every image is scanned for known vulnerabilities when it is pushed, and a tag,
 * once pushed, always names the same image, so what was reviewed and scanned is what runs.
 */
import { resourcePolicy } from "./lib/define";
import { asList, asRecord, isTrue, isUnknown } from "./lib/values";

const REPOSITORY = "aws:ecr/repository:Repository";

export const ecrScanOnPush = resourcePolicy({
    name: "ecr-scan-on-push",
    description: "ECR repositories scan images on push: imageScanningConfiguration.scanOnPush true.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [REPOSITORY],
    validate: ({ name, props }, _config, report) => {
        const scan = asRecord(props.imageScanningConfiguration)?.scanOnPush;
        if (isTrue(scan) || isUnknown(scan)) return;
        report(
            `ECR repository "${name}" does not scan images on push; set imageScanningConfiguration: { scanOnPush: true }.`,
        );
    },
});

export const ecrImmutableTags = resourcePolicy({
    name: "ecr-immutable-tags",
    description:
        'ECR repositories keep tags immutable: imageTagMutability "IMMUTABLE", or "IMMUTABLE_WITH_EXCLUSION" whose imageTagMutabilityExclusionFilters ' +
        "leave tags immutable (a filter of wildcards only, such as *, makes every tag mutable again): a pushed tag cannot be moved to another image.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [REPOSITORY],
    validate: ({ name, props }, _config, report) => {
        const mutability = props.imageTagMutability;
        if (isUnknown(mutability) || mutability === "IMMUTABLE") return;
        if (mutability === "IMMUTABLE_WITH_EXCLUSION" || mutability === "MUTABLE_WITH_EXCLUSION") {
            const filters = asList(props.imageTagMutabilityExclusionFilters).map((f) => asRecord(f)?.filter);
            // A filter of wildcards only matches every tag: the exclusion swallows the rule.
            const everyTag = filters.filter((f) => typeof f === "string" && /^\**$/.test(f.trim()));
            if (mutability === "IMMUTABLE_WITH_EXCLUSION" && everyTag.length === 0) return;
            if (mutability === "IMMUTABLE_WITH_EXCLUSION") {
                report(
                    `ECR repository "${name}" is IMMUTABLE_WITH_EXCLUSION, but its exclusion filter ${JSON.stringify(everyTag[0])} matches every tag, so every tag can be pushed again to another image; ` +
                        'narrow imageTagMutabilityExclusionFilters to the tags that must move (such as latest), or set imageTagMutability: "IMMUTABLE".',
                );
                return;
            }
        }
        report(
            `ECR repository "${name}" lets a tag be pushed again to another image (imageTagMutability ${JSON.stringify(mutability ?? "MUTABLE, the default")}); ` +
                'set imageTagMutability: "IMMUTABLE" and tag each build uniquely (a version or a content hash).',
        );
    },
});
