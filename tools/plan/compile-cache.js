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
            code = esbuild.transformSync(source, { loader: "ts", format: "cjs", target: "node20", sourcefile: filename }).code;
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

module.exports = { installCompiledCodeCache, installTypeScriptHook };
