/**
 * The Pod Security Standards' "restricted" profile (kubernetes.io/docs/concepts/security/
 * pod-security-standards, version "latest"), the level team namespaces enforce, as checks on a
 * pod spec: `restrictedViolations(podSpec)` lists what Pod Security admission would refuse.
 * Covers the baseline controls a pod spec can break (host namespaces, privileged containers,
 * host paths and ports, added capabilities, unconfined seccomp) and the restricted ones
 * (volume types, privilege escalation, non-root, seccomp, capabilities dropped).
 */
type Json = Record<string, any>;

/** Volume types the restricted profile allows. */
const RESTRICTED_VOLUMES = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

export function restrictedViolations(pod: Json): string[] {
    const problems: string[] = [];
    const containers: Json[] = [
        ...(pod.containers ?? []),
        ...(pod.initContainers ?? []),
        ...(pod.ephemeralContainers ?? []),
    ];
    const podContext: Json = pod.securityContext ?? {};

    for (const field of ["hostNetwork", "hostPID", "hostIPC"])
        if (pod[field] === true) problems.push(`${field} is true`);
    for (const volume of pod.volumes ?? []) {
        const type = Object.keys(volume).find((key) => key !== "name");
        if (!type || !RESTRICTED_VOLUMES.includes(type)) problems.push(`volume "${volume.name}" is of type ${type}`);
    }
    const podSeccomp = podContext.seccompProfile?.type;
    for (const c of containers) {
        const context: Json = c.securityContext ?? {};
        const name = `container "${c.name}"`;
        if (context.privileged === true) problems.push(`${name} is privileged`);
        if (context.allowPrivilegeEscalation !== false)
            problems.push(`${name} does not set allowPrivilegeEscalation: false`);
        if ((context.runAsNonRoot ?? podContext.runAsNonRoot) !== true)
            problems.push(`${name} does not run as non-root`);
        if ((context.runAsUser ?? podContext.runAsUser) === 0) problems.push(`${name} runs as user 0`);
        const seccomp = context.seccompProfile?.type ?? podSeccomp;
        if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost")
            problems.push(`${name} has seccomp profile ${seccomp ?? "unset"}`);
        if (!(context.capabilities?.drop ?? []).includes("ALL"))
            problems.push(`${name} does not drop ALL capabilities`);
        const added = (context.capabilities?.add ?? []).filter((cap: string) => cap !== "NET_BIND_SERVICE");
        if (added.length > 0) problems.push(`${name} adds capabilities ${added.join(", ")}`);
        for (const port of c.ports ?? []) if (port.hostPort) problems.push(`${name} uses host port ${port.hostPort}`);
    }
    return problems;
}
