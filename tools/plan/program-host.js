// Preloaded (`node -r`) into the process that runs a program under its own Pulumi language
// host (`@pulumi/pulumi/cmd/run`). Plain JavaScript, so it needs no compiler before it runs.
//
// - Unless the plan runs TypeScript with ts-node as Pulumi does (`--ts-node`), esbuild compiles
//   the program's TypeScript (compile-cache.js); compiled code is cached either way.
// - It hands the program the stack's config as the CLI does, in PULUMI_CONFIG.
// - It reports the program's failure to the plan as lines a user can act on, over file
//   descriptor 3, since the language host logs the whole inspected error with its stack.
// - It turns off what the plan does not use and what costs most of a program's run time.
"use strict";
const fs = require("fs");
const { installCompiledCodeCache, installTypeScriptHook } = require("./compile-cache");

const REPORT_FD = 3;

// The stack's config, as the CLI would set it in the environment (run-program.ts writes it to a file).
if (process.env.GPU_PLATFORM_PLAN_CONFIG) {
    const { config, secretKeys } = JSON.parse(fs.readFileSync(process.env.GPU_PLATFORM_PLAN_CONFIG, "utf8"));
    process.env.PULUMI_CONFIG = JSON.stringify(config);
    process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(secretKeys);
    delete process.env.GPU_PLATFORM_PLAN_CONFIG;
}

process.setSourceMapsEnabled = () => {};
// The SDK raises the limit around each resource to record where it was declared
// (resource.ts `callsites`); for the plan that is nothing but cost, so the limit stays 0.
Object.defineProperty(Error, "stackTraceLimit", { configurable: false, get: () => 0, set: () => {} });
// The language host turns on the inspector's Debugger domain so that it can serialize
// JavaScript functions (pulumi.runtime.serializeFunction, aws.lambda.CallbackFunction); with it
// on, every module the SDKs load costs more. The plan does not serialize functions.
const inspector = require("inspector");
const post = inspector.Session.prototype.post;
inspector.Session.prototype.post = function (method, params, callback) {
    if (method !== "Debugger.enable") return post.call(this, method, params, callback);
    const done = typeof params === "function" ? params : callback;
    if (done) process.nextTick(done, null, {});
};

// The SDK turns this V8 flag on while it loads (runtime/closure/v8Hooks.js); V8 refuses code
// cached under other flags, so it is on from the start and every module's cache stays usable.
require("v8").setFlagsFromString("--allow-natives-syntax");
// One store per project folder: programs in different folders load different modules.
const projectKey = require("crypto").createHash("sha1").update(process.cwd()).digest("hex").slice(0, 12);
installCompiledCodeCache(`program-${projectKey}`);
if (process.env.GPU_PLATFORM_PLAN_TYPESCRIPT === "esbuild") installTypeScriptHook();
deferUnusedSdkModules();

/**
 * SDK modules a plan does not run, loaded when first touched instead of at start-up, where they
 * cost most of the SDKs' load time. A program that does use one gets the real module on its first
 * property access (lazyModule). Matched by the requiring file, so an SDK laid out otherwise loads
 * them as usual:
 *
 * - in @pulumi/pulumi 3.x, the Automation API (`pulumi.automation`, which brings npm's arborist
 *   and pacote; index.js), what function serialization needs (arborist and npm's package.json
 *   normalizer to find a function's packages, TypeScript to parse its source; runtime/closure/),
 *   and the language host's tracing (OpenTelemetry's SDK, exporter and gRPC instrumentation, used
 *   only when the CLI passes `--tracing`, which the plan never does; cmd/run/tracing.js `start`);
 * - the namespaces of the provider SDKs' index.js (`aws.ec2`, `k8s.apps`, `awsx.ecs`, …): each
 *   `const ec2 = __importStar(require("./ec2"))` loads a folder of lazily loaded resources, and
 *   prod uses 19 of the 238 @pulumi/aws's index requires. The SDKs generate them so
 *   (pulumi-language-nodejs).
 */
function deferUnusedSdkModules() {
    const Module = require("module");
    const path = require("path");
    const sdkFile = (...parts) => path.join(path.sep, "@pulumi", "pulumi", ...parts);
    const deferred = [
        { request: "./automation", from: sdkFile("index.js") },
        { request: "@npmcli/arborist", from: sdkFile("runtime", "closure", "codePaths.js") },
        { request: "normalize-package-data", from: sdkFile("runtime", "closure", "codePaths.js") },
        { request: "../../typescript-shim", from: sdkFile("runtime", "closure", "parseFunction.js") },
        ...[
            "@opentelemetry/resources",
            "@opentelemetry/sdk-trace-base",
            "@opentelemetry/exporter-zipkin",
            "@opentelemetry/instrumentation-grpc",
            "@opentelemetry/sdk-trace-node",
            "@opentelemetry/instrumentation",
        ].map((request) => ({ request, from: sdkFile("cmd", "run", "tracing.js") })),
    ];
    const providerIndexes = ["aws", "awsx", "kubernetes"].map((name) =>
        path.join(path.sep, "@pulumi", name, "index.js"),
    );
    const isProviderNamespace = (request, parent) =>
        /^\.\/[a-z0-9]+$/.test(request) &&
        request !== "./utilities" &&
        request !== "./provider" &&
        providerIndexes.some((index) => parent.filename.endsWith(index)) &&
        fs.existsSync(path.join(path.dirname(parent.filename), request, "index.js"));
    const load = Module._load;
    Module._load = function (request, parent, isMain) {
        const defer =
            parent &&
            (deferred.some((d) => d.request === request && parent.filename.endsWith(d.from)) ||
                isProviderNamespace(request, parent));
        return defer
            ? lazyModule(() => load.call(Module, request, parent, false))
            : load.call(this, request, parent, isMain);
    };
}

/**
 * A module object that loads the module on first use. It says it is an ES module's namespace
 * (`__esModule`) without loading, so TypeScript's `__importStar` and `__importDefault` hand it on
 * as it is.
 */
function lazyModule(loadModule) {
    let loaded;
    const real = () => (loaded = loaded || loadModule());
    return new Proxy(
        {},
        {
            // A CommonJS module's `default` is the module itself, as `__importDefault` would make it.
            get: (_, key) =>
                key === "__esModule"
                    ? true
                    : key === "default" && !real().__esModule && !Reflect.has(real(), "default")
                      ? real()
                      : Reflect.get(real(), key),
            has: (_, key) => Reflect.has(real(), key),
            ownKeys: () => Reflect.ownKeys(real()),
            getOwnPropertyDescriptor: (_, key) => {
                const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
                return descriptor && { ...descriptor, configurable: true };
            },
        },
    );
}

let reported = false;
const report = (err) => {
    if (reported) return;
    reported = true;
    try {
        fs.writeSync(REPORT_FD, `${JSON.stringify({ failure: describeFailure(err) })}\n`);
    } catch {
        // No plan on the other end: the language host's own log still says what failed.
    }
};
process.on("uncaughtException", report);
process.on("unhandledRejection", report);

/** The lines that say what went wrong, by the Pulumi SDK's error brands (errors.ts `isInstance`). */
function describeFailure(err) {
    if (err && err.__pulumiRunError)
        return String(err.message)
            .split("\n")
            .map((l) => l.trimEnd());
    if (err && err.__pulumiInputPropertiesError) {
        return [firstLine(err.message), ...(err.errors || []).map((e) => `  - ${e.propertyPath}: ${e.reason}`)];
    }
    if (err && err.__pulumiInputPropertyError) return [`${err.propertyPath}: ${err.reason}`];
    if (err && err.__pulumResourceError) return [firstLine(err.message)];
    return [`program failed: ${err instanceof Error ? firstLine(err.message) : String(err)}`];
}

function firstLine(text) {
    return String(text).split("\n")[0].trimEnd();
}
