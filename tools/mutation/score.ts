// The mutation score of a mutation-testing-report-schema JSON report, as Stryker defines it
// (stryker-mutator.io/docs/mutation-testing-elements/mutant-states-and-metrics): detected
// (killed + timeout) over valid (detected + survived + no coverage). Compile and runtime errors
// are not valid mutants; ignored ones are left out.

/** The part of a mutation-testing-report-schema report the score reads. */
export interface MutationReport {
    readonly files: Record<string, { readonly mutants: ReadonlyArray<{ readonly status: string }> }>;
}

export interface MutationScore {
    readonly killed: number;
    readonly timeout: number;
    readonly survived: number;
    readonly noCoverage: number;
    readonly compileErrors: number;
    readonly runtimeErrors: number;
    readonly ignored: number;
    /** Per cent, or undefined when no mutant was valid. */
    readonly score: number | undefined;
}

type Counts = { -readonly [K in Exclude<keyof MutationScore, "score">]: number };

const COUNTED: Record<string, keyof Counts> = {
    Killed: "killed",
    Timeout: "timeout",
    Survived: "survived",
    NoCoverage: "noCoverage",
    CompileError: "compileErrors",
    RuntimeError: "runtimeErrors",
    Ignored: "ignored",
};

export function scoreOf(report: MutationReport): MutationScore {
    const counts: Counts = {
        killed: 0,
        timeout: 0,
        survived: 0,
        noCoverage: 0,
        compileErrors: 0,
        runtimeErrors: 0,
        ignored: 0,
    };
    for (const file of Object.values(report.files))
        for (const mutant of file.mutants) if (Object.hasOwn(COUNTED, mutant.status)) counts[COUNTED[mutant.status]]++;
    const detected = counts.killed + counts.timeout;
    const valid = detected + counts.survived + counts.noCoverage;
    return { ...counts, score: valid === 0 ? undefined : (100 * detected) / valid };
}
