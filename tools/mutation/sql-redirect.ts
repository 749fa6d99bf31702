// Loaded with `node -r` by `npm run mutation:sql` in the processes that judge one SQL mutant: when
// SQL_MUTANT_SOURCE names a migration file, every import of it resolves to SQL_MUTANT_COPY (the
// mutated copy beside it) instead, and SQL_MUTANT_MARK is written the first time that happens, so
// the runner knows the mutant was really loaded (a mutant never loaded would look as if it survived).
import { writeFileSync } from "node:fs";
import Module from "node:module";

type Resolve = (request: string, parent: unknown, isMain: boolean, options: unknown) => string;

const source = process.env.SQL_MUTANT_SOURCE;
const copy = process.env.SQL_MUTANT_COPY;
const mark = process.env.SQL_MUTANT_MARK;

if (source && copy && mark) {
    const loader = Module as unknown as { _resolveFilename: Resolve };
    const resolve = loader._resolveFilename;
    let marked = false;
    loader._resolveFilename = function (request, parent, isMain, options) {
        const resolved = resolve.call(this, request, parent, isMain, options);
        if (resolved !== source) return resolved;
        if (!marked) writeFileSync(mark, copy);
        marked = true;
        return copy;
    };
}
