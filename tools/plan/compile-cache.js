// Caches for the plan's two processes, each kept on disk under node_modules/.cache:
// - V8's compiled code of every module (v8-compile-cache): the SDKs are megabytes of JavaScript
//   that Node would otherwise compile from source on every run;
// - esbuild's output for every TypeScript file outside node_modules, by content. Like ts-node,
//   the hook leaves node_modules alone: a package that ships TypeScript fails here as it fails
//   in Pulumi.
// Plain JavaScript, so it runs before anything can compile TypeScript.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const CACHE_DIR = path.join(__dirname, "..", "..", "node_modules", ".cache", "gpu-platform-plan");

function installCompiledCodeCache() {
    process.env.V8_COMPILE_CACHE_CACHE_DIR = path.join(CACHE_DIR, "v8");
    require("v8-compile-cache");
}

function installTypeScriptHook() {
    const fallback = require.extensions[".js"];
    let esbuild;
    let salt;
    require.extensions[".ts"] = (module, filename) => {
        if (filename.split(path.sep).includes("node_modules")) return fallback(module, filename);
        const source = fs.readFileSync(filename, "utf8");
        salt = salt || `${require("esbuild/package.json").version}:node20:cjs`;
        const key = crypto.createHash("sha256").update(salt).update("\0").update(source).digest("hex");
        const cached = path.join(CACHE_DIR, "ts", `${key}.js`);
        let code;
        try {
            code = fs.readFileSync(cached, "utf8");
        } catch {
            esbuild = esbuild || require("esbuild");
            code = withoutLargeEnvironment(
                () =>
                    esbuild.transformSync(source, {
                        loader: "ts",
                        format: "cjs",
                        target: "node20",
                        sourcefile: filename,
                    }).code,
            );
            try {
                fs.mkdirSync(path.dirname(cached), { recursive: true });
                const temp = `${cached}.${process.pid}.tmp`;
                fs.writeFileSync(temp, code);
                fs.renameSync(temp, cached);
            } catch {
                // A read-only checkout still plans; it compiles every time.
            }
        }
        module._compile(code, filename);
    };
}

/**
 * Runs `fn` with the stack's config out of the environment: esbuild's first call starts its
 * service process, which inherits the environment, and Linux refuses to start a process with a
 * variable over 128 KiB (E2BIG). The Pulumi SDK has read the config by then or reads it after.
 */
function withoutLargeEnvironment(fn) {
    const saved = {};
    for (const key of ["PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS"]) {
        if (key in process.env) {
            saved[key] = process.env[key];
            delete process.env[key];
        }
    }
    try {
        return fn();
    } finally {
        Object.assign(process.env, saved);
    }
}

module.exports = { installCompiledCodeCache, installTypeScriptHook };
