/**
 * An npm registry on loopback for one scope, serving packed tarballs: what an organisation's
 * registry is to a team (`npm config set @gpu-platform:registry <url>`). It answers the two
 * requests npm makes for a package: its packument (GET /@scope%2fname) and a tarball the
 * packument names. Everything else is a 404, so npm falls back on nothing unexpected.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";

export interface PackedPackage {
    /** The folder whose package.json was packed. */
    readonly dir: string;
    /** The tarball `npm pack` wrote. */
    readonly tarball: string;
}

export interface ScopedRegistry {
    /** The registry's URL, with a trailing slash as npm writes it. */
    readonly url: string;
    /** The requests it answered, as "<status> <path>", in order. */
    readonly requests: string[];
    close(): Promise<void>;
}

export async function startScopedRegistry(packages: readonly PackedPackage[]): Promise<ScopedRegistry> {
    const requests: string[] = [];
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const packuments = new Map<string, object>();
    const tarballs = new Map<string, string>();
    for (const pkg of packages) {
        const file = path.basename(pkg.tarball);
        const { name, packument } = packumentOf(pkg, `${url}-/${file}`);
        packuments.set(name, packument);
        tarballs.set(`/-/${file}`, pkg.tarball);
    }
    server.on("request", (req, res) => {
        const requested = decodeURIComponent(req.url ?? "/").split("?")[0];
        const packument = packuments.get(requested.slice(1));
        const tarball = tarballs.get(requested);
        const status = packument || tarball ? 200 : 404;
        requests.push(`${status} ${requested}`);
        if (packument) {
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(packument));
        } else if (tarball) {
            res.writeHead(200, { "content-type": "application/octet-stream" }).end(fs.readFileSync(tarball));
        } else {
            res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
        }
    });
    return {
        url,
        requests,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

/** The registry document of one version: its manifest, the tarball's address and checksums. */
function packumentOf(pkg: PackedPackage, tarballUrl: string): { name: string; packument: object } {
    const manifest = JSON.parse(fs.readFileSync(path.join(pkg.dir, "package.json"), "utf8")) as {
        name: string;
        version: string;
    };
    const bytes = fs.readFileSync(pkg.tarball);
    const version = {
        ...manifest,
        dist: {
            tarball: tarballUrl,
            integrity: `sha512-${crypto.createHash("sha512").update(bytes).digest("base64")}`,
            shasum: crypto.createHash("sha1").update(bytes).digest("hex"),
        },
    };
    return {
        name: manifest.name,
        packument: {
            name: manifest.name,
            "dist-tags": { latest: manifest.version },
            versions: { [manifest.version]: version },
        },
    };
}
