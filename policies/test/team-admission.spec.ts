import * as assert from "assert";
import { teamNamespaceAdmission } from "../team-admission";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const NS = "ml-research";
const service = resource("kubernetes:core/v1:Service", "api", {
    metadata: { name: "api", namespace: NS },
    spec: { selector: { app: "api" }, ports: [{ port: 80, targetPort: 8080 }] },
});
const deployment = resource("kubernetes:apps/v1:Deployment", "trainer", {
    metadata: { name: "trainer", namespace: NS },
    spec: {
        selector: { matchLabels: { app: "trainer" } },
        template: {
            metadata: { labels: { app: "trainer" } },
            spec: {
                securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                containers: [
                    {
                        name: "main",
                        image: "ghcr.io/acme/trainer:1.0",
                        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                    },
                ],
            },
        },
    },
});
const binding = resource("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "readers", {
    metadata: { name: "readers", namespace: NS },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
    subjects: [{ kind: "Group", name: "ml-research-readers", apiGroup: "rbac.authorization.k8s.io" }],
});
const ingress = resource("kubernetes:networking.k8s.io/v1:Ingress", "web", {
    metadata: { name: "web", namespace: NS },
    spec: {
        ingressClassName: `team-${NS}`,
        rules: [
            {
                http: {
                    paths: [
                        { path: "/", pathType: "Prefix", backend: { service: { name: "api", port: { number: 80 } } } },
                    ],
                },
            },
        ],
    },
});
const externalSecret = resource("kubernetes:external-secrets.io/v1:ExternalSecret", "db", {
    metadata: { name: "db", namespace: NS },
    spec: {
        secretStoreRef: { kind: "SecretStore", name: "team-secrets" },
        target: { name: "db" },
        dataFrom: [{ extract: { key: "dev/teams/ml-research/db" } }],
    },
});
const PASSING = [service, deployment, binding, ingress, externalSecret];

async function oneMessage(res: ReturnType<typeof resource>): Promise<string> {
    return (await theViolation(teamNamespaceAdmission, [res])).message;
}

describe("policies: team-namespace-admission (the cluster's tenancy rules as CEL)", () => {
    it("passes what a team legitimately makes: a ClusterIP Service, a restricted pod, a view binding, its own class and store", async () => {
        assert.deepStrictEqual(await violationsOf(teamNamespaceAdmission, PASSING), []);
    });

    it("refuses a LoadBalancer Service, a NodePort Service and externalIPs", async () => {
        assert.match(await oneMessage(changed(service, "inputs.spec.type", "LoadBalancer")), /is of type LoadBalancer/);
        assert.match(await oneMessage(changed(service, "inputs.spec.type", "NodePort")), /is of type NodePort/);
        assert.match(await oneMessage(changed(service, "inputs.spec.externalIPs", ["10.0.0.9"])), /externalIPs/);
    });

    it("names the object, its namespace and the cluster rule", async () => {
        const message = await oneMessage(changed(service, "inputs.spec.type", "LoadBalancer"));
        assert.match(message, /^Service "api" in team namespace "ml-research": /);
        assert.match(message, /\(admission rule gpu-platform-team-services\)$/);
    });

    it("refuses host access and privileged containers in any pod template", async () => {
        assert.ok(
            (
                await violationsOf(teamNamespaceAdmission, [
                    changed(deployment, "inputs.spec.template.spec.hostNetwork", true),
                ])
            ).length > 0,
        );
        const privileged = changed(deployment, "inputs.spec.template.spec.containers.0.securityContext", {
            privileged: true,
        });
        assert.ok((await violationsOf(teamNamespaceAdmission, [privileged])).length > 0);
        const hostPath = changed(deployment, "inputs.spec.template.spec.volumes", [
            { name: "root", hostPath: { path: "/" } },
        ]);
        assert.ok((await violationsOf(teamNamespaceAdmission, [hostPath])).length > 0);
    });

    it("refuses a RoleBinding to cluster-admin or admin, and one to every authenticated user", async () => {
        assert.match(
            await oneMessage(changed(binding, "inputs.roleRef.name", "cluster-admin")),
            /binds ClusterRole cluster-admin/,
        );
        assert.match(await oneMessage(changed(binding, "inputs.roleRef.name", "admin")), /binds ClusterRole admin/);
        const everyone = changed(binding, "inputs.subjects.0.name", "system:authenticated");
        assert.match(await oneMessage(everyone), /system:authenticated/);
    });

    it("takes the allowed ClusterRoles from config", async () => {
        const admin = changed(binding, "inputs.roleRef.name", "admin");
        assert.deepStrictEqual(
            await violationsOf(teamNamespaceAdmission, [admin], { allowedClusterRoles: ["view", "edit", "admin"] }),
            [],
        );
    });

    it("refuses an Ingress of the portal's class or another team's, and an ExternalSecret naming another store", async () => {
        assert.ok(
            (await violationsOf(teamNamespaceAdmission, [changed(ingress, "inputs.spec.ingressClassName", "alb")]))
                .length > 0,
        );
        assert.ok(
            (
                await violationsOf(teamNamespaceAdmission, [
                    changed(ingress, "inputs.spec.ingressClassName", "team-applied-ml"),
                ])
            ).length > 0,
        );
        const other = changed(externalSecret, "inputs.spec.secretStoreRef", {
            kind: "ClusterSecretStore",
            name: "platform",
        });
        assert.ok((await violationsOf(teamNamespaceAdmission, [other])).length > 0);
    });

    it("refuses a SecretStore of a team's own, whatever its labels, and admits the platform's store by its shape", async () => {
        const store = resource("kubernetes:external-secrets.io/v1:SecretStore", "team-secrets", {
            metadata: { name: "team-secrets", namespace: NS },
            spec: {
                provider: {
                    aws: {
                        service: "SecretsManager",
                        region: "us-east-1",
                        auth: { jwt: { serviceAccountRef: { name: "team-secrets" } } },
                    },
                },
            },
        });
        assert.deepStrictEqual(await violationsOf(teamNamespaceAdmission, [store]), []);
        // No auth block: the operator's own role (external-secrets v2.9.0 providers/v1/aws/auth/auth.go).
        const noAuth = changed(store, "inputs.spec.provider.aws.auth", undefined);
        assert.match(await oneMessage(noAuth), /is not the platform's store/);
        const labelled = changed(noAuth, "inputs.metadata.labels", { "gpu-platform/managed-by": "platform" });
        assert.match(await oneMessage(labelled), /is not the platform's store/);
        const assumed = changed(store, "inputs.spec.provider.aws.role", "arn:aws:iam::123456789012:role/platform");
        assert.match(await oneMessage(assumed), /is not the platform's store/);
    });

    it("judges objects inside a yaml/v2 ConfigGroup the same way", async () => {
        const group = resource("kubernetes:yaml/v2:ConfigGroup", "apps", {
            objs: [
                {
                    apiVersion: "v1",
                    kind: "Service",
                    metadata: { name: "lb", namespace: NS },
                    spec: { type: "LoadBalancer" },
                },
            ],
        });
        assert.match(await oneMessage(group), /ConfigGroup "apps": Service "lb" in team namespace "ml-research"/);
    });

    it("leaves the platform's own namespaces and the cluster's to their own rules", async () => {
        for (const namespace of ["argocd", "kube-system"]) {
            const lb = changed(
                changed(service, "inputs.spec.type", "LoadBalancer"),
                "inputs.metadata.namespace",
                namespace,
            );
            assert.deepStrictEqual(await violationsOf(teamNamespaceAdmission, [lb]), [], namespace);
        }
    });
});
