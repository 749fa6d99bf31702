import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vm from "vm";
import { Module } from "module";
import { REPO_ROOT } from "./harness";

const COMPILE_CACHE = path.join(REPO_ROOT, "tools/plan/compile-cache.js");

/** Modules as a plan's processes load them: a hashbang, a dependency, `require.resolve`, `require.main`, an ES module, a function called. */
const MODULES: Record<string, string> = {
    "a.js": [
        "#!/usr/bin/env node",
        "const b = require('./b');",
        "const thisIsExports = this === exports;",
        "function whereAmI() { return new Error('here').stack.split('\\n')[1].trim(); }",
        "module.exports = async () => ({",
        "    b,",
        "    resolved: require.resolve('./b'),",
        "    main: require.main === process.mainModule,",
        "    where: whereAmI(),",
        "    imported: (await require('./d')()).value,",
        "    thisIsExports,",
        "});",
    ].join("\n"),
    "b.js": "module.exports = 'b, first version';\n",
    "c.mjs": "export const value = 'from an ES module';\n",
    // A module that imports an ES module compiles as Node compiles it: it is not cached.
    "d.js": "module.exports = () => import('./c.mjs');\n",
    "run.js": [
        "require(process.env.COMPILE_CACHE).installCompiledCodeCache('spec', __dirname);",
        "require('./a')().then((result) => console.log(JSON.stringify(result)));",
    ].join("\n"),
};

interface Folder {
    readonly dir: string;
    readonly store: string;
    run(): { b: string; resolved: string; main: boolean; where: string; imported: string; thisIsExports: boolean };
    header(): Record<string, [string, number, number]>;
}

function folder(): Folder {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compile-cache-"));
    for (const [name, text] of Object.entries(MODULES)) fs.writeFileSync(path.join(dir, name), text);
    const store = path.join(dir, `spec-${process.version}-${process.arch}.bin`);
    return {
        dir,
        store,
        run: () =>
            JSON.parse(
                execFileSync(process.execPath, [path.join(dir, "run.js")], {
                    env: { ...process.env, COMPILE_CACHE, NODE_OPTIONS: "" },
                    encoding: "utf8",
                }),
            ),
        header: () => {
            const bytes = fs.readFileSync(store);
            return JSON.parse(bytes.toString("utf8", 4, 4 + bytes.readUInt32LE(0)));
        },
    };
}

/** The inode of the store: a write replaces the file (write, then rename), so a new inode means it was written. */
const inode = (file: string) => fs.statSync(file).ino;

describe("plan: the compiled-code cache of its two processes (tools/plan/compile-cache.js)", function () {
    this.timeout(60_000);
    let dirs: string[] = [];
    const make = () => {
        const made = folder();
        dirs.push(made.dir);
        return made;
    };
    afterEach(() => {
        for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
        dirs = [];
    });

    it("loads a module as Node's own loader does, from source and then from the cache", () => {
        const f = make();
        const expected = {
            b: "b, first version",
            resolved: path.join(f.dir, "b.js"),
            main: true,
            // Line 4 of a.js: the hashbang line is kept as an empty line, as Node keeps it.
            where: `at whereAmI (${path.join(f.dir, "a.js")}:4:30)`,
            imported: "from an ES module",
            thisIsExports: true,
        };
        assert.deepStrictEqual(f.run(), expected, "compiled from source");
        assert.deepStrictEqual(f.run(), expected, "from the cache");
    });

    it("writes the store only when a run compiled something anew", () => {
        const f = make();
        f.run();
        assert.deepStrictEqual(
            Object.keys(f.header()).sort(),
            ["a.js", "b.js"].map((n) => path.join(f.dir, n)),
        );
        const written = inode(f.store);
        f.run();
        f.run();
        assert.strictEqual(inode(f.store), written, "a run that found everything cached rewrote the store");
    });

    it("never runs the cached code of a module that changed, and caches the new one", () => {
        const f = make();
        f.run();
        const before = inode(f.store);
        // Of the same length: V8 checks only a cached script's length against its source.
        fs.writeFileSync(path.join(f.dir, "b.js"), "module.exports = 'b, other version';\n");
        assert.strictEqual(f.run().b, "b, other version");
        const after = inode(f.store);
        assert.notStrictEqual(after, before, "the changed module was not cached");
        f.run();
        assert.strictEqual(inode(f.store), after, "the changed module was compiled again on the next run");
    });

    it("caches the functions a run compiled, not only what V8 compiles before a module runs", () => {
        const f = make();
        f.run();
        const [, , cachedLength] = f.header()[path.join(f.dir, "a.js")];
        // What v8-compile-cache stored: the cache V8 produces at compile time, before anything runs.
        const source = Module.wrap(MODULES["a.js"].replace(/^#![^\n]*/, ""));
        const beforeRunning = new vm.Script(source, { filename: path.join(f.dir, "a.js") }).createCachedData();
        assert.ok(
            cachedLength > beforeRunning.length,
            `a.js cached in ${cachedLength} bytes, no more than the ${beforeRunning.length} of its code before it ran`,
        );
    });

    it("starts afresh from a store that is not one", () => {
        const f = make();
        fs.writeFileSync(f.store, "not a store");
        assert.strictEqual(f.run().b, "b, first version");
        assert.ok(f.header()[path.join(f.dir, "b.js")], "the store was not written anew");
    });
});
