import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type * as dockerBuild from "@pulumi/docker-build";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";

export const CONTAINER_IMAGE_TYPE = `${PACKAGE}:costs:ContainerImage`;

export type ImagePlatform = "linux/arm64" | "linux/amd64";

export interface ImageBuild {
    /** The build context: a local directory. Required. */
    context: string;
    /** The Dockerfile, relative to `context`. Required. */
    dockerfile: string;
    /** The platform the image runs on. Default `"linux/arm64"`. */
    platform?: ImagePlatform;
    /**
     * The image's tag. Default: a hash of what makes the build provider rebuild (`contextTag`: the
     * Dockerfile, each file its `<Dockerfile>.dockerignore` lets into the context with its path and
     * full mode, the platform and the locations), so a rebuild always pushes a new tag and
     * immutable tags never clash.
     */
    tag?: string;
}

export interface ContainerImageArgs {
    /** Build the image from source and push it to a repository of its own at `pulumi up`. Exactly one of `build` and `image`. */
    build?: ImageBuild;
    /**
     * A prebuilt image to use instead, pinned by tag or digest, e.g.
     * `123456789012.dkr.ecr.us-east-1.amazonaws.com/cost-tracker:1.4.0`. No repository is created.
     */
    image?: string;
    /** Images the repository keeps; older ones expire (untagged ones after a day). Default 20. */
    keepImages?: number;
    /** Keep the repository, and its images, when the stack is destroyed. Default false: the repository is deleted with its images. */
    protect?: boolean;
}

/**
 * A container image for a service: by default built from a Dockerfile with `@pulumi/docker-build`
 * and pushed at `pulumi up` to an ECR repository of its own (scan on push, immutable tags, a
 * lifecycle rule), or a prebuilt image used as given.
 *
 * ```ts
 * const image = new ContainerImage("cost-tracker", {
 *     build: { context: ".", dockerfile: "services/cost-tracker/Dockerfile", platform: "linux/arm64" },
 * });
 * // image.imageUri: <repository>:<content hash>@sha256:<digest>
 * ```
 *
 * The build needs Docker (BuildKit) where `pulumi up` runs, and is skipped by `pulumi preview`
 * (`buildOnPreview: false`): CI builds and scans the image on its own.
 *
 * Cost: ECR storage by use ($0.10 per GB-month, `keepImages` images at most); scanning on
 * push (basic) is free.
 */
export class ContainerImage extends pulumi.ComponentResource {
    /** The image to run: the pushed tag with its digest, or the prebuilt image. */
    public readonly imageUri: pulumi.Output<string>;
    /** The repository the image is pulled from, when it is in ECR (an execution role may pull from it). */
    public readonly repositoryArn?: pulumi.Output<string>;
    public readonly repository?: aws.ecr.Repository;
    public readonly lifecyclePolicy?: aws.ecr.LifecyclePolicy;
    public readonly image?: dockerBuild.Image;
    /** The tag pushed, when built. */
    public readonly tag?: string;

    constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("ContainerImage", name, containerImageArgsProblems(args));
        super(CONTAINER_IMAGE_TYPE, name, {}, opts);
        if (args.image !== undefined) {
            this.imageUri = pulumi.output(args.image);
            const arn = ecrRepositoryArn(args.image);
            this.repositoryArn = arn === undefined ? undefined : pulumi.output(arn);
        } else {
            const build = args.build!;
            const protect = args.protect ?? false;
            this.repository = new aws.ecr.Repository(
                `${name}-repo`,
                {
                    imageTagMutability: "IMMUTABLE",
                    imageScanningConfiguration: { scanOnPush: true },
                    encryptionConfigurations: [{ encryptionType: "AES256" }],
                    // Images are rebuilt from source: a destroyed stack takes them along, unless protected.
                    forceDelete: !protect,
                },
                { parent: this, protect },
            );
            this.lifecyclePolicy = new aws.ecr.LifecyclePolicy(
                `${name}-lifecycle`,
                { repository: this.repository.name, policy: JSON.stringify(lifecycleRules(args.keepImages ?? 20)) },
                { parent: this },
            );
            this.tag = build.tag ?? contextTag(build);
            this.image = this.buildAndPush(name, build, this.tag, this.repository);
            this.imageUri = this.image.ref;
            this.repositoryArn = this.repository.arn;
        }
        this.registerOutputs({ imageUri: this.imageUri, repositoryArn: this.repositoryArn });
    }

    private buildAndPush(
        name: string,
        build: ImageBuild,
        tag: string,
        repository: aws.ecr.Repository,
    ): dockerBuild.Image {
        // Loaded here, not at the top: only a component that builds needs the optional @pulumi/docker-build.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { Image } = require("@pulumi/docker-build") as typeof dockerBuild;
        const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent: this });
        return new Image(
            `${name}-image`,
            {
                context: { location: build.context },
                dockerfile: { location: path.join(build.context, build.dockerfile) },
                platforms: [build.platform ?? "linux/arm64"],
                push: true,
                // `pulumi preview` shows the build without running it; CI builds and scans separately.
                buildOnPreview: false,
                tags: [pulumi.interpolate`${repository.repositoryUrl}:${tag}`],
                registries: [
                    {
                        address: repository.repositoryUrl.apply((url) => url.split("/")[0]),
                        username: token.userName,
                        // A 12-hour ECR token: kept secret in state.
                        password: pulumi.secret(token.password),
                    },
                ],
            },
            { parent: this },
        );
    }
}

/** Every problem with the arguments, keyed by argument name. */
export function containerImageArgsProblems(args: ContainerImageArgs): SettingProblem[] {
    const problems: SettingProblem[] = [];
    if ((args.build === undefined) === (args.image === undefined)) {
        problems.push({
            key: "build",
            message: "set exactly one of build (build from a Dockerfile) and image (a prebuilt image)",
        });
    }
    if (args.image !== undefined) problems.push(...imageReferenceProblems("image", args.image));
    if (args.build && !fs.existsSync(path.join(args.build.context, args.build.dockerfile))) {
        problems.push({
            key: "build.dockerfile",
            message: `${path.join(args.build.context, args.build.dockerfile)} does not exist`,
        });
    } else if (args.build && args.build.tag === undefined) {
        try {
            readAllowlist(args.build.context, args.build.dockerfile);
        } catch (e) {
            problems.push({ key: "build.tag", message: `is unset and ${(e as Error).message}` });
        }
    }
    const keep = args.keepImages;
    if (keep !== undefined && (!Number.isInteger(keep) || keep < 2 || keep > 1000))
        problems.push({ key: "keepImages", message: `must be a whole number from 2 to 1000 (found ${keep})` });
    return problems;
}

const IMAGE_REFERENCE = /^[^\s:/]+(\.[^\s:/]+)*(:\d+)?\/[^\s:@]+(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;

/** A problem with an image reference under `key`: it must name its registry, and a tag or digest. */
export function imageReferenceProblems(key: string, image: string): SettingProblem[] {
    if (IMAGE_REFERENCE.test(image) && /[:@][^/]+$/.test(image)) return [];
    return [
        {
            key,
            message: `must be an image reference with its registry and a tag or digest, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/cost-tracker:1.4.0 (found "${image}")`,
        },
    ];
}

/** ECR lifecycle rules: untagged images go after a day, and only the newest `keep` images stay. */
export function lifecycleRules(keep: number) {
    return {
        rules: [
            {
                rulePriority: 1,
                description: "Untagged images (a build's leftovers) after a day",
                selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 },
                action: { type: "expire" },
            },
            {
                rulePriority: 2,
                description: `Only the newest ${keep} images`,
                selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
                action: { type: "expire" },
            },
        ],
    };
}

/** The ARN of the ECR repository an image reference names, or undefined for another registry. */
export function ecrRepositoryArn(image: string): string | undefined {
    const match = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([^:@]+)/.exec(image);
    if (!match) return undefined;
    const [, account, region, china, repository] = match;
    const partition = china ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
    return `arn:${partition}:ecr:${region}:${account}:repository/${repository}`;
}

/** An allowlist ignore file read as Docker reads it: the paths let in, and names left out anywhere. */
interface Allowlist {
    file: string;
    included: string[];
    excludedNames: Set<string>;
}

/**
 * The ignore file the build uses, as @pulumi/docker-build 0.0.14 picks it
 * (provider/internal/context.go, getIgnorePatterns): `<Dockerfile>.dockerignore` beside the
 * Dockerfile, else `.dockerignore` at the context's root. Only the allowlist form is read: `*`,
 * then `!<path>` for each file or folder let in, then `**\/<name>` for names left out anywhere
 * inside. Any other pattern is refused: a tag over another file set than the build's would let a
 * rebuild reuse a tag.
 */
function readAllowlist(context: string, dockerfile: string): Allowlist {
    const file = [path.join(context, `${dockerfile}.dockerignore`), path.join(context, ".dockerignore")].find((f) =>
        fs.existsSync(f),
    );
    if (!file)
        throw new Error(
            `${path.join(context, dockerfile)} has no .dockerignore: give the build a tag, or an allowlist ignore file (*, then !<path> lines)`,
        );
    const lines = fs
        .readFileSync(file, "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"));
    if (lines[0] !== "*") throw new Error(`${file}: must start with "*" (an allowlist), or give the build a tag`);
    const included: string[] = [];
    const excludedNames = new Set<string>();
    for (const line of lines.slice(1)) {
        if (/^![^*?[\]!]+$/.test(line))
            included.push(
                line
                    .slice(1)
                    .replace(/^\.?\//, "")
                    .replace(/\/$/, ""),
            );
        else if (/^\*\*\/[^*?[\]/!]+$/.test(line)) excludedNames.add(line.slice(3));
        else
            throw new Error(
                `${file}: "${line}" is not a pattern the image tag understands (!<path> or **/<name>); give the build a tag`,
            );
    }
    return { file, included, excludedNames };
}

/** Names in a directory in Go's order (os.ReadDir sorts by the names' bytes), which filepath.WalkDir follows. */
function sortedEntries(dir: string): string[] {
    return fs.readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * The files the build context sends, in the order the build provider walks them
 * (fsutil's FS.Walk, which is filepath.WalkDir: depth first, each directory's names in byte order).
 */
export function contextFiles(context: string, dockerfile: string): string[] {
    const { included, excludedNames } = readAllowlist(context, dockerfile);
    const isIncluded = (relative: string) => included.some((p) => relative === p || relative.startsWith(`${p}/`));
    const leadsToIncluded = (relative: string) => included.some((p) => p.startsWith(`${relative}/`));
    const files: string[] = [];
    const walk = (relative: string) => {
        const full = relative ? path.join(context, relative) : context;
        for (const entry of sortedEntries(full)) {
            if (excludedNames.has(entry)) continue;
            const child = relative ? `${relative}/${entry}` : entry;
            const stat = fs.lstatSync(path.join(context, child));
            if (stat.isDirectory()) {
                if (isIncluded(child) || leadsToIncluded(child)) walk(child);
            } else if (isIncluded(child)) files.push(child);
        }
    };
    walk("");
    return files;
}

/** A file's mode as Go's fs.FileMode.String writes it (`-rw-r--r--`, `-rwxr-xr-x`, `Lrwxrwxrwx`, `urwxr-xr-x`). */
export function goFileModeString(stat: fs.Stats): string {
    // Go's type letters in its order ("dalTLDpSugct?"); the ones a file in a build context can carry.
    const typeLetters = [
        stat.isDirectory() ? "d" : "",
        stat.isSymbolicLink() ? "L" : "",
        stat.mode & 0o4000 ? "u" : "",
        stat.mode & 0o2000 ? "g" : "",
        stat.mode & 0o1000 ? "t" : "",
    ].join("");
    const permissions = [..."rwxrwxrwx"].map((letter, i) => (stat.mode & (1 << (8 - i)) ? letter : "-")).join("");
    return (typeLetters || "-") + permissions;
}

/**
 * The build context's hash exactly as @pulumi/docker-build 0.0.14 computes it to decide whether
 * to rebuild (provider/internal/context.go, hashBuildContext, the `contextHash` it keeps in
 * state): SHA-256 over the Dockerfile's bytes, then, for each file the context sends in walk
 * order, its bytes (a symlink's target's), its slash-separated path and its full mode as Go
 * prints it. The full mode: a checkout under another umask (664 instead of 644) is another hash,
 * so another build, which must not push to the same tag.
 */
export function buildContextHash(context: string, dockerfile: string): string {
    const hash = crypto.createHash("sha256");
    hash.update(fs.readFileSync(path.join(context, dockerfile)));
    for (const file of contextFiles(context, dockerfile)) {
        const full = path.join(context, file);
        const stat = fs.lstatSync(full);
        // A symlink to a directory is skipped by the provider (EISDIR), path and mode included.
        if (stat.isSymbolicLink() && fs.statSync(full).isDirectory()) continue;
        hash.update(fs.readFileSync(full));
        hash.update(file);
        hash.update(goFileModeString(stat));
    }
    return hash.digest("hex");
}

/**
 * A tag naming one build: 16 hex characters of SHA-256 over what makes the build provider build
 * again (its Diff in provider/internal/image.go: the context hash above, the platforms, the
 * context's and the Dockerfile's locations). Whenever it would rebuild, the tag is new, so an
 * IMMUTABLE repository never refuses the push (ImageTagAlreadyExistsException).
 */
export function contextTag(build: ImageBuild): string {
    const inputs = {
        contextHash: buildContextHash(build.context, build.dockerfile),
        platform: build.platform ?? "linux/arm64",
        context: build.context,
        dockerfile: path.join(build.context, build.dockerfile),
    };
    return crypto.createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 16);
}
