// The mutation score of a mutation-testing-report-schema JSON report, as Stryker defines it
// (stryker-mutator.io/docs/mutation-testing-elements/mutant-states-and-metrics): detected
// (killed + timeout) over valid (detected + survived + no coverage). Compile and runtime errors
// are not valid mutants; ignored ones are left out.

/** @param {{ files: Record<string, { mutants: Array<{ status: string }> }> }} report */
export function scoreOf(report) {
    const counts = {
        killed: 0,
        timeout: 0,
        survived: 0,
        noCoverage: 0,
        compileErrors: 0,
        runtimeErrors: 0,
        ignored: 0,
    };
    const field = {
        Killed: "killed",
        Timeout: "timeout",
        Survived: "survived",
        NoCoverage: "noCoverage",
        CompileError: "compileErrors",
        RuntimeError: "runtimeErrors",
        Ignored: "ignored",
    };
    for (const file of Object.values(report.files))
        for (const mutant of file.mutants) if (Object.hasOwn(field, mutant.status)) counts[field[mutant.status]]++;
    const detected = counts.killed + counts.timeout;
    const valid = detected + counts.survived + counts.noCoverage;
    return { ...counts, score: valid === 0 ? undefined : (100 * detected) / valid };
}
