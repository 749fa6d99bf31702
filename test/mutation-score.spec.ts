import * as assert from "assert";
import { scoreOf } from "../tools/mutation/score";

// Expected figures follow Stryker's definition (stryker-mutator.io/docs/mutation-testing-elements/
// mutant-states-and-metrics): score = (killed + timeout) / (killed + timeout + survived + no coverage).
const mutants = (status: string, n: number) => Array.from({ length: n }, () => ({ status }));

describe("mutation score", () => {
    it("counts timeouts as detected and no-coverage as undetected, and leaves invalid mutants out", () => {
        const report = {
            files: {
                "a.ts": {
                    mutants: [...mutants("Killed", 5), ...mutants("Survived", 2), ...mutants("CompileError", 4)],
                },
                "b.ts": { mutants: [...mutants("Timeout", 1), ...mutants("NoCoverage", 2), ...mutants("Ignored", 3)] },
                "c.ts": { mutants: [...mutants("RuntimeError", 1), ...mutants("Pending", 1)] },
            },
        };
        const s = scoreOf(report);
        // detected 5 + 1 = 6; valid 6 + 2 + 2 = 10; 6 / 10 = 60 %.
        assert.strictEqual(s.score, 60);
        assert.deepStrictEqual(
            [s.killed, s.timeout, s.survived, s.noCoverage, s.compileErrors, s.runtimeErrors, s.ignored],
            [5, 1, 2, 2, 4, 1, 3],
        );
    });

    it("has no score when no mutant is valid", () => {
        assert.strictEqual(scoreOf({ files: { "a.ts": { mutants: mutants("CompileError", 2) } } }).score, undefined);
    });
});
