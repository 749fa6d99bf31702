// Caches for the plan's two processes, each kept on disk under node_modules/.cache:
// - V8's compiled code of every CommonJS module: the SDKs are megabytes of JavaScript that Node
//   would otherwise compile from source on every run;
// - esbuild's output for every TypeScript file outside node_modules, by content. Like ts-node,
//   the hook leaves node_modules alone: a package that ships TypeScript fails here as it fails
//   in Pulumi.
// Plain JavaScript, so it runs before anything can compile TypeScript.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const CACHE_DIR = path.join(__dirname, "..", "..", "node_modules", ".cache", "gpu-platform-plan");

/**
 * Loads every CommonJS module with V8's code cache from the last run, for the process that
 * `store` names (one store per process kind and project folder, as the modules differ). A store
 * keeps every module it has seen, so plans of stacks that load different modules share it.
 *
 * Node 20 has no compile cache of its own (`module.enableCompileCache` came in Node 22.1), and
 * the v8-compile-cache package, used before, produced each module's cache while compiling it,
 * before it ran: the functions a plan calls were compiled again on every run, and every run
 * produced and rewrote the whole store. Here the cache is produced when the process exits, so it
 * holds the functions compiled while it ran (V8's `createCachedData`), and only a run that had to
 * compile something anew (a changed file, a module not seen before, code V8 refused) writes it.
 * V8 refuses code cached under other flags or another V8: that module then compiles as usual.
 */
function installCompiledCodeCache(store, directory = path.join(CACHE_DIR, "v8")) {
    const Module = require("module");
    const vm = require("vm");
    const file = path.join(directory, `${store}-${process.version}-${process.arch}.bin`);
    const cached = readStore(file);
    const compiled = new Map();
    let stale = false;
    const nodeCompile = Module.prototype._compile;

    Module.prototype._compile = function compileWithCache(content, filename) {
        // A script compiled here has no way to import() an ES module (Node 20's vm has one only
        // as an experiment, and it is lost from cached code): such a module compiles as Node does.
        if (content.includes("import(")) return nodeCompile.call(this, content, filename);
        const source = Module.wrap(withoutHashbang(content));
        const hash = sha1(source);
        const entry = cached.get(filename);
        const script = new vm.Script(source, {
            filename,
            cachedData: entry && entry.hash === hash ? entry.data : undefined,
        });
        if (!entry || entry.hash !== hash || script.cachedDataRejected) stale = true;
        compiled.set(filename, { hash, script });
        const wrapper = script.runInThisContext({ displayErrors: true });
        return wrapper.call(
            this.exports,
            this.exports,
            requireOf(this, Module),
            this,
            filename,
            path.dirname(filename),
        );
    };

    process.once("exit", () => {
        if (!stale) return;
        for (const [filename, { hash, script }] of compiled)
            cached.set(filename, { hash, data: script.createCachedData() });
        writeStore(file, cached);
    });
}

/** One-shot `crypto.hash` (Node 20.12) where there is one: a quarter cheaper on megabytes of small modules. */
const sha1 = crypto.hash
    ? (text) => crypto.hash("sha1", text, "base64")
    : (text) => crypto.createHash("sha1").update(text).digest("base64");

/** The `require` Node gives a module (lib/internal/modules/helpers.js `makeRequireFunction`). */
function requireOf(mod, Module) {
    const require = (id) => mod.require(id);
    const resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
    require.resolve = resolve;
    require.main = process.mainModule;
    require.extensions = Module._extensions;
    require.cache = Module._cache;
    return require;
}

/** A script's `#!` line, which Node's own loader drops, becomes an empty line so line numbers hold. */
function withoutHashbang(content) {
    return content.startsWith("#!") ? content.replace(/^#![^\r\n]*/, "") : content;
}

/** The store: a little-endian u32 header length, a JSON header `{ filename: [hash, offset, length] }`, then the data. */
function readStore(file) {
    const entries = new Map();
    try {
        const buffer = fs.readFileSync(file);
        const headerLength = buffer.readUInt32LE(0);
        const header = JSON.parse(buffer.toString("utf8", 4, 4 + headerLength));
        const start = 4 + headerLength;
        for (const [filename, [hash, offset, length]] of Object.entries(header))
            entries.set(filename, { hash, data: buffer.subarray(start + offset, start + offset + length) });
    } catch {
        // No store yet, or one that does not parse: everything compiles from source and is cached anew.
        entries.clear();
    }
    return entries;
}

function writeStore(file, entries) {
    const header = {};
    const chunks = [];
    let offset = 0;
    for (const [filename, { hash, data }] of entries) {
        header[filename] = [hash, offset, data.length];
        chunks.push(data);
        offset += data.length;
    }
    const headerBytes = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(headerBytes.length, 0);
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const temp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(temp, Buffer.concat([length, headerBytes, ...chunks]));
        fs.renameSync(temp, file);
    } catch {
        // A read-only checkout still plans; it compiles every time.
    }
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
