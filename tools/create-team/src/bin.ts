#!/usr/bin/env node
/**
 * `npm init @gpu-platform/team <dir> -- --team <team> --stack <stack> --platform <checkout>`
 * (npm runs this bin of @gpu-platform/create-team). Exit codes: 0 written (or --help), 2 bad
 * input, one line per problem on stderr and nothing written.
 */
import * as fs from "fs";
import * as path from "path";
import { HELP, ScaffoldInputError, USAGE, resolveRequest, wantsHelp } from "./options";
import { projectFiles } from "./project-files";

/** Where the initializer prints: the process's own streams, or a spec's collectors. */
export interface Console {
    readonly stdout: { write(text: string): unknown };
    readonly stderr: { write(text: string): unknown };
}

export function main(argv: string[], cwd: string, { stdout, stderr }: Console = process): number {
    if (wantsHelp(argv)) {
        stdout.write(`${HELP}\n`);
        return 0;
    }
    try {
        const request = resolveRequest(argv, cwd);
        const files = projectFiles(request);
        fs.mkdirSync(request.dir, { recursive: true });
        // "wx": a file that appeared since the check is never overwritten.
        for (const [name, content] of Object.entries(files))
            fs.writeFileSync(path.join(request.dir, name), content, { flag: "wx" });
        const shown = path.relative(cwd, request.dir) || ".";
        stdout.write(
            [
                `Wrote ${Object.keys(files).sort().join(", ")} to ${shown}.`,
                "Next:",
                `  cd ${shown} && npm install`,
                "  npm run plan",
                `Fill in the values marked FILL IN in Pulumi.${request.stack}.yaml before pulumi up.`,
                "",
            ].join("\n"),
        );
        return 0;
    } catch (err) {
        if (!(err instanceof ScaffoldInputError)) throw err;
        for (const line of err.lines) stderr.write(`error: ${line}\n`);
        stderr.write(`${USAGE}\n`);
        return 2;
    }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2), process.cwd());
