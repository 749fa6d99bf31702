/**
 * Database TLS verified against RDS's certificate authorities. No image the portal runs carries
 * RDS's CA bundle, and this repository cannot ship one it could not download; so each pod (or
 * task) fetches its region's bundle when it starts, over HTTPS verified by Node's own CA store,
 * into a volume its database clients read: libpq (`sslmode=verify-full` with `sslrootcert`) in
 * psql and MLflow's psycopg2, Node's `NODE_EXTRA_CA_CERTS` with `rejectUnauthorized` in Backstage.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { rdsCaBundleUrl } from "@gpu-platform/catalog/rds-ca";

export const RDS_CA = {
    /** The volume the bundle is written to, and the path clients read it from. */
    volume: "rds-ca",
    mountPath: "/etc/rds-ca",
    file: "/etc/rds-ca/rds-ca-bundle.pem",
    /** Node's official image (Docker Hub's library, mirrored on ECR Public): `fetch` verifies the download's TLS. */
    fetcherImage: "public.ecr.aws/docker/library/node:22.12.0-alpine",
    container: "rds-ca",
} as const;

/**
 * Downloads `RDS_CA_URL` into `RDS_CA_FILE`, refusing anything but a PEM bundle (an error page, a
 * redirect to a login portal): a client would otherwise fail later with a confusing TLS error.
 */
export const RDS_CA_FETCH_SCRIPT = `const { RDS_CA_URL: url, RDS_CA_FILE: file } = process.env;
fetch(url, { redirect: "error" })
  .then(async (response) => {
    if (!response.ok) throw new Error(\`\${url} answered HTTP \${response.status}\`);
    const pem = await response.text();
    if (!pem.trimStart().startsWith("-----BEGIN CERTIFICATE-----")) throw new Error(\`\${url} did not answer a PEM certificate bundle\`);
    require("fs").writeFileSync(file, pem, { mode: 0o444 });
    console.log(\`RDS CA bundle: \${(pem.match(/BEGIN CERTIFICATE/g) || []).length} certificates from \${url}\`);
  })
  .catch((error) => { console.error(\`cannot fetch the RDS CA bundle: \${error.message}\`); process.exit(1); });`;

/** libpq's settings for a verified connection: the server's certificate chains to RDS's CA and names the host. */
export function libpqVerifyFullEnv(): { name: string; value: string }[] {
    return [
        { name: "PGSSLMODE", value: "verify-full" },
        { name: "PGSSLROOTCERT", value: RDS_CA.file },
    ];
}

const restricted = {
    runAsNonRoot: true,
    // The image's `node` user.
    runAsUser: 1000,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

/** The init container that writes the region's bundle into the `rds-ca` volume; it must run before any database client. */
export function rdsCaInitContainer(region: string): k8s.types.input.core.v1.Container {
    return {
        name: RDS_CA.container,
        image: RDS_CA.fetcherImage,
        command: ["node", "-e", RDS_CA_FETCH_SCRIPT],
        env: [
            { name: "RDS_CA_URL", value: rdsCaBundleUrl(region) },
            { name: "RDS_CA_FILE", value: RDS_CA.file },
        ],
        volumeMounts: [{ name: RDS_CA.volume, mountPath: RDS_CA.mountPath }],
        securityContext: restricted,
        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
    };
}

/** The pod volume the bundle lives in: a few kilobytes, gone with the pod. */
export const RDS_CA_VOLUME = { name: RDS_CA.volume, emptyDir: { sizeLimit: "1Mi" } };

/** Where a database client container mounts it, read-only. */
export const RDS_CA_MOUNT = { name: RDS_CA.volume, mountPath: RDS_CA.mountPath, readOnly: true };

/**
 * The same download as an ECS container that exits when done (not essential): a Fargate task's
 * containers share a bind-mount volume (the task definition's `rds-ca`), and the database
 * clients wait for this one's SUCCESS. It runs as the image's root user: Fargate's bind mounts
 * are root's; its root file system is read-only and it holds no secret.
 */
export function rdsCaEcsContainer(bundleUrl: pulumi.Input<string>, logs: Record<string, pulumi.Input<string>>) {
    return {
        name: RDS_CA.container,
        image: RDS_CA.fetcherImage,
        essential: false,
        command: ["node", "-e", RDS_CA_FETCH_SCRIPT],
        environment: [
            { name: "RDS_CA_URL", value: bundleUrl },
            { name: "RDS_CA_FILE", value: RDS_CA.file },
        ],
        mountPoints: [{ sourceVolume: RDS_CA.volume, containerPath: RDS_CA.mountPath, readOnly: false }],
        readonlyRootFilesystem: true,
        logConfiguration: { logDriver: "awslogs", options: logs },
    };
}
