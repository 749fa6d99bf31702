/**
 * Pod Security "restricted" for the pod templates of team namespaces, as CEL: the controls of the
 * Pod Security Standards (kubernetes/website content/en/docs/concepts/security/
 * pod-security-standards.md, release-1.35, the clusters' version) that the host-access rule
 * (tenancy.ts) does not already hold: volume types, privilege escalation, non-root, seccomp,
 * capabilities, and the baseline controls beyond host access (AppArmor, SELinux, /proc mount,
 * sysctls, Windows host processes, probes and lifecycle hooks aimed at other hosts).
 *
 * Pod Security admission already enforces "restricted" on the Pods of a team namespace (its label
 * is the platform's, `gpu-platform-team-namespace-labels`); for a Deployment or a Job it only
 * warns, and the controller's pods are then refused out of sight. This rule refuses the workload
 * itself when it is applied, and the pack runs it on every pod template it finds, custom kinds
 * (PyTorchJob, RayJob, JobSet, ...) included. Read as Kubernetes' pod-security-admission (v1.35,
 * staging/src/k8s.io/pod-security-admission/policy) reads a pod: a container's setting wins over
 * the pod's; an explicit `runAsNonRoot: false` or a bad seccomp type on the pod refuses even when
 * every container overrides it; values are compared exactly (`drop: [all]` is not `ALL`). It is
 * stricter in one way: the user-namespace relaxation (hostUsers: false) and the Windows exemption
 * are not applied, since the apiserver's relaxation is an opt-in EKS does not turn on and the
 * cluster has no Windows nodes.
 */
import { POD_AND_WORKLOAD_RESOURCES, POD_SPEC_EXPRESSION } from "./gpu-limits";
import { AdmissionResourceRule, AdmissionRule, AdmissionValidation, NamedExpression, celStringList } from "./types";

export const POD_SECURITY_RULE = "gpu-platform-team-pod-security";

/**
 * Where pod specs are written: Pods, workloads, and a Pod's ephemeral containers, which
 * `kubectl debug` adds through the `pods/ephemeralcontainers` subresource (an UPDATE whose object
 * is the whole Pod). A rule on `pods` alone does not match a subresource (Kubernetes docs,
 * "Validating Admission Policy", matchConstraints resourceRules: `pods/*` or `pods/<subresource>`).
 */
export const POD_SPEC_RESOURCES: readonly AdmissionResourceRule[] = [
    ...POD_AND_WORKLOAD_RESOURCES,
    { apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["pods/ephemeralcontainers"] },
];

/** Inline volume sources the restricted profile allows (pod-security-standards.md, "Volume Types"). */
export const RESTRICTED_VOLUME_TYPES: readonly string[] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/**
 * Sysctls the baseline (and so the restricted) profile allows, as Pod Security admission grew the
 * list: each entry's sysctls are allowed from that Kubernetes minor on. Source: kubernetes/
 * pod-security-admission, tag v0.35.0 (Kubernetes 1.35), policy/check_sysctls.go
 * (`sysctlsAllowedV1Dot0` … `sysctlsAllowedV1Dot32`); unchanged at v0.36.0.
 */
export const SAFE_SYSCTLS_SINCE: readonly { readonly since: string; readonly sysctls: readonly string[] }[] = [
    {
        since: "1.0",
        sysctls: [
            "kernel.shm_rmid_forced",
            "net.ipv4.ip_local_port_range",
            "net.ipv4.tcp_syncookies",
            "net.ipv4.ping_group_range",
            "net.ipv4.ip_unprivileged_port_start",
        ],
    },
    { since: "1.27", sysctls: ["net.ipv4.ip_local_reserved_ports"] },
    {
        since: "1.29",
        sysctls: [
            "net.ipv4.tcp_keepalive_time",
            "net.ipv4.tcp_fin_timeout",
            "net.ipv4.tcp_keepalive_intvl",
            "net.ipv4.tcp_keepalive_probes",
        ],
    },
    { since: "1.32", sysctls: ["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"] },
];

/** `major.minor` as two numbers; throws, naming the value, on anything else. */
function minorVersion(version: string): [number, number] {
    const match = /^(\d+)\.(\d+)$/.exec(version);
    if (!match) throw new Error(`kubernetesVersion: "${version}" is not a Kubernetes minor version such as "1.35"`);
    return [Number(match[1]), Number(match[2])];
}

/** The sysctls Pod Security allows on a cluster of `kubernetesVersion` ("1.35"). */
export function safeSysctls(kubernetesVersion: string): string[] {
    const [major, minor] = minorVersion(kubernetesVersion);
    return SAFE_SYSCTLS_SINCE.filter(({ since }) => {
        const [m, n] = minorVersion(since);
        return m < major || (m === major && n <= minor);
    }).flatMap(({ sysctls }) => sysctls);
}

/** SELinux types the baseline profile allows (pod-security-standards.md, "SELinux"). */
export const SELINUX_TYPES: readonly string[] = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

const SECCOMP_TYPES = celStringList(["RuntimeDefault", "Localhost"]);
const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";
const DOCS = "docs/pod-security.md";

/** CEL: `c`'s security context field `f` is set. */
const ctx = (c: string, f: string) => `has(${c}.securityContext) && has(${c}.securityContext.${f})`;
/** CEL: the names of the containers for which `bad` holds. */
const containersWhere = (bad: string) => `variables.containers.filter(c, ${bad}).map(c, c.name)`;

const VARIABLES: readonly NamedExpression[] = [
    {
        name: "objectName",
        expression:
            "has(object.metadata.name) ? object.metadata.name : (has(object.metadata.generateName) ? object.metadata.generateName + '…' : '')",
    },
    { name: "podSpec", expression: POD_SPEC_EXPRESSION },
    {
        name: "podMeta",
        expression:
            "object.kind == 'Pod' ? object.metadata : (object.kind == 'CronJob' ? " +
            "(has(object.spec.jobTemplate.spec.template.metadata) ? object.spec.jobTemplate.spec.template.metadata : {}) : " +
            "(has(object.spec.template.metadata) ? object.spec.template.metadata : {}))",
    },
    {
        name: "pod",
        expression: "has(variables.podSpec.securityContext) ? variables.podSpec.securityContext : {}",
    },
    {
        name: "containers",
        expression:
            "variables.podSpec.containers + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : []) + " +
            "(has(variables.podSpec.ephemeralContainers) ? variables.podSpec.ephemeralContainers : [])",
    },
    {
        name: "badVolumes",
        expression:
            `has(variables.podSpec.volumes) ? variables.podSpec.volumes.filter(v, v.exists(k, k != 'name' && !(k in ${celStringList(RESTRICTED_VOLUME_TYPES)})))` +
            ".map(v, v.name + ' (' + v.filter(k, k != 'name').join(', ') + ')') : []",
    },
    {
        name: "escalating",
        expression: containersWhere(
            `!(${ctx("c", "allowPrivilegeEscalation")} && c.securityContext.allowPrivilegeEscalation == false)`,
        ),
    },
    {
        name: "rootContainers",
        expression:
            `(has(variables.pod.runAsNonRoot) && variables.pod.runAsNonRoot == false ? ['the pod'] : []) + ` +
            containersWhere(
                `${ctx("c", "runAsNonRoot")} ? c.securityContext.runAsNonRoot != true : !(has(variables.pod.runAsNonRoot) && variables.pod.runAsNonRoot == true)`,
            ),
    },
    {
        name: "uidZero",
        expression:
            "(has(variables.pod.runAsUser) && variables.pod.runAsUser == 0 ? ['the pod'] : []) + " +
            containersWhere(`${ctx("c", "runAsUser")} && c.securityContext.runAsUser == 0`),
    },
    {
        name: "podSeccomp",
        expression:
            "has(variables.pod.seccompProfile) ? (has(variables.pod.seccompProfile.type) ? variables.pod.seccompProfile.type : '') : 'unset'",
    },
    {
        name: "badSeccomp",
        expression:
            `(variables.podSeccomp != 'unset' && !(variables.podSeccomp in ${SECCOMP_TYPES}) ? ['the pod (' + variables.podSeccomp + ')'] : []) + ` +
            `variables.containers.filter(c, ${ctx("c", "seccompProfile")} ? !(has(c.securityContext.seccompProfile.type) && c.securityContext.seccompProfile.type in ${SECCOMP_TYPES}) : !(variables.podSeccomp in ${SECCOMP_TYPES}))` +
            ".map(c, c.name)",
    },
    {
        name: "keepingCapabilities",
        expression: containersWhere(
            `!(${ctx("c", "capabilities")} && has(c.securityContext.capabilities.drop) && 'ALL' in c.securityContext.capabilities.drop)`,
        ),
    },
    {
        name: "addedCapabilities",
        expression:
            `variables.containers.filter(c, ${ctx("c", "capabilities")} && has(c.securityContext.capabilities.add) && c.securityContext.capabilities.add.exists(a, a != 'NET_BIND_SERVICE'))` +
            ".map(c, c.name + ' (' + c.securityContext.capabilities.add.filter(a, a != 'NET_BIND_SERVICE').join(', ') + ')')",
    },
];

/** CEL: the baseline controls beyond host access, each problem as a phrase. */
function baselineProblemsExpression(kubernetesVersion: string): string {
    const contexts =
        "([variables.pod] + variables.containers.filter(c, has(c.securityContext)).map(c, c.securityContext))";
    const annotations = "(has(variables.podMeta.annotations) ? variables.podMeta.annotations : {})";
    const handlers =
        "[has(c.livenessProbe) ? c.livenessProbe : {}, has(c.readinessProbe) ? c.readinessProbe : {}, " +
        "has(c.startupProbe) ? c.startupProbe : {}, has(c.lifecycle) && has(c.lifecycle.postStart) ? c.lifecycle.postStart : {}, " +
        "has(c.lifecycle) && has(c.lifecycle.preStop) ? c.lifecycle.preStop : {}]";
    return [
        `(${contexts}.exists(s, has(s.appArmorProfile) && has(s.appArmorProfile.type) && s.appArmorProfile.type == 'Unconfined') || ` +
            `${annotations}.exists(k, k.startsWith('${APPARMOR_ANNOTATION}') && !(${annotations}[k] == 'runtime/default' || ${annotations}[k].startsWith('localhost/'))) ? ['an unconfined AppArmor profile'] : [])`,
        `(${contexts}.exists(s, has(s.seLinuxOptions) && ((has(s.seLinuxOptions.type) && !(s.seLinuxOptions.type in ${celStringList(SELINUX_TYPES)})) || ` +
            "(has(s.seLinuxOptions.user) && s.seLinuxOptions.user != '') || (has(s.seLinuxOptions.role) && s.seLinuxOptions.role != ''))) ? ['custom SELinux options'] : [])",
        `(variables.containers.exists(c, ${ctx("c", "procMount")} && c.securityContext.procMount != 'Default') ? ['an unmasked /proc mount'] : [])`,
        `(has(variables.pod.sysctls) ? variables.pod.sysctls.filter(s, !(s.name in ${celStringList(safeSysctls(kubernetesVersion))})).map(s, 'sysctl ' + s.name) : [])`,
        `(${contexts}.exists(s, has(s.windowsOptions) && has(s.windowsOptions.hostProcess) && s.windowsOptions.hostProcess) ? ['a Windows host process'] : [])`,
        `(variables.containers.exists(c, ${handlers}.exists(h, (has(h.httpGet) && has(h.httpGet.host) && h.httpGet.host != '') || ` +
            "(has(h.tcpSocket) && has(h.tcpSocket.host) && h.tcpSocket.host != ''))) ? ['a probe or lifecycle hook aimed at another host'] : [])",
    ].join(" + ");
}

function refuse(variable: string, what: string, fix: string): AdmissionValidation {
    return {
        expression: `size(variables.${variable}) == 0`,
        messageExpression:
            `request.kind.kind + ' ' + variables.objectName + ' ${what}' + variables.${variable}.join(', ') + '; ${fix} ` +
            `(Pod Security restricted, ${DOCS})'`,
        reason: "Forbidden",
    };
}

/**
 * The rule: Pods and workload templates in a team namespace that enforces "restricted", as Pod
 * Security admission judges them on a cluster of `kubernetesVersion` ("1.35": the safe sysctls grow with it).
 */
export function podSecurityRule(kubernetesVersion: string): AdmissionRule {
    return {
        name: POD_SECURITY_RULE,
        description:
            "Pods in a team namespace that enforces Pod Security restricted, and the pod templates of its Deployments, StatefulSets, " +
            "ReplicaSets, DaemonSets, Jobs and CronJobs, meet the restricted profile: allowed volume types only, allowPrivilegeEscalation " +
            "false, runAsNonRoot, no UID 0, seccomp RuntimeDefault or Localhost, capabilities drop ALL and add at most NET_BIND_SERVICE, " +
            "and no AppArmor, SELinux, /proc, sysctl, host-process or probe-host override; containers, init and ephemeral containers alike.",
        scope: "team-namespaces",
        resourceRules: POD_SPEC_RESOURCES,
        // A namespace the platform set to "baseline" (teams[].podSecurity) is held to baseline by Pod Security admission only.
        namespaceSelector: { matchLabels: { "pod-security.kubernetes.io/enforce": "restricted" } },
        variables: [
            ...VARIABLES,
            { name: "baselineProblems", expression: baselineProblemsExpression(kubernetesVersion) },
        ],
        validations: [
            refuse(
                "badVolumes",
                "mounts volumes of types the restricted profile refuses: ",
                "use configMap, secret, projected, downwardAPI, emptyDir, csi, ephemeral or a persistentVolumeClaim",
            ),
            refuse(
                "escalating",
                "lets containers gain privileges: ",
                "set securityContext.allowPrivilegeEscalation: false on each",
            ),
            refuse(
                "rootContainers",
                "may run as root: ",
                "set securityContext.runAsNonRoot: true on the pod (and false nowhere), and build the image with a non-root USER",
            ),
            refuse("uidZero", "runs as UID 0: ", "set runAsUser to a non-zero UID or leave it to the image"),
            refuse(
                "badSeccomp",
                "has no RuntimeDefault or Localhost seccomp profile: ",
                "set securityContext.seccompProfile.type: RuntimeDefault on the pod",
            ),
            refuse(
                "keepingCapabilities",
                "keeps Linux capabilities: ",
                'set securityContext.capabilities.drop: ["ALL"] on each container',
            ),
            refuse(
                "addedCapabilities",
                "adds capabilities beyond NET_BIND_SERVICE: ",
                "remove them from securityContext.capabilities.add",
            ),
            refuse("baselineProblems", "sets ", "remove the setting"),
        ],
    };
}
