/**
 * Container image references and whether they pin what runs. A worker image named only by
 * repository (`busybox`) or by the `latest` tag can change under a running pipeline; a tag names
 * a release, a digest names exact bytes. Pure, so the stack config and a component that takes an
 * image share one rule.
 *
 * Grammar: the distribution project's reference grammar (distribution/reference, reference.go),
 * which containerd and Kubernetes follow: `[domain[:port]/]path[:tag][@digest]`, a lower-case
 * path, a tag of at most 128 word characters, dots and dashes, and a digest
 * `<algorithm>:<hex>`; the digests registries serve are sha256 (64 hex digits) or sha512 (128).
 */
import type { SettingProblem } from "./problems";

export interface ImageReference {
    /** Registry host and port, if the reference names one. */
    readonly domain?: string;
    readonly path: string;
    readonly tag?: string;
    readonly digest?: string;
}

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
/** The longest repository name (domain and path) the grammar allows. */
const NAME_MAX_LENGTH = 255;

/** Splits a reference into its parts; undefined if it does not follow the grammar. */
export function parseImageReference(text: string): ImageReference | undefined {
    const at = text.indexOf("@");
    const digest = at >= 0 ? text.slice(at + 1) : undefined;
    const nameAndTag = at >= 0 ? text.slice(0, at) : text;
    if (digest !== undefined && !DIGEST.test(digest)) return undefined;

    const lastSlash = nameAndTag.lastIndexOf("/");
    const colon = nameAndTag.indexOf(":", lastSlash + 1);
    const tag = colon >= 0 ? nameAndTag.slice(colon + 1) : undefined;
    const name = colon >= 0 ? nameAndTag.slice(0, colon) : nameAndTag;
    if (tag !== undefined && !TAG.test(tag)) return undefined;
    if (name.length === 0 || name.length > NAME_MAX_LENGTH) return undefined;

    // As the grammar reads it: the first component is a registry when it has a dot or a port, or is localhost.
    const components = name.split("/");
    const first = components[0];
    const hasDomain =
        components.length > 1 &&
        (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase());
    const domain = hasDomain ? first : undefined;
    const pathComponents = hasDomain ? components.slice(1) : components;
    if (domain !== undefined && !DOMAIN.test(domain)) return undefined;
    if (!pathComponents.every((c) => PATH_COMPONENT.test(c))) return undefined;
    return { domain, path: pathComponents.join("/"), tag, digest };
}

const ACCEPTED = 'pin it by tag ("registry/repo:1.4.2") or by digest ("registry/repo@sha256:<64 hex digits>")';

/**
 * Problems with an image a workload runs: not a reference at all, or not pinned (no tag and no
 * digest, or only the moving `latest` tag). `key` is the setting's path, e.g.
 * `inferencePipelines[0].image` or `image`.
 */
export function imagePinProblems(key: string, image: string): SettingProblem[] {
    const reference = parseImageReference(image);
    if (!reference) {
        return [
            {
                key,
                message: `is not a container image reference (registry/repo:tag or registry/repo@sha256:<digest>, lower-case path); ${ACCEPTED}`,
            },
        ];
    }
    if (reference.digest !== undefined) return [];
    if (reference.tag === undefined)
        return [{ key, message: `names no tag or digest, so the image can change under the workload; ${ACCEPTED}` }];
    if (reference.tag === "latest")
        return [{ key, message: `uses the tag "latest", which moves with every push and pins nothing; ${ACCEPTED}` }];
    return [];
}
