/**
 * The Pod Security rule as the API server runs it (catalog/admission/pod-security.ts): on the
 * workload kinds themselves (the pack judges templates as Pods, so these are the cluster's own
 * paths: a Deployment's template, a CronJob's job template, a Pod's own metadata), bound to team
 * namespaces that enforce "restricted" only.
 */
import * as assert from "assert";
import { parse } from "@bufbuild/cel";
import * as fs from "fs";
import * as path from "path";
import { POD_SECURITY_RULE, podSecurityRule, safeSysctls } from "@gpu-platform/catalog/admission";
import type { AdmissionRequest } from "gpu-dev-platform-policies/lib/admission";
import { refusals, selects } from "./admission";
import { restrictedViolations } from "./pod-security";

const TEAM = "ml-research";
const RESTRICTED = { "gpu-platform/team": TEAM, "pod-security.kubernetes.io/enforce": "restricted" };
type Json = Record<string, any>;

const POD_SPEC: Json = {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
        {
            name: "main",
            image: "ghcr.io/acme/app:1.0",
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
    ],
};

const WORKLOADS: Record<string, { group: string; resource: string; wrap: (spec: Json, annotations?: Json) => Json }> = {
    Pod: {
        group: "",
        resource: "pods",
        wrap: (spec, annotations) => ({
            kind: "Pod",
            metadata: { name: "x", ...(annotations ? { annotations } : {}) },
            spec,
        }),
    },
    Deployment: {
        group: "apps",
        resource: "deployments",
        wrap: (spec, annotations) => ({
            kind: "Deployment",
            metadata: { name: "x" },
            spec: { template: { metadata: annotations ? { annotations } : {}, spec } },
        }),
    },
    CronJob: {
        group: "batch",
        resource: "cronjobs",
        wrap: (spec, annotations) => ({
            kind: "CronJob",
            metadata: { name: "x" },
            spec: {
                schedule: "@hourly",
                jobTemplate: { spec: { template: { ...(annotations ? { metadata: { annotations } } : {}), spec } } },
            },
        }),
    },
};

function request(kind: string, object: Json, labels: Record<string, string> = RESTRICTED): AdmissionRequest {
    return {
        operation: "CREATE",
        group: WORKLOADS[kind].group,
        version: "v1",
        kind,
        resource: WORKLOADS[kind].resource,
        namespace: TEAM,
        namespaceLabels: labels,
        name: "x",
        userInfo: { username: "arn:aws:sts::123456789012:assumed-role/ml-research/alice" },
        object,
    };
}

describe("the Pod Security rule, as the cluster runs it", () => {
    const rule = podSecurityRule("1.35");

    it("is valid CEL throughout", () => {
        for (const e of [
            ...(rule.variables ?? []),
            ...rule.validations.flatMap((v) => [{ expression: v.expression }, { expression: v.messageExpression }]),
        ])
            assert.doesNotThrow(() => parse(e.expression), e.expression);
    });

    for (const kind of Object.keys(WORKLOADS))
        describe(kind, () => {
            it("admits a restricted pod template", () => {
                assert.deepStrictEqual(restrictedViolations(POD_SPEC), []);
                assert.deepStrictEqual(refusals(rule, request(kind, WORKLOADS[kind].wrap(POD_SPEC))), []);
            });

            it("refuses one without a seccomp profile, naming the kind and the object", () => {
                const spec = structuredClone(POD_SPEC);
                delete spec.securityContext.seccompProfile;
                assert.notDeepStrictEqual(restrictedViolations(spec), []);
                const [message, ...more] = refusals(rule, request(kind, WORKLOADS[kind].wrap(spec)));
                assert.deepStrictEqual(more, []);
                assert.match(
                    message,
                    new RegExp(`^${kind} x has no RuntimeDefault or Localhost seccomp profile: main; `),
                );
            });

            it("reads the AppArmor annotation where this kind keeps its pod's metadata", () => {
                const annotations = { "container.apparmor.security.beta.kubernetes.io/main": "unconfined" };
                assert.match(
                    refusals(rule, request(kind, WORKLOADS[kind].wrap(POD_SPEC, annotations))).join("\n"),
                    /AppArmor/,
                );
            });
        });

    it("binds to team namespaces that enforce restricted, not to baseline ones or the platform's", () => {
        const object = WORKLOADS.Deployment.wrap(POD_SPEC);
        assert.strictEqual(rule.name, POD_SECURITY_RULE);
        assert.ok(selects(rule, request("Deployment", object)));
        assert.ok(
            !selects(
                rule,
                request("Deployment", object, { ...RESTRICTED, "pod-security.kubernetes.io/enforce": "baseline" }),
            ),
        );
        assert.ok(
            !selects(rule, request("Deployment", object, { "pod-security.kubernetes.io/enforce": "restricted" })),
        );
        assert.ok(
            !selects(
                rule,
                request("Deployment", object, {
                    ...RESTRICTED,
                    [`admission.gpu-platform/${POD_SECURITY_RULE}`]: "exempt",
                }),
            ),
        );
    });

    describe("safe sysctls, as Pod Security admission lists them for the cluster's version", () => {
        /** The lists recorded from kubernetes/pod-security-admission at each tag (the fixture names its source). */
        const upstream = JSON.parse(
            fs.readFileSync(path.join(__dirname, "fixtures", "pod-security-admission", "safe-sysctls.json"), "utf8"),
        ) as Record<string, string[]>;
        const withSysctl = (name: string) => {
            const spec = structuredClone(POD_SPEC);
            spec.securityContext.sysctls = [{ name, value: "4096 87380 6291456" }];
            return request("Pod", WORKLOADS.Pod.wrap(spec));
        };

        it("are upstream's list at the cluster's tag: v0.35.0 for 1.35, v0.29.0 for 1.29", () => {
            assert.deepStrictEqual([...safeSysctls("1.35")].sort(), upstream["v0.35.0"]);
            assert.deepStrictEqual([...safeSysctls("1.29")].sort(), upstream["v0.29.0"]);
        });

        it("admit net.ipv4.tcp_rmem (added in 1.32) on a 1.35 cluster, and refuse it on a 1.29 one", () => {
            assert.deepStrictEqual(refusals(rule, withSysctl("net.ipv4.tcp_rmem")), []);
            assert.match(
                refusals(podSecurityRule("1.29"), withSysctl("net.ipv4.tcp_rmem")).join("\n"),
                /sets sysctl net\.ipv4\.tcp_rmem/,
            );
        });

        it("refuse kernel.msgmax, which no version allows", () => {
            assert.match(refusals(rule, withSysctl("kernel.msgmax")).join("\n"), /sets sysctl kernel\.msgmax/);
        });

        it("refuse a version that is not a Kubernetes minor, naming the setting", () => {
            assert.throws(
                () => safeSysctls("latest"),
                /^Error: kubernetesVersion: "latest" is not a Kubernetes minor version/,
            );
        });
    });
});
