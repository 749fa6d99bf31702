/**
 * Runs a Pulumi Node.js program the way `pulumi preview` does, against the offline engine: in
 * a process of its own, under the language host of the program's own @pulumi/pulumi
 * (`cmd/run`), with the stack's config in the environment the CLI would set. Whatever the
 * program exports (top-level exports, or the result of an exported function, which the host
 * calls and awaits) becomes the stack's outputs. Errors a user can fix come back as
 * PlanInputError lines.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type * as Engine from "@gpu-platform/offline/engine";
import type { EngineListener, EngineRecording } from "@gpu-platform/offline/engine";
import { PlanInputError } from "./options";
import type { ProgramProject, StackConfig } from "./stack-config";

export interface ProgramRun extends EngineRecording {
    /** What the program and its SDK wrote to stdout and stderr (its log included), which the plan shows on its stderr. */
    readonly console: string;
}

export interface RunOptions {
    /** Load TypeScript with ts-node, type-checked, exactly as Pulumi's language host does; slower. */
    readonly tsNode?: boolean;
    /** Called once the program's process is running, so the caller can load what it needs meanwhile. */
    readonly whileRunning?: () => void;
    /** Told of each resource as the program registers it. */
    readonly listener?: EngineListener;
}

const HOST_PRELOAD = path.join(__dirname, "program-host.js");

export async function runProgram(
    project: ProgramProject,
    stack: string,
    config: StackConfig,
    secretKeys: string[],
    options: RunOptions = {},
): Promise<ProgramRun> {
    const host = languageHostOf(project);
    // The config goes through a file the program's preload reads into its own environment: an
    // environment variable of more than 128 KiB (Linux's MAX_ARG_STRLEN) cannot be passed to a process.
    const configDir = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-platform-plan-"));
    const configFile = path.join(configDir, "config.json");
    fs.writeFileSync(configFile, JSON.stringify({ config, secretKeys }), { mode: 0o600 });
    let connections: LoopbackConnections | undefined;
    let engine: Engine.OfflineEngine | undefined;
    try {
        // The program starts first, on a port opened before the engine (gRPC and the protocol's
        // generated code) is loaded: its SDK takes longer to load than the engine, and dials only then.
        connections = await LoopbackConnections.open();
        const child = spawn(
            process.execPath,
            [
                "-r",
                HOST_PRELOAD,
                host,
                `--monitor=${connections.address}`,
                `--organization=organization`,
                `--project=${project.name}`,
                `--stack=${stack}`,
                "--dry-run",
                `--pwd=${project.dir}`,
                project.main,
            ],
            {
                cwd: project.dir,
                env: programEnvironment(configFile, options.tsNode === true),
                stdio: ["ignore", "pipe", "pipe", "pipe"],
            },
        );
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { OfflineEngine } = require("@gpu-platform/offline/engine") as typeof Engine;
        engine = new OfflineEngine(project.name, stack);
        if (options.listener) engine.listen(options.listener);
        engine.serve(connections);
        let consoleText = "";
        let report = "";
        child.stdout!.on("data", (chunk) => (consoleText += chunk));
        child.stderr!.on("data", (chunk) => (consoleText += chunk));
        (child.stdio[3] as NodeJS.ReadableStream).on("data", (chunk) => (report += chunk));
        const exited = new Promise<number>((resolve, reject) => {
            child.on("error", reject);
            child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
        });
        options.whileRunning?.();
        const code = await exited;

        const recording = engine.recording();
        const failure = failureLines(code, report, consoleText, project);
        if (failure) throw new PlanInputError(failure);
        return { ...recording, console: consoleText };
    } finally {
        engine?.stop();
        connections?.close();
        fs.rmSync(configDir, { recursive: true, force: true });
    }
}

/** A listening loopback port whose connections wait, accepted, until the engine takes them. */
class LoopbackConnections implements Engine.ConnectionSource {
    private readonly waiting: net.Socket[] = [];
    private accept?: (socket: net.Socket) => void;

    private constructor(private readonly server: net.Server) {
        server.on("connection", (socket) => (this.accept ? this.accept(socket) : this.waiting.push(socket)));
    }

    static open(): Promise<LoopbackConnections> {
        const server = net.createServer();
        return new Promise((resolve, reject) => {
            server.once("error", reject);
            server.listen(0, "127.0.0.1", () => resolve(new LoopbackConnections(server)));
        });
    }

    get address(): string {
        return `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    }

    handTo(accept: (socket: net.Socket) => void): void {
        this.accept = accept;
        for (const socket of this.waiting.splice(0)) accept(socket);
    }

    close(): void {
        this.server.close();
        for (const socket of this.waiting.splice(0)) socket.destroy();
    }
}

/**
 * The language host of the program's own @pulumi/pulumi, found as Node would find the SDK from
 * the program's folder; a program without one cannot run under Pulumi either.
 */
function languageHostOf(project: ProgramProject): string {
    try {
        return require.resolve("@pulumi/pulumi/cmd/run", { paths: [project.dir] });
    } catch {
        throw new PlanInputError([
            `${project.dir}: no @pulumi/pulumi installed for this program; run npm install there first`,
        ]);
    }
}

/**
 * The environment the CLI gives a program, less the plan's own Pulumi settings; the preload
 * (program-host.js) adds the config and its secret keys from `configFile` as PULUMI_CONFIG and
 * PULUMI_CONFIG_SECRET_KEYS, as the CLI sets them.
 */
function programEnvironment(configFile: string, tsNode: boolean): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("PULUMI_")) env[key] = value;
    env.GPU_PLATFORM_PLAN_CONFIG = configFile;
    if (tsNode) env.PULUMI_NODEJS_TYPESCRIPT = "true";
    else env.GPU_PLATFORM_PLAN_TYPESCRIPT = "esbuild";
    return env;
}

/** Why the program failed, in lines a user can act on, or undefined if it did not. */
function failureLines(
    code: number,
    report: string,
    consoleText: string,
    project: ProgramProject,
): string[] | undefined {
    if (code === 0) return undefined;
    const program = path.relative(process.cwd(), project.main) || project.main;
    const reported = firstReport(report);
    if (reported) return reported.map((line) => line.replace(/^program failed: /, `program ${program} failed: `));
    // The SDK's own log lines ("error: [runtime] …"), without the stack traces that follow them.
    const errors = consoleText.split("\n").filter((line) => line.startsWith("error: "));
    return [
        `program ${program} exited with code ${code}`,
        ...errors.map((line) => line.replace(/^error: (\[runtime\] )?/, "  ")),
    ];
}

/** The first failure the program's host reported on descriptor 3; anything malformed there is ignored. */
function firstReport(report: string): string[] | undefined {
    for (const line of report.split("\n")) {
        try {
            const failure = (JSON.parse(line) as { failure?: unknown }).failure;
            if (Array.isArray(failure) && failure.every((l) => typeof l === "string")) return failure;
        } catch {
            // not a report line
        }
    }
    return undefined;
}
