/**
 * The tenancy admission rules (catalog/admission/tenancy.ts), evaluated as the API server runs
 * them: each rule admits what a team legitimately does and refuses each way out, one mutation per
 * case; and the component turns every rule into a policy and a Deny binding scoped as the rule says.
 */
import * as assert from "assert";
import { named, ofType, record } from "./harness";
import { refusals, selects, tenancyRule } from "./admission";
import { parse } from "@bufbuild/cel";
import { TENANCY_RULES, eksUserName, gpuLimitRule, tenancyRules } from "@gpu-platform/catalog/admission";
import type { AdmissionRequest } from "gpu-dev-platform-policies/lib/admission";
import { TenancyAdmission } from "../components/tenancy";

const TEAM = "ml-research";
const TEAM_LABELS = { "gpu-platform/team": TEAM };
const TEAM_USER = { username: "arn:aws:sts::123456789012:assumed-role/ml-research/alice" };
const ARGO = { username: "system:serviceaccount:argocd:argocd-application-controller" };
const PLATFORM_ROLE = "arn:aws:iam::123456789012:role/ops/platform-deploy";
// eksUserName of PLATFORM_ROLE: the role's path is not part of an assumed-role ARN.
const PLATFORM_USER = { username: "arn:aws:sts::123456789012:assumed-role/platform-deploy/github-actions" };
const SETTINGS = { platformUserPrefixes: ["arn:aws:sts::123456789012:assumed-role/platform-deploy/"] };

type Object = Record<string, any>;

function request(
    kind: string,
    object: Object | null,
    more: Partial<AdmissionRequest> & { group?: string; resource?: string } = {},
): AdmissionRequest {
    return {
        operation: "CREATE",
        group: "",
        version: "v1",
        kind,
        resource: `${kind.toLowerCase()}s`,
        namespace: TEAM,
        namespaceLabels: TEAM_LABELS,
        name: object?.metadata?.name,
        userInfo: TEAM_USER,
        object,
        ...more,
    };
}

const POD_RULE = {
    apiGroups: [""],
    apiVersions: ["v1"],
    operations: ["CREATE" as const, "UPDATE" as const],
    resources: ["pods"],
};
const refused = (name: string, req: AdmissionRequest) => refusals(tenancyRule(name, SETTINGS), req);

describe("tenancy admission rules, evaluated as CEL", () => {
    it("are every one valid CEL: each match condition, variable, validation and message parses", () => {
        for (const rule of [...tenancyRules(SETTINGS), gpuLimitRule([{ name: "training", maxGpusPerPod: 8 }])])
            for (const e of [
                ...(rule.matchConditions ?? []),
                ...(rule.variables ?? []),
                ...rule.validations.flatMap((v) => [{ expression: v.expression }, { expression: v.messageExpression }]),
            ])
                assert.doesNotThrow(() => parse(e.expression), `${rule.name}: ${e.expression}`);
    });

    it("knows the platform's sessions by their assumed-role prefix, a role's path left out, and IAM users exactly", () => {
        assert.deepStrictEqual(eksUserName(PLATFORM_ROLE), { prefix: SETTINGS.platformUserPrefixes[0] });
        assert.deepStrictEqual(eksUserName("arn:aws:sts::123456789012:assumed-role/platform-deploy/s1"), {
            prefix: SETTINGS.platformUserPrefixes[0],
        });
        assert.deepStrictEqual(eksUserName("arn:aws:iam::123456789012:user/bob"), {
            exact: "arn:aws:iam::123456789012:user/bob",
        });
        assert.strictEqual(eksUserName("arn:aws:iam::123456789012:policy/x"), undefined);
    });

    describe("reserved namespace names", () => {
        const ns = (name: string) => ({ metadata: { name } });
        const create = (name: string, userInfo = TEAM_USER) =>
            refused(
                TENANCY_RULES.reservedNamespaces,
                request("Namespace", ns(name), { namespace: undefined, namespaceLabels: {}, userInfo }),
            );

        it("lets anyone create another name, and the platform a reserved one", () => {
            assert.deepStrictEqual(create("team-b"), []);
            assert.deepStrictEqual(create("karpenter", PLATFORM_USER), []);
        });
        it("refuses karpenter, cert-manager, amazon-cloudwatch, argocd and kube-* to anyone else", () => {
            for (const name of [
                "karpenter",
                "cert-manager",
                "amazon-cloudwatch",
                "argocd",
                "kube-backdoor",
                "openshift",
            ])
                assert.match(create(name)[0] ?? "", new RegExp(`^namespace ${name} is reserved`), name);
            assert.strictEqual(create("karpenter", ARGO).length, 1);
        });
    });

    describe("team namespace labels", () => {
        const old = {
            metadata: {
                name: TEAM,
                labels: { ...TEAM_LABELS, "pod-security.kubernetes.io/enforce": "restricted", owner: "alice" },
            },
        };
        const update = (labels: Record<string, string>, userInfo = TEAM_USER) =>
            refused(
                TENANCY_RULES.namespaceLabels,
                request(
                    "Namespace",
                    { metadata: { name: TEAM, labels } },
                    { operation: "UPDATE", oldObject: old, namespace: undefined, userInfo },
                ),
            );

        it("lets a team change its own labels", () => {
            assert.deepStrictEqual(update({ ...old.metadata.labels, owner: "bob" }), []);
        });
        it("refuses a Pod Security change, a removed team label and an added exemption, naming each", () => {
            assert.match(
                update({ ...old.metadata.labels, "pod-security.kubernetes.io/enforce": "privileged" })[0],
                /^namespace ml-research is a team namespace: pod-security.kubernetes.io\/enforce belong to the platform/,
            );
            const withoutTeam: Record<string, string> = { ...old.metadata.labels };
            delete withoutTeam["gpu-platform/team"];
            assert.match(update(withoutTeam)[0], /: gpu-platform\/team belong/);
            assert.match(
                update({ ...old.metadata.labels, "admission.gpu-platform/gpu-platform-team-services": "exempt" })[0],
                /admission.gpu-platform\/gpu-platform-team-services belong/,
            );
        });
        it("lets the platform change them", () => {
            assert.deepStrictEqual(
                update({ ...old.metadata.labels, "pod-security.kubernetes.io/enforce": "baseline" }, PLATFORM_USER),
                [],
            );
        });
    });

    describe("the platform's objects in a team namespace", () => {
        const quota = {
            metadata: { name: "team-quota", namespace: TEAM, labels: { "gpu-platform/managed-by": "platform" } },
            spec: { hard: { "requests.nvidia.com/gpu": "8" } },
        };
        const edit = (operation: "UPDATE" | "DELETE", userInfo = TEAM_USER, object: Object | null = quota) =>
            refused(
                TENANCY_RULES.platformObjects,
                request("ResourceQuota", object, {
                    operation,
                    oldObject: quota,
                    name: "team-quota",
                    resource: "resourcequotas",
                    userInfo,
                }),
            );

        it("refuses a team's, or Argo CD's, edit or deletion of the platform's quota", () => {
            const raised = { ...quota, spec: { hard: { "requests.nvidia.com/gpu": "64" } } };
            assert.match(
                edit("UPDATE", TEAM_USER, raised)[0],
                /^ResourceQuota team-quota in namespace ml-research belongs to the platform/,
            );
            assert.strictEqual(edit("DELETE", ARGO, null).length, 1);
            // Dropping the label does not make it the team's: the old object decides.
            assert.strictEqual(edit("UPDATE", TEAM_USER, { ...quota, metadata: { name: "team-quota" } }).length, 1);
        });
        it("lets the platform change it, and the namespace controller delete it with its namespace", () => {
            assert.deepStrictEqual(edit("UPDATE", PLATFORM_USER), []);
            assert.deepStrictEqual(
                edit("DELETE", { username: "system:serviceaccount:kube-system:namespace-controller" }, null),
                [],
            );
        });
        it("refuses a team's NetworkPolicy that claims the platform's label, and admits one without it", () => {
            const policy = (labels: Record<string, string>) => ({
                metadata: { name: "allow-mlflow", labels },
                spec: { podSelector: {} },
            });
            const create = (labels: Record<string, string>) =>
                refused(
                    TENANCY_RULES.platformObjects,
                    request("NetworkPolicy", policy(labels), {
                        group: "networking.k8s.io",
                        resource: "networkpolicies",
                    }),
                );
            assert.deepStrictEqual(create({}), []);
            assert.strictEqual(create({ "gpu-platform/managed-by": "platform" }).length, 1);
        });
    });

    describe("role bindings", () => {
        const binding = (
            roleRef: Object,
            subjects: Object[] = [{ kind: "ServiceAccount", name: "trainer", namespace: TEAM }],
        ) => ({
            metadata: { name: "b" },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", ...roleRef },
            subjects,
        });
        const create = (object: Object) =>
            refused(
                TENANCY_RULES.roleBindings,
                request("RoleBinding", object, { group: "rbac.authorization.k8s.io", resource: "rolebindings" }),
            );

        it("admits a Role of the namespace and the ClusterRoles view and edit", () => {
            assert.deepStrictEqual(create(binding({ kind: "Role", name: "reader" })), []);
            assert.deepStrictEqual(create(binding({ kind: "ClusterRole", name: "edit" })), []);
        });
        it("refuses cluster-admin, admin and any other ClusterRole", () => {
            for (const role of ["cluster-admin", "admin", "system:controller:namespace-controller"])
                assert.match(
                    create(binding({ kind: "ClusterRole", name: role }))[0],
                    new RegExp(`binds ClusterRole ${role};`),
                );
        });
        it("refuses a binding to every authenticated user or every service account", () => {
            const everyone = binding({ kind: "ClusterRole", name: "view" }, [
                { kind: "Group", name: "system:authenticated" },
                { kind: "Group", name: "system:serviceaccounts" },
            ]);
            assert.deepStrictEqual(create(everyone), [
                "RoleBinding b grants its role to system:authenticated, system:serviceaccounts, that is to every user or workload of the cluster; name the users, groups or service accounts that need it",
            ]);
        });
    });

    describe("services", () => {
        const service = (spec: Object) => ({ metadata: { name: "api" }, spec: { ports: [{ port: 80 }], ...spec } });
        const create = (spec: Object, operation: "CREATE" | "UPDATE" = "CREATE") =>
            refused(TENANCY_RULES.services, request("Service", service(spec), { resource: "services", operation }));

        it("admits ClusterIP and headless Services", () => {
            assert.deepStrictEqual(create({}), []);
            assert.deepStrictEqual(create({ type: "ClusterIP", clusterIP: "None" }), []);
        });
        it("refuses LoadBalancer, NodePort and ExternalName, on creation and on update", () => {
            for (const type of ["LoadBalancer", "NodePort", "ExternalName"])
                assert.match(
                    create({ type })[0],
                    new RegExp(
                        `^Service api is of type ${type}; a team namespace takes ClusterIP Services only: expose HTTP through an Ingress of class team-ml-research`,
                    ),
                );
            assert.strictEqual(create({ type: "LoadBalancer" }, "UPDATE").length, 1);
        });
        it("refuses externalIPs", () => {
            assert.match(create({ externalIPs: ["10.0.0.5"] })[0], /sets spec.externalIPs \(10.0.0.5\)/);
        });
    });

    describe("ingresses", () => {
        const ingress = (spec: Object, annotations: Record<string, string> = {}) => ({
            metadata: { name: "web", annotations },
            spec: { rules: [{ host: "web.internal" }], ...spec },
        });
        const create = (object: Object) =>
            refused(
                TENANCY_RULES.ingresses,
                request("Ingress", object, { group: "networking.k8s.io", resource: "ingresses" }),
            );
        const own = { ingressClassName: "team-ml-research" };

        it("admits an Ingress of the team's class, with its own group and an internal scheme or none", () => {
            assert.deepStrictEqual(create(ingress(own)), []);
            assert.deepStrictEqual(
                create(
                    ingress(own, {
                        "alb.ingress.kubernetes.io/group.name": "team-ml-research",
                        "alb.ingress.kubernetes.io/scheme": "internal",
                    }),
                ),
                [],
            );
        });
        it("refuses the portal's class, another team's and none", () => {
            for (const spec of [{ ingressClassName: "alb" }, { ingressClassName: "team-applied-ml" }, {}])
                assert.match(create(ingress(spec))[0], /set spec.ingressClassName: team-ml-research/);
        });
        it("refuses the portal's group, an internet-facing scheme and the legacy class annotation", () => {
            assert.match(
                create(ingress(own, { "alb.ingress.kubernetes.io/group.name": "portal" }))[0],
                /asks to join ALB group portal;/,
            );
            assert.match(
                create(ingress(own, { "alb.ingress.kubernetes.io/scheme": "internet-facing" }))[0],
                /asks for scheme internet-facing;/,
            );
            assert.match(
                create(ingress(own, { "kubernetes.io/ingress.class": "alb" }))[0],
                /sets the annotation kubernetes.io\/ingress.class/,
            );
        });
    });

    describe("secret stores and references", () => {
        const store = {
            metadata: { name: "team-secrets" },
            spec: {
                provider: {
                    aws: {
                        service: "SecretsManager",
                        region: "us-east-1",
                        auth: { jwt: { serviceAccountRef: { name: "team-secrets" } } },
                    },
                },
            },
        };
        const createStore = (object: Object) =>
            refused(
                TENANCY_RULES.secretStores,
                request("SecretStore", object, { group: "external-secrets.io", resource: "secretstores" }),
            );
        const withAws = (aws: Object) => ({
            ...store,
            spec: { provider: { aws: { ...store.spec.provider.aws, ...aws } } },
        });

        it("admits the platform's store, whoever writes it (it can only read the team's own secrets)", () => {
            assert.deepStrictEqual(createStore(store), []);
        });
        it("refuses a store without auth (the operator's own role), with static keys, another role, another name or another provider", () => {
            const noAuth: Record<string, unknown> = { ...store.spec.provider.aws };
            delete noAuth.auth;
            const variants = [
                { ...store, spec: { provider: { aws: noAuth } } },
                withAws({ auth: { secretRef: { accessKeyIDSecretRef: { name: "k", key: "id" } } } }),
                withAws({ role: "arn:aws:iam::123456789012:role/portal-admin" }),
                withAws({ auth: { jwt: { serviceAccountRef: { name: "other-sa" } } } }),
                { ...store, metadata: { name: "mine" } },
                { ...store, spec: { provider: { vault: { server: "https://vault" } } } },
            ];
            for (const variant of variants)
                assert.match(
                    createStore(variant)[0] ?? "",
                    /is not the platform's store; a team namespace has exactly one, team-secrets/,
                    JSON.stringify(variant),
                );
        });
        it("refuses generators, which authenticate as the operator", () => {
            assert.match(
                refused(
                    TENANCY_RULES.secretStores,
                    request(
                        "ECRAuthorizationToken",
                        { metadata: { name: "ecr" }, spec: { region: "us-east-1" } },
                        { group: "generators.external-secrets.io", resource: "ecrauthorizationtokens" },
                    ),
                )[0],
                /^ECRAuthorizationToken ecr is an External Secrets generator/,
            );
        });

        const externalSecret = (spec: Object) => ({
            metadata: { name: "db" },
            spec: { refreshInterval: "1h", target: { name: "db" }, ...spec },
        });
        const own = {
            secretStoreRef: { kind: "SecretStore", name: "team-secrets" },
            data: [{ secretKey: "password", remoteRef: { key: "gpu-platform-dev/teams/ml-research/db" } }],
        };
        const createEs = (object: Object, kind = "ExternalSecret") =>
            refused(
                TENANCY_RULES.secretReferences,
                request(kind, object, { group: "external-secrets.io", resource: `${kind.toLowerCase()}s` }),
            );

        it("admits an ExternalSecret and a PushSecret naming the team's store", () => {
            assert.deepStrictEqual(createEs(externalSecret(own)), []);
            assert.deepStrictEqual(
                createEs(
                    externalSecret({ secretStoreRefs: [{ name: "team-secrets", kind: "SecretStore" }] }),
                    "PushSecret",
                ),
                [],
            );
        });
        it("refuses the platform's ClusterSecretStore, another store by name, per entry or by label, and a generator", () => {
            assert.match(
                createEs(
                    externalSecret({
                        ...own,
                        secretStoreRef: { kind: "ClusterSecretStore", name: "aws-secrets-manager" },
                    }),
                )[0],
                /^ExternalSecret db names ClusterSecretStore aws-secrets-manager;/,
            );
            assert.match(
                createEs(
                    externalSecret({
                        ...own,
                        dataFrom: [
                            { extract: { key: "x" }, sourceRef: { storeRef: { kind: "SecretStore", name: "stolen" } } },
                        ],
                    }),
                )[0],
                /names SecretStore stolen;/,
            );
            assert.match(
                createEs(
                    externalSecret({ secretStoreRefs: [{ labelSelector: { matchLabels: { a: "b" } } }] }),
                    "PushSecret",
                )[0],
                /names SecretStore \(by label\);/,
            );
            assert.match(
                createEs(
                    externalSecret({
                        ...own,
                        dataFrom: [{ sourceRef: { generatorRef: { kind: "Password", name: "p" } } }],
                    }),
                )[0],
                /uses a generator/,
            );
        });
    });

    describe("host access", () => {
        const pod = (spec: Object) => ({
            kind: "Pod",
            metadata: { name: "p" },
            spec: { containers: [{ name: "main", image: "a:1" }], ...spec },
        });
        const create = (object: Object, kind = "Pod", group = "") =>
            refused(TENANCY_RULES.hostAccess, request(kind, object, { group, resource: `${kind.toLowerCase()}s` }));

        it("admits a plain pod", () => {
            assert.deepStrictEqual(create(pod({})), []);
        });
        it("refuses host namespaces, privileged containers (init ones too), hostPath volumes and host ports", () => {
            assert.match(
                create(pod({ hostNetwork: true, hostPID: true }))[0],
                /^Pod p shares the node's hostNetwork, hostPID;/,
            );
            assert.match(
                create(
                    pod({ initContainers: [{ name: "setup", image: "a:1", securityContext: { privileged: true } }] }),
                )[0],
                /runs privileged containers \(setup\)/,
            );
            assert.match(
                create(pod({ volumes: [{ name: "root", hostPath: { path: "/" } }] }))[0],
                /mounts hostPath volumes \(root\)/,
            );
            assert.match(
                create(
                    pod({ containers: [{ name: "main", image: "a:1", ports: [{ containerPort: 80, hostPort: 80 }] }] }),
                )[0],
                /takes host ports in containers main/,
            );
        });
        it("judges `kubectl debug`: a privileged ephemeral container added through pods/ephemeralcontainers", () => {
            const running = pod({});
            const debugged = pod({
                ephemeralContainers: [
                    {
                        name: "debugger",
                        image: "busybox",
                        targetContainerName: "main",
                        securityContext: { privileged: true },
                    },
                ],
            });
            const debug = request("Pod", debugged, {
                operation: "UPDATE",
                subResource: "ephemeralcontainers",
                oldObject: running,
                namespaceLabels: { ...TEAM_LABELS, "pod-security.kubernetes.io/enforce": "restricted" },
            });
            for (const name of [TENANCY_RULES.hostAccess, TENANCY_RULES.podSecurity])
                assert.ok(selects(tenancyRule(name, SETTINGS), debug), `${name} selects the subresource`);
            // A rule on "pods" alone would not: Kubernetes matches a subresource only by its own name.
            assert.ok(
                !selects({ ...tenancyRule(TENANCY_RULES.hostAccess, SETTINGS), resourceRules: [POD_RULE] }, debug),
            );
            assert.match(
                refused(TENANCY_RULES.hostAccess, debug).join("\n"),
                /runs privileged containers \(debugger\)/,
            );
        });
        it("checks the pod templates of Deployments and CronJobs", () => {
            const template = { template: { spec: { hostPID: true, containers: [{ name: "m", image: "a:1" }] } } };
            assert.strictEqual(
                create({ kind: "Deployment", metadata: { name: "d" }, spec: template }, "Deployment", "apps").length,
                1,
            );
            assert.strictEqual(
                create(
                    {
                        kind: "CronJob",
                        metadata: { name: "c" },
                        spec: { schedule: "@daily", jobTemplate: { spec: template } },
                    },
                    "CronJob",
                    "batch",
                ).length,
                1,
            );
        });
    });

    describe("binding scope", () => {
        it("binds team rules to team namespaces not exempt from them, and cluster rules everywhere", () => {
            const services = tenancyRule(TENANCY_RULES.services);
            const service = request(
                "Service",
                { metadata: { name: "s" }, spec: { type: "LoadBalancer" } },
                { resource: "services" },
            );
            assert.ok(selects(services, service));
            assert.ok(
                !selects(services, { ...service, namespace: "argocd", namespaceLabels: {} }),
                "the platform's namespaces",
            );
            assert.ok(
                !selects(services, {
                    ...service,
                    namespaceLabels: { ...TEAM_LABELS, "admission.gpu-platform/gpu-platform-team-services": "exempt" },
                }),
            );
            assert.ok(!selects(services, { ...service, resource: "configmaps" }));
            const reserved = tenancyRule(TENANCY_RULES.reservedNamespaces);
            assert.ok(
                selects(
                    reserved,
                    request(
                        "Namespace",
                        { metadata: { name: "karpenter" } },
                        { namespace: undefined, namespaceLabels: {} },
                    ),
                ),
            );
        });
    });
});

describe("TenancyAdmission", () => {
    it("makes a policy and a Deny binding per rule, team rules bound to team namespaces, with the deploying identity as the platform", async () => {
        const { resources } = await record(
            () => new TenancyAdmission("tenancy", { platformPrincipalArns: [PLATFORM_ROLE] }),
        );
        const policies = ofType(resources, "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy");
        assert.deepStrictEqual(
            policies.map((p) => (p.inputs as any).metadata.name).sort(),
            Object.values(TENANCY_RULES).sort(),
        );
        const services = named(
            resources,
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
            `tenancy-${TENANCY_RULES.services}-binding`,
        ).inputs as any;
        assert.deepStrictEqual(services.spec, {
            policyName: TENANCY_RULES.services,
            validationActions: ["Deny"],
            matchResources: {
                namespaceSelector: {
                    matchExpressions: [
                        { key: "gpu-platform/team", operator: "Exists" },
                        { key: "admission.gpu-platform/gpu-platform-team-services", operator: "DoesNotExist" },
                    ],
                },
            },
        });
        const labels = named(
            resources,
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
            `tenancy-${TENANCY_RULES.namespaceLabels}`,
        ).inputs as any;
        const actor = labels.spec.variables.find((v: any) => v.name === "platformActor").expression;
        assert.ok(actor.includes('"arn:aws:sts::123456789012:assumed-role/platform-deploy/"'), actor);
        assert.strictEqual(labels.spec.failurePolicy, "Fail");
    });

    it("refuses a principal that is not an IAM role or user, and cluster-admin among the bindable roles", () => {
        assert.throws(
            () =>
                new TenancyAdmission("bad", {
                    platformPrincipalArns: ["platform-deploy"],
                    allowedClusterRoles: ["view", "cluster-admin"],
                }),
            (err: any) =>
                err.errors.map((e: any) => e.propertyPath).join() === "platformPrincipalArns[0],allowedClusterRoles[1]",
        );
    });

    it("judges sysctls by the cluster's Kubernetes version: net.ipv4.tcp_rmem is safe from 1.32 on (pod-security-admission check_sysctls.go)", async () => {
        const { resources } = await record(
            () =>
                new TenancyAdmission("tenancy", { platformPrincipalArns: [PLATFORM_ROLE], kubernetesVersion: "1.35" }),
        );
        const rule = named(
            resources,
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
            `tenancy-${TENANCY_RULES.podSecurity}`,
        ).inputs as any;
        const baseline = rule.spec.variables.find((v: any) => v.name === "baselineProblems").expression as string;
        assert.ok(baseline.includes('"net.ipv4.tcp_rmem"'), baseline);
        assert.ok(!baseline.includes('"kernel.msgmax"'), baseline);
    });

    it("refuses a Kubernetes version EKS does not offer, naming the key", () => {
        assert.throws(
            () => new TenancyAdmission("bad", { kubernetesVersion: "1.29" }),
            (err: any) =>
                err.errors.map((e: any) => e.propertyPath).join() === "kubernetesVersion" &&
                /"1\.29" is not a Kubernetes version EKS offers/.test(err.errors[0].reason ?? err.message),
        );
    });
});
