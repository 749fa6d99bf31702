/**
 * cluster-admin-grants: the platform's own admin access and a team's namespaced access pass; each
 * way to cluster-wide power is refused, one mutation per case, hostile spellings included.
 */
import * as assert from "assert";
import { stringify } from "yaml";
import { clusterAdminGrants } from "../cluster-admin";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const ADMIN = "arn:aws:iam::123456789012:role/platform-admin";
const TEAM = "arn:aws:iam::123456789012:role/ml-research";
const CONFIG = { platformAdminPrincipalArns: [ADMIN] };
// EKS's own names for its access policies (docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html).
const CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy";
const EDIT_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";

const association = resource("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "admin", {
    clusterName: "platform",
    principalArn: ADMIN,
    policyArn: CLUSTER_ADMIN_POLICY,
    accessScope: { type: "cluster" },
});
const teamAssociation = resource("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "team", {
    clusterName: "platform",
    principalArn: TEAM,
    policyArn: EDIT_POLICY,
    accessScope: { type: "namespace", namespaces: ["ml-research"] },
});
const cluster = resource("eks:index:Cluster", "eks", {
    accessEntries: {
        "admin-0": {
            principalArn: ADMIN,
            accessPolicies: { clusterAdmin: { policyArn: CLUSTER_ADMIN_POLICY, accessScope: { type: "cluster" } } },
        },
    },
});
const clusterRole = resource("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "reader", {
    metadata: { name: "gpu-reader" },
    rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] }],
});
const binding = resource("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "reader", {
    metadata: { name: "gpu-reader" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "gpu-reader" },
    subjects: [{ kind: "ServiceAccount", name: "gate", namespace: "budget-gate" }],
});
const PASSING = [association, teamAssociation, cluster, clusterRole, binding];

const message = async (res: ReturnType<typeof resource>) =>
    (await theViolation(clusterAdminGrants, [res], CONFIG)).message;

describe("policies: cluster-admin-grants", () => {
    it("passes the platform's admin access, a team's namespaced edit access, a narrow ClusterRole and its binding", async () => {
        assert.deepStrictEqual(await violationsOf(clusterAdminGrants, PASSING, CONFIG), []);
    });

    describe("EKS access", () => {
        it("refuses AmazonEKSClusterAdminPolicy and AmazonEKSAdminPolicy at cluster scope for any other role", async () => {
            assert.match(
                await message(changed(association, "inputs.principalArn", TEAM)),
                /^AccessPolicyAssociation "admin" gives arn:aws:iam::123456789012:role\/ml-research AmazonEKSClusterAdminPolicy at cluster scope/,
            );
            const admin = changed(changed(association, "inputs.principalArn", TEAM), "inputs.policyArn", ADMIN_POLICY);
            assert.match(await message(admin), /AmazonEKSAdminPolicy at cluster scope/);
        });

        it("reads the policy in every partition, and knows a role by account and name whatever its path", async () => {
            const govCloud = changed(
                changed(association, "inputs.principalArn", TEAM),
                "inputs.policyArn",
                "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            );
            assert.match(await message(govCloud), /AmazonEKSClusterAdminPolicy/);
            const pathed = changed(
                association,
                "inputs.principalArn",
                "arn:aws:iam::123456789012:role/ops/platform-admin",
            );
            assert.deepStrictEqual(await violationsOf(clusterAdminGrants, [pathed], CONFIG), []);
            const otherAccount = changed(
                association,
                "inputs.principalArn",
                "arn:aws:iam::999999999999:role/platform-admin",
            );
            assert.match(await message(otherAccount), /999999999999/);
        });

        it("refuses even the platform's own association when the config names no admin role", async () => {
            assert.equal((await violationsOf(clusterAdminGrants, [association], {})).length, 1);
        });

        it("leaves the admin policies scoped to namespaces to the tenancy rules", async () => {
            const scoped = changed(changed(association, "inputs.principalArn", TEAM), "inputs.accessScope", {
                type: "namespace",
                namespaces: ["ml-research"],
            });
            assert.deepStrictEqual(await violationsOf(clusterAdminGrants, [scoped], CONFIG), []);
        });

        it("refuses the same grant inside the eks.Cluster component's access entries", async () => {
            const entries = changed(cluster, "inputs.accessEntries.admin-0.principalArn", TEAM);
            assert.match(
                await message(entries),
                /^Cluster "eks" accessEntries\["admin-0"\] gives .*ml-research AmazonEKSClusterAdminPolicy/,
            );
        });

        it("refuses an access entry in system:masters", async () => {
            const entry = resource("aws:eks/accessEntry:AccessEntry", "team", {
                clusterName: "platform",
                principalArn: TEAM,
                kubernetesGroups: ["readers", "system:masters"],
            });
            assert.match(await message(entry), /system:masters/);
        });
    });

    describe("Kubernetes RBAC", () => {
        it("refuses a ClusterRoleBinding or RoleBinding to cluster-admin, naming the subjects", async () => {
            const admin = changed(binding, "inputs.roleRef.name", "cluster-admin");
            assert.match(await message(admin), /binds ClusterRole cluster-admin to ServiceAccount gate/);
            const roleBinding = resource("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "rb", {
                metadata: { name: "rb", namespace: "ml-research" },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
                subjects: [{ kind: "Group", name: "ml-research" }],
            });
            assert.match(await message(roleBinding), /binds ClusterRole cluster-admin to Group ml-research/);
        });

        it("refuses a patch that adds subjects to the built-in cluster-admin binding", async () => {
            const patch = resource("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBindingPatch", "more", {
                metadata: { name: "cluster-admin" },
                subjects: [{ kind: "User", name: "mallory" }],
            });
            assert.match(await message(patch), /User mallory/);
        });

        it("refuses wildcard verbs, wildcard resources and the escalating verbs", async () => {
            assert.match(await message(changed(clusterRole, "inputs.rules.0.verbs", ["*"])), /verb "\*" in rules\[0\]/);
            assert.match(await message(changed(clusterRole, "inputs.rules.0.resources", ["*"])), /resource "\*"/);
            assert.match(
                await message(changed(clusterRole, "inputs.rules.0.verbs", ["get", "escalate"])),
                /verb "escalate"/,
            );
            assert.match(
                await message(changed(clusterRole, "inputs.rules.0.verbs", ["impersonate"])),
                /verb "impersonate"/,
            );
            const role = resource("kubernetes:rbac.authorization.k8s.io/v1:Role", "r", {
                metadata: { name: "r", namespace: "ml-research" },
                rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["get"] }],
            });
            assert.match(await message(role), /resource "\*"/);
        });

        it("refuses a ClusterRole that aggregates into the built-in roles, or selects every ClusterRole", async () => {
            const aggregated = changed(clusterRole, "inputs.metadata.labels", {
                "rbac.authorization.k8s.io/aggregate-to-edit": "true",
            });
            assert.match(await message(aggregated), /aggregate-to-edit/);
            const everything = changed(clusterRole, "inputs.aggregationRule", { clusterRoleSelectors: [{}] });
            assert.match(await message(everything), /empty selector/);
        });

        it("judges RBAC objects inside yaml/v2 components", async () => {
            const group = resource("kubernetes:yaml/v2:ConfigGroup", "rbac", {
                yaml: stringify({
                    apiVersion: "rbac.authorization.k8s.io/v1",
                    kind: "ClusterRoleBinding",
                    metadata: { name: "sneaky" },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
                    subjects: [{ kind: "ServiceAccount", name: "default", namespace: "ml-research" }],
                }),
            });
            assert.match(
                await message(group),
                /^ConfigGroup "rbac": ClusterRoleBinding "sneaky" binds ClusterRole cluster-admin/,
            );
        });

        it("exempts the platform's own RBAC objects by name, and takes more admin roles from config", async () => {
            const admin = changed(binding, "inputs.roleRef.name", "cluster-admin");
            assert.deepStrictEqual(
                await violationsOf(clusterAdminGrants, [admin], { ...CONFIG, platformRbacObjects: ["gpu-reader"] }),
                [],
            );
            const custom = changed(binding, "inputs.roleRef.name", "super-user");
            assert.equal(
                (await violationsOf(clusterAdminGrants, [custom], { ...CONFIG, adminRoles: ["super-user"] })).length,
                1,
            );
        });
    });
});
