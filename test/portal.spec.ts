import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { named, ofType, record } from "./harness";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import {
    ArgoCd,
    Backstage,
    ExternalSecrets,
    GitOps,
    LoadBalancerController,
    Mlflow,
    ServiceDatabases,
    albAnnotations,
    argoCdPolicyCsv,
    backstageImage,
    loadBalancerControllerStatements,
} from "../components/portal";
import type { PortalClassScope } from "../components/portal";
import { SERVICE_DATABASE_SQL } from "../components/portal/service-databases";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const OIDC = {
    arn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
    url: "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
};
const SECRET = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
const REPO = "https://github.com/acme/gpu-platform-gitops.git";

const valuesOf = (resources: RecordedResource[], name: string) =>
    (named(resources, RELEASE, name).inputs as any).values;
const policyOf = (resources: RecordedResource[], name: string) =>
    JSON.parse(named(resources, ROLE_POLICY, name).inputs.policy as string);
const trustOf = (resources: RecordedResource[], name: string) =>
    JSON.parse(named(resources, "aws:iam/role:Role", name).inputs.assumeRolePolicy as string).Statement[0];

const VPC_CIDR = "10.0.0.0/16";
const PORTAL_CLASS: PortalClassScope = { scheme: "internal", groupName: "portal", inboundCidrs: [VPC_CIDR] };

/** What the portal's components need from each other, as plain stand-ins. */
function collaborators() {
    const controller = new LoadBalancerController("lbc", {
        clusterName: "gpu-platform-dev",
        region: "us-east-1",
        vpcId: "vpc-1",
        vpcCidr: VPC_CIDR,
        oidc: OIDC,
        portalClass: PORTAL_CLASS,
    });
    const eso = new ExternalSecrets("eso", {
        oidc: OIDC,
        region: "us-east-1",
        namespaces: ["argocd", "backstage", "mlflow"],
    });
    return { controller, eso };
}

describe("portal: AWS Load Balancer Controller", () => {
    it("lets only the portal's namespaces use its class, with the scheme, group and sources fixed by the class", async () => {
        const { resources } = await record(
            () =>
                new LoadBalancerController("lbc", {
                    clusterName: "gpu-platform-dev",
                    region: "us-east-1",
                    vpcId: "vpc-1",
                    vpcCidr: VPC_CIDR,
                    oidc: OIDC,
                    portalClass: PORTAL_CLASS,
                }),
        );
        const params = valuesOf(resources, "lbc-release").ingressClassParams;
        assert.strictEqual(params.create, true);
        // The catalog's portal namespaces (catalog/kubernetes-names.ts PORTAL_NAMESPACES); no team's.
        assert.deepStrictEqual(params.spec.namespaceSelector, {
            matchExpressions: [
                {
                    key: "kubernetes.io/metadata.name",
                    operator: "In",
                    values: ["argocd", "backstage", "mlflow", "external-secrets", "portal-databases"],
                },
            ],
        });
        assert.strictEqual(params.spec.scheme, "internal");
        assert.deepStrictEqual(params.spec.group, { name: "portal" });
        assert.deepStrictEqual(params.spec.inboundCIDRs, ["10.0.0.0/16"]);
        assert.ok(!JSON.stringify(params).includes("0.0.0.0/0"));
    });

    it("gives each team namespace a class of its own: that namespace only, internal, its own group, the VPC's range", async () => {
        const { resources } = await record(
            () =>
                new LoadBalancerController("lbc", {
                    clusterName: "gpu-platform-dev",
                    region: "us-east-1",
                    vpcId: "vpc-1",
                    vpcCidr: VPC_CIDR,
                    oidc: OIDC,
                    portalClass: PORTAL_CLASS,
                    teamNamespaces: ["ml-research", "applied-ml"],
                }),
        );
        const classes = ofType(resources, "kubernetes:networking.k8s.io/v1:IngressClass");
        assert.deepStrictEqual(classes.map((c) => (c.inputs as any).metadata.name).sort(), [
            "team-applied-ml",
            "team-ml-research",
        ]);
        const cls = named(resources, "kubernetes:networking.k8s.io/v1:IngressClass", "lbc-team-ml-research")
            .inputs as any;
        assert.deepStrictEqual(cls.spec, {
            controller: "ingress.k8s.aws/alb",
            parameters: { apiGroup: "elbv2.k8s.aws", kind: "IngressClassParams", name: "team-ml-research" },
        });
        const params = named(
            resources,
            "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams",
            "lbc-team-ml-research-params",
        ).inputs as any;
        assert.deepStrictEqual(params.spec, {
            namespaceSelector: {
                matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["ml-research"] }],
            },
            scheme: "internal",
            group: { name: "team-ml-research" },
            inboundCIDRs: ["10.0.0.0/16"],
        });
    });

    it("carries the controller's documented IAM policy, statement by statement (docs/install/iam_policy.json at v3.5.0)", () => {
        // Expected: the research notes' reading of the file (16 statements, action counts, resources, conditions).
        const expected: [number, string | string[], Record<string, unknown> | undefined][] = [
            [1, "*", { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } }],
            [29, "*", undefined],
            [17, "*", undefined],
            [2, "*", undefined],
            [1, "*", undefined],
            [
                1,
                "arn:aws:ec2:*:*:security-group/*",
                {
                    StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" },
                    Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" },
                },
            ],
            [
                2,
                "arn:aws:ec2:*:*:security-group/*",
                {
                    Null: {
                        "aws:RequestTag/elbv2.k8s.aws/cluster": "true",
                        "aws:ResourceTag/elbv2.k8s.aws/cluster": "false",
                    },
                },
            ],
            [3, "*", { Null: { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" } }],
            [2, "*", { Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" } }],
            [4, "*", undefined],
            [
                2,
                [
                    "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
                    "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
                    "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
                ],
                {
                    Null: {
                        "aws:RequestTag/elbv2.k8s.aws/cluster": "true",
                        "aws:ResourceTag/elbv2.k8s.aws/cluster": "false",
                    },
                },
            ],
            [
                2,
                [
                    "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*",
                    "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*",
                    "arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
                    "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
                ],
                undefined,
            ],
            [11, "*", { Null: { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" } }],
            [
                1,
                [
                    "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
                    "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
                    "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
                ],
                {
                    StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"] },
                    Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" },
                },
            ],
            [2, "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*", undefined],
            [6, "*", undefined],
        ];
        const statements = loadBalancerControllerStatements("aws");
        assert.strictEqual(statements.length, 16);
        statements.forEach((s, i) => {
            assert.strictEqual(s.Effect, "Allow", `statement ${i}`);
            assert.strictEqual((s.Action as string[]).length, expected[i][0], `statement ${i}: actions`);
            assert.strictEqual(new Set(s.Action as string[]).size, expected[i][0], `statement ${i}: no action twice`);
            assert.deepStrictEqual(s.Resource, expected[i][1], `statement ${i}: resources`);
            assert.deepStrictEqual(s.Condition, expected[i][2], `statement ${i}: condition`);
        });
        // Spot checks of actions the notes list by name.
        assert.ok((statements[1].Action as string[]).includes("elasticloadbalancing:DescribeCapacityReservation"));
        assert.deepStrictEqual(statements[9].Action, [
            "elasticloadbalancing:CreateListener",
            "elasticloadbalancing:DeleteListener",
            "elasticloadbalancing:CreateRule",
            "elasticloadbalancing:DeleteRule",
        ]);
        assert.ok((statements[15].Action as string[]).includes("elasticloadbalancing:SetRulePriorities"));
    });

    it("uses the region's partition in its ARNs", () => {
        const statements = loadBalancerControllerStatements("aws-us-gov");
        assert.strictEqual(statements[5].Resource, "arn:aws-us-gov:ec2:*:*:security-group/*");
    });

    it("runs as one IRSA service account, with IP targets, the budget tags, and the service mutator webhook off", async () => {
        const { resources } = await record(
            () =>
                new LoadBalancerController("lbc", {
                    clusterName: "gpu-platform-dev",
                    region: "us-east-1",
                    vpcId: "vpc-1",
                    vpcCidr: VPC_CIDR,
                    oidc: OIDC,
                    defaultTags: { team: "platform" },
                    portalClass: PORTAL_CLASS,
                }),
        );
        const trust = trustOf(resources, "lbc-irsa-role");
        assert.strictEqual(
            trust.Condition.StringEquals[`${OIDC.url}:sub`],
            "system:serviceaccount:kube-system:aws-load-balancer-controller",
        );
        assert.strictEqual(policyOf(resources, "lbc-irsa-policy").Statement.length, 16);
        const values = valuesOf(resources, "lbc-release");
        assert.strictEqual(values.clusterName, "gpu-platform-dev");
        assert.strictEqual(values.region, "us-east-1");
        assert.strictEqual(values.vpcId, "vpc-1");
        assert.strictEqual(values.serviceAccount.name, "aws-load-balancer-controller");
        assert.strictEqual(values.defaultTargetType, "ip");
        assert.strictEqual(
            values.enableServiceMutatorWebhook,
            false,
            "a not-ready controller must not block every Service in the cluster",
        );
        assert.deepStrictEqual(values.defaultTags, { team: "platform" });
        assert.strictEqual(named(resources, RELEASE, "lbc-release").inputs.namespace, "kube-system");
    });
});

describe("portal: ingresses", () => {
    it("are internal ALBs on one shared group by default, HTTP inside the VPC", () => {
        assert.deepStrictEqual(albAnnotations({ healthCheckPath: "/healthz", settings: {} }), {
            "alb.ingress.kubernetes.io/scheme": "internal",
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/group.name": "portal",
            "alb.ingress.kubernetes.io/healthcheck-path": "/healthz",
            "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80}]',
        });
    });

    it("face the internet only when asked, admitting the given ranges, with HTTPS when a certificate is given", () => {
        const cert = "arn:aws:acm:us-east-1:123456789012:certificate/abc";
        const annotations = albAnnotations(
            {
                healthCheckPath: "/",
                settings: { scheme: "internet-facing", allowedCidrs: ["198.51.100.0/24"], certificateArn: cert },
            },
            cert,
        );
        assert.strictEqual(annotations["alb.ingress.kubernetes.io/scheme"], "internet-facing");
        assert.strictEqual(annotations["alb.ingress.kubernetes.io/group.name"], "portal-public");
        assert.strictEqual(annotations["alb.ingress.kubernetes.io/inbound-cidrs"], "198.51.100.0/24");
        assert.strictEqual(annotations["alb.ingress.kubernetes.io/certificate-arn"], cert);
        assert.strictEqual(annotations["alb.ingress.kubernetes.io/ssl-redirect"], "443");
        assert.strictEqual(
            annotations["alb.ingress.kubernetes.io/ssl-policy"],
            "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "not the controller's default, which allows TLS 1.0",
        );
    });
});

describe("portal: External Secrets Operator", () => {
    it("may read exactly the secrets the stack syncs, each granted beside its ExternalSecret, for exactly the portal's namespaces", async () => {
        const { resources } = await record(() => {
            const { controller, eso } = collaborators();
            const argoCd = new ArgoCd("argocd", {
                host: "argocd.example.internal",
                loadBalancerController: controller.release,
                externalSecrets: eso,
                sso: {
                    provider: "oidc",
                    issuer: "https://login.example.com",
                    clientId: "argocd",
                    clientSecretArn: SECRET("argocd-sso"),
                },
            });
            return new GitOps("gitops", {
                argoCd,
                externalSecrets: eso,
                repoUrl: REPO,
                credentialsSecretArn: SECRET("gitops-repo"),
                teams: [],
            });
        });
        const role = named(resources, "aws:iam/role:Role", "eso-irsa-role");
        assert.strictEqual(
            JSON.parse(role.inputs.assumeRolePolicy as string).Statement[0].Condition.StringEquals[`${OIDC.url}:sub`],
            "system:serviceaccount:external-secrets:external-secrets",
        );
        // The fake cloud gives a role the id "<name>-placeholder-id".
        const grants = ofType(resources, ROLE_POLICY).filter((p) => p.inputs.role === "eso-irsa-role-placeholder-id");
        assert.deepStrictEqual(
            grants.map((g) => g.name).sort(),
            ["argocd-sso-secret-read", "gitops-repository-read"],
            "no policy of its own: one grant per synced secret",
        );
        const resourcesGranted = grants.flatMap((g) =>
            JSON.parse(g.inputs.policy as string).Statement.flatMap((st: any) => st.Resource),
        );
        assert.deepStrictEqual(resourcesGranted.sort(), [SECRET("argocd-sso"), SECRET("gitops-repo")]);
        assert.deepStrictEqual(JSON.parse(grants[0].inputs.policy as string).Statement[0].Action, [
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetResourcePolicy",
            "secretsmanager:ListSecretVersionIds",
        ]);
        const store = named(resources, "kubernetes:external-secrets.io/v1:ClusterSecretStore", "eso-store")
            .inputs as any;
        assert.deepStrictEqual(store.spec, {
            provider: { aws: { service: "SecretsManager", region: "us-east-1" } },
            conditions: [{ namespaces: ["argocd", "backstage", "mlflow"] }],
        });
        assert.strictEqual(valuesOf(resources, "eso-release").installCRDs, true);
        const secret = named(resources, EXTERNAL_SECRET, "gitops-repository");
        assert.ok(
            secret.dependencies.includes(named(resources, ROLE_POLICY, "gitops-repository-read").urn),
            "syncs once it may read",
        );
    });

    it("refuses an empty list of namespaces before creating anything", async () => {
        const { resources } = await record(() =>
            assert.throws(
                () => new ExternalSecrets("eso", { oidc: OIDC, region: "us-east-1", namespaces: [] }),
                (err: any) =>
                    err instanceof pulumi.InputPropertiesError &&
                    err.errors.map((e: any) => e.propertyPath).join() === "namespaces",
            ),
        );
        assert.deepStrictEqual(resources, []);
    });
});

describe("portal: Argo CD", () => {
    const sso = {
        provider: "oidc" as const,
        issuer: "https://login.example.com",
        clientId: "argocd",
        clientSecretArn: SECRET("argocd-sso"),
    };

    it("in dev: one replica of each part, local admin, no Redis HA", async () => {
        const { resources } = await record(() => {
            const { controller } = collaborators();
            return new ArgoCd("argocd", {
                host: "argocd.dev.example.internal",
                loadBalancerController: controller.release,
            });
        });
        const values = valuesOf(resources, "argocd-release");
        assert.strictEqual(values["redis-ha"].enabled, false);
        assert.deepStrictEqual(
            [
                values.server.replicas,
                values.repoServer.replicas,
                values.applicationSet.replicas,
                values.controller.replicas,
            ],
            [1, 1, 1, 1],
        );
        assert.strictEqual(values.configs.cm["admin.enabled"], true);
        assert.strictEqual(values.configs.cm.url, "http://argocd.dev.example.internal");
        assert.strictEqual(values.dex.enabled, false);
    });

    it("in prod: Redis HA, two servers, repo servers and ApplicationSet controllers, SSO through OIDC and the local admin off", async () => {
        const { resources } = await record(() => {
            const { controller, eso } = collaborators();
            return new ArgoCd("argocd", {
                host: "argocd.example.internal",
                ingress: { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc" },
                loadBalancerController: controller.release,
                externalSecrets: eso,
                highAvailability: true,
                adminEnabled: false,
                sso,
                teams: [{ name: "ml-research", group: "ml-research-engineers" }],
            });
        });
        const values = valuesOf(resources, "argocd-release");
        assert.strictEqual(values["redis-ha"].enabled, true);
        assert.deepStrictEqual(
            [
                values.server.replicas,
                values.repoServer.replicas,
                values.applicationSet.replicas,
                values.controller.replicas,
            ],
            [2, 2, 2, 1],
        );
        assert.strictEqual(values.configs.cm["admin.enabled"], false);
        assert.strictEqual(values.configs.cm.url, "https://argocd.example.internal");
        assert.deepStrictEqual(parse(values.configs.cm["oidc.config"]), {
            name: "SSO",
            issuer: "https://login.example.com",
            clientID: "argocd",
            clientSecret: "$argocd-sso:clientSecret",
            requestedScopes: ["openid", "profile", "email", "groups"],
        });
        const secret = named(resources, EXTERNAL_SECRET, "argocd-sso-secret").inputs as any;
        assert.strictEqual(secret.spec.target.name, "argocd-sso");
        assert.deepStrictEqual(
            secret.spec.target.template.metadata.labels,
            { "app.kubernetes.io/part-of": "argocd" },
            "Argo CD resolves $secret:key only in Secrets with this label",
        );
        assert.deepStrictEqual(secret.spec.data, [
            { secretKey: "clientSecret", remoteRef: { key: SECRET("argocd-sso"), property: "clientSecret" } },
        ]);
        assert.strictEqual(values.configs.params["server.insecure"], true, "TLS ends at the ALB");
        assert.strictEqual(values.global.networkPolicy.create, true);
    });

    it("maps each team's group to its own project only; nothing by default", () => {
        assert.strictEqual(
            argoCdPolicyCsv([{ name: "ml-research", group: "ml-eng" }], ["platform-admins"], ["backstage"]),
            [
                "p, role:team-ml-research, applications, get, ml-research/*, allow",
                "p, role:team-ml-research, applications, sync, ml-research/*, allow",
                "p, role:team-ml-research, applications, action/*, ml-research/*, allow",
                "p, role:team-ml-research, logs, get, ml-research/*, allow",
                "p, role:team-ml-research, projects, get, ml-research, allow",
                "g, ml-eng, role:team-ml-research",
                "g, platform-admins, role:admin",
                "g, backstage, role:readonly",
                "",
            ].join("\n"),
        );
    });

    it("points Dex connectors at the synced client secret", async () => {
        const { resources } = await record(() => {
            const { controller, eso } = collaborators();
            return new ArgoCd("argocd", {
                host: "argocd.example.internal",
                loadBalancerController: controller.release,
                externalSecrets: eso,
                sso: {
                    provider: "dex",
                    connectors: [
                        {
                            type: "github",
                            id: "github",
                            name: "GitHub",
                            config: { clientID: "abc", orgs: [{ name: "acme" }] },
                        },
                    ],
                    clientSecretArn: SECRET("dex"),
                },
            });
        });
        const values = valuesOf(resources, "argocd-release");
        assert.strictEqual(values.dex.enabled, true);
        assert.deepStrictEqual(parse(values.configs.cm["dex.config"]).connectors[0].config, {
            clientID: "abc",
            orgs: [{ name: "acme" }],
            clientSecret: "$argocd-sso:clientSecret",
        });
    });

    it("serves its UI through an internal ALB ingress, created after the controller and the release", async () => {
        const { resources } = await record(() => {
            const { controller } = collaborators();
            return new ArgoCd("argocd", {
                host: "argocd.dev.example.internal",
                loadBalancerController: controller.release,
            });
        });
        const ingress = named(resources, INGRESS, "argocd-ingress");
        const spec = (ingress.inputs as any).spec;
        assert.strictEqual(spec.ingressClassName, "alb");
        assert.deepStrictEqual(spec.rules[0].http.paths[0].backend, {
            service: { name: "argocd-server", port: { number: 80 } },
        });
        assert.strictEqual(
            (ingress.inputs as any).metadata.annotations["alb.ingress.kubernetes.io/scheme"],
            "internal",
        );
        const urns = ["lbc-release", "argocd-release"].map((release) => named(resources, RELEASE, release).urn);
        assert.ok(
            urns.every((urn) => ingress.dependencies.includes(urn)),
            "waits for the controller's webhook and Argo CD's Service",
        );
    });

    it("refuses a disabled admin without SSO, SSO without the secrets operator, and a Dex client secret in config", async () => {
        const { resources } = await record(() =>
            assert.throws(
                () =>
                    new ArgoCd("argocd", {
                        host: "argocd.example.internal",
                        loadBalancerController: new pulumi.ComponentResource("test:index:Stub", "stub"),
                        adminEnabled: false,
                    }),
                (err: any) => err.errors.map((e: any) => e.propertyPath).join() === "adminEnabled",
            ),
        );
        assert.deepStrictEqual(ofType(resources, RELEASE), []);
        assert.throws(
            () =>
                new ArgoCd("argocd2", {
                    host: "argocd.example.internal",
                    loadBalancerController: new pulumi.ComponentResource("test:index:Stub", "stub2"),
                    sso: {
                        provider: "dex",
                        connectors: [{ type: "github", id: "g", name: "G", config: { clientSecret: "hunter2" } }],
                        clientSecretArn: SECRET("dex"),
                    },
                }),
            (err: any) =>
                err.errors.map((e: any) => e.propertyPath).join() ===
                "externalSecrets,sso.connectors[0].config.clientSecret",
        );
    });
});

describe("portal: GitOps (an ApplicationSet and an AppProject per team)", () => {
    let resources: RecordedResource[];
    before(async () => {
        ({ resources } = await record(() => {
            const { controller, eso } = collaborators();
            const argoCd = new ArgoCd("argocd", {
                host: "argocd.dev.example.internal",
                loadBalancerController: controller.release,
            });
            return new GitOps("gitops", {
                argoCd,
                externalSecrets: eso,
                repoUrl: REPO,
                credentialsSecretArn: SECRET("gitops-repo"),
                teams: [
                    { name: "ml-research", namespace: "ml-research" },
                    { name: "applied-ml", namespace: "applied-ml" },
                ],
            });
        }));
    });

    it("is a separate argocd-apps release that waits for the argo-cd release and its CRDs", () => {
        const release = named(resources, RELEASE, "gitops-release");
        assert.strictEqual(release.inputs.chart, "argocd-apps");
        assert.strictEqual(release.inputs.version, "2.0.5");
        assert.ok(release.dependencies.includes(named(resources, RELEASE, "argocd-release").urn));
    });

    it("has no app of apps: no Application and no project but the teams'", () => {
        const values = valuesOf(resources, "gitops-release");
        assert.strictEqual(values.applications, undefined);
        assert.deepStrictEqual(Object.keys(values.projects).sort(), ["applied-ml", "ml-research"]);
        assert.deepStrictEqual(Object.keys(values.applicationsets).sort(), ["applied-ml", "ml-research"]);
    });

    it("pins each team's applications to its project and namespace: the generator reads apps/<team>/*, the template names both as literals", () => {
        const set = valuesOf(resources, "gitops-release").applicationsets["ml-research"];
        assert.deepStrictEqual(set.generators, [
            { git: { repoURL: REPO, revision: "main", directories: [{ path: "apps/ml-research/*" }] } },
        ]);
        assert.strictEqual(set.template.spec.project, "ml-research");
        assert.deepStrictEqual(set.template.spec.destination, {
            server: "https://kubernetes.default.svc",
            namespace: "ml-research",
        });
        assert.strictEqual(set.template.spec.source.path, "{{ .path.path }}");
        assert.strictEqual(set.template.metadata.name, "ml-research.{{ .path.basenameNormalized }}");
        assert.deepStrictEqual(set.goTemplateOptions, ["missingkey=error"]);
        assert.strictEqual(
            valuesOf(resources, "gitops-release").applicationsets["applied-ml"].template.spec.project,
            "applied-ml",
        );
    });

    it("gives each team one AppProject: its own namespace on this cluster, the GitOps repository, no cluster-scoped kinds, an allowlist without stores, quotas or Argo CD kinds", () => {
        const projects = valuesOf(resources, "gitops-release").projects;
        const team = projects["ml-research"];
        assert.deepStrictEqual(team.destinations, [
            { server: "https://kubernetes.default.svc", namespace: "ml-research" },
        ]);
        assert.deepStrictEqual(
            team.sourceRepos,
            [REPO, REPO.replace(/\.git$/, "")],
            "the URL as Applications may name it, with or without .git",
        );
        assert.strictEqual(
            team.clusterResourceWhitelist,
            undefined,
            "an AppProject without one allows no cluster-scoped kind",
        );
        assert.strictEqual(team.namespaceResourceBlacklist, undefined);
        const kinds = team.namespaceResourceWhitelist.map((k: any) => `${k.group}/${k.kind}`);
        for (const kind of [
            "/Service",
            "apps/Deployment",
            "batch/Job",
            "external-secrets.io/ExternalSecret",
            "networking.k8s.io/Ingress",
        ])
            assert.ok(kinds.includes(kind), kind);
        for (const kind of [
            "/ResourceQuota",
            "/LimitRange",
            "external-secrets.io/SecretStore",
            "external-secrets.io/ClusterSecretStore",
            "argoproj.io/Application",
            "argoproj.io/ApplicationSet",
            "kueue.x-k8s.io/LocalQueue",
            "keda.sh/TriggerAuthentication",
            "rbac.authorization.k8s.io/Role",
            "rbac.authorization.k8s.io/RoleBinding",
        ])
            assert.ok(!kinds.includes(kind), kind);
        assert.ok(!kinds.some((k: string) => k.includes("*")), "no wildcard");
    });

    it("empties Argo CD's default project, which would otherwise allow everything", () => {
        const patch = named(resources, "kubernetes:argoproj.io/v1alpha1:AppProjectPatch", "gitops-default-project")
            .inputs as any;
        assert.strictEqual(patch.metadata.name, "default");
        assert.deepStrictEqual(patch.spec.destinations, []);
        assert.deepStrictEqual(patch.spec.sourceRepos, []);
        assert.deepStrictEqual(patch.spec.namespaceResourceBlacklist, [{ group: "*", kind: "*" }]);
    });

    it("takes the repository credentials from Secrets Manager into a Secret labelled as an Argo CD repository, never from values", () => {
        const secret = named(resources, EXTERNAL_SECRET, "gitops-repository").inputs as any;
        assert.strictEqual(secret.metadata.namespace, "argocd");
        assert.deepStrictEqual(secret.spec.target.template.metadata.labels, {
            "argocd.argoproj.io/secret-type": "repository",
        });
        assert.deepStrictEqual(secret.spec.target.template.data, { type: "git", url: REPO });
        assert.deepStrictEqual(secret.spec.dataFrom, [{ extract: { key: SECRET("gitops-repo") } }]);
        assert.strictEqual(JSON.stringify(valuesOf(resources, "argocd-release").configs.repositories), undefined);
    });

    it("refuses a team named like the platform's projects, a namespace pattern and a repository URL with a wildcard", () => {
        assert.throws(
            () =>
                new GitOps("bad", {
                    argoCd: { release: undefined as any },
                    externalSecrets: undefined as any,
                    repoUrl: "https://github.com/*",
                    credentialsSecretArn: SECRET("x"),
                    teams: [
                        { name: "default", namespace: "default" },
                        { name: "a", namespace: "team-*" },
                    ],
                }),
            (err: any) =>
                err.errors.map((e: any) => e.propertyPath).join() === "repoUrl,teams[0].name,teams[1].namespace",
        );
    });
});

describe("portal: MLflow", () => {
    async function build(protect: boolean, transformations: pulumi.ResourceTransformation[] = []) {
        return record(() => {
            const { controller, eso } = collaborators();
            return new Mlflow(
                "mlflow",
                {
                    oidc: OIDC,
                    region: "us-east-1",
                    host: "mlflow.dev.example.internal",
                    loadBalancerController: controller.release,
                    externalSecrets: eso,
                    database: {
                        host: "portal-db.example.internal",
                        port: 5432,
                        region: "us-east-1",
                        name: "mlflow",
                        credentialsSecretArn: SECRET("mlflow-database"),
                    },
                    auth: {
                        database: {
                            host: "portal-db.example.internal",
                            port: 5432,
                            region: "us-east-1",
                            name: "mlflow_auth",
                            credentialsSecretArn: SECRET("mlflow_auth-database"),
                        },
                        secretNamePrefix: "gpu-platform-dev/portal",
                        teams: ["ml-research", "applied-ml"],
                        teamSecretsPrefix: "gpu-platform-dev",
                    },
                    protect,
                },
                { transformations },
            );
        });
    }

    it("keeps artifacts in a bucket of its own: encrypted, versioned, public access blocked, TLS only", async () => {
        const { resources } = await build(false);
        const block = named(
            resources,
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "mlflow-artifacts-public-access",
        ).inputs;
        assert.deepStrictEqual(
            [block.blockPublicAcls, block.blockPublicPolicy, block.ignorePublicAcls, block.restrictPublicBuckets],
            [true, true, true, true],
        );
        const sse = named(
            resources,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "mlflow-artifacts-encryption",
        ).inputs as any;
        assert.strictEqual(sse.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
        assert.strictEqual(
            (named(resources, "aws:s3/bucketVersioning:BucketVersioning", "mlflow-artifacts-versioning").inputs as any)
                .versioningConfiguration.status,
            "Enabled",
        );
    });

    it("protects and retains the bucket when asked (the platform asks in prod), and only then", async () => {
        for (const protect of [true, false]) {
            const options: Record<string, pulumi.CustomResourceOptions> = {};
            await build(protect, [({ name, opts }) => void (options[name] = opts)]);
            assert.strictEqual(options["mlflow-artifacts"].protect ?? false, protect);
            assert.strictEqual(options["mlflow-artifacts"].retainOnDelete ?? false, protect);
        }
    });

    it("serves artifacts through the server, whose IRSA role reaches exactly that bucket", async () => {
        const { resources } = await build(false);
        const bucketArn = named(resources, "aws:s3/bucket:Bucket", "mlflow-artifacts").outputs.arn;
        assert.strictEqual(
            trustOf(resources, "mlflow-irsa-role").Condition.StringEquals[`${OIDC.url}:sub`],
            "system:serviceaccount:mlflow:mlflow",
        );
        assert.deepStrictEqual(policyOf(resources, "mlflow-irsa-policy").Statement, [
            { Sid: "ListArtifacts", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn] },
            {
                Sid: "ReadWriteArtifacts",
                Effect: "Allow",
                Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                Resource: [`${String(bucketArn)}/*`],
            },
        ]);
        const values = valuesOf(resources, "mlflow-release");
        assert.strictEqual(values.artifactRoot.proxiedArtifactStorage, true);
        assert.deepStrictEqual(values.artifactRoot.s3, {
            enabled: true,
            bucket: named(resources, "aws:s3/bucket:Bucket", "mlflow-artifacts").outputs.bucket,
            path: "artifacts",
        });
        assert.ok(
            !JSON.stringify(values).includes("MLFLOW_S3_ENDPOINT_URL"),
            "clients must not be pointed at S3 (mlflow#6181)",
        );
        assert.strictEqual(
            values.serviceAccount.annotations["eks.amazonaws.com/role-arn"],
            named(resources, "aws:iam/role:Role", "mlflow-irsa-role").outputs.arn,
        );
    });

    it("keeps its backend store in its own database, with credentials synced from Secrets Manager", async () => {
        const { resources } = await build(false);
        const values = valuesOf(resources, "mlflow-release");
        assert.deepStrictEqual(values.backendStore.postgres, {
            enabled: true,
            host: "portal-db.example.internal",
            port: 5432,
            database: "mlflow",
        });
        assert.deepStrictEqual(values.backendStore.existingDatabaseSecret, {
            name: "mlflow-db",
            usernameKey: "username",
            passwordKey: "password",
        });
        const secret = named(resources, EXTERNAL_SECRET, "mlflow-database-secret").inputs as any;
        assert.strictEqual(secret.spec.data[1].remoteRef.key, SECRET("mlflow-database"));
    });

    it("accepts its ingress host and its Service's names in the Host header check (the portal proxy sends the Service's)", async () => {
        const { resources } = await build(false);
        assert.deepStrictEqual(valuesOf(resources, "mlflow-release").serverAllowedHosts, [
            "mlflow.dev.example.internal",
            "mlflow.mlflow.svc",
            "mlflow.mlflow.svc:80",
            "mlflow.mlflow.svc.cluster.local",
            "mlflow.mlflow.svc.cluster.local:80",
        ]);
        const ingress = named(resources, INGRESS, "mlflow-ingress").inputs as any;
        assert.strictEqual(
            ingress.metadata.annotations["alb.ingress.kubernetes.io/healthcheck-path"],
            "/health",
            "exempt from the host check",
        );
    });
});

describe("portal: Backstage", () => {
    async function build(image?: string) {
        return record(() => {
            const { controller, eso } = collaborators();
            return new Backstage("backstage", {
                host: "backstage.dev.example.internal",
                image,
                loadBalancerController: controller.release,
                externalSecrets: eso,
                database: {
                    host: "portal-db.example.internal",
                    port: 5432,
                    region: "us-east-1",
                    name: "backstage",
                    credentialsSecretArn: SECRET("backstage-database"),
                },
                templatesUrl: "https://github.com/acme/gpu-platform/blob/main/backstage/templates/*.yaml",
                githubTokenSecretArn: SECRET("github"),
                costTracker: {
                    url: "http://internal-cost-tracker.example.internal",
                    tokenSecretArn: SECRET("cost-tracker-token"),
                },
                argoCd: {
                    url: "http://argocd-server.argocd.svc",
                    publicUrl: "http://argocd.dev.example.internal",
                    tokenSecretArn: SECRET("argocd-token"),
                },
                mlflow: {
                    publicUrl: "http://mlflow.dev.example.internal",
                    teamSecretsPrefix: "gpu-platform-dev",
                },
                gitops: { repoUrl: REPO, branch: "dev" },
            });
        });
    }

    it("gives every plugin a schema in Backstage's own database, so its user needs no CREATEDB", async () => {
        const { resources } = await build("123456789012.dkr.ecr.us-east-1.amazonaws.com/portal/backstage:1.4.0");
        const database = valuesOf(resources, "backstage-release").backstage.appConfig.backend.database;
        assert.strictEqual(database.pluginDivisionMode, "schema");
        assert.strictEqual(database.ensureExists, false);
        assert.strictEqual(database.ensureSchemaExists, true);
        assert.strictEqual(database.connection.database, "backstage");
        assert.strictEqual(database.connection.password, "${POSTGRES_PASSWORD}");
    });

    it("lists this repository's templates in the catalog, allowing Templates from that location", async () => {
        const { resources } = await build("registry.example.com/portal/backstage:1.4.0");
        assert.deepStrictEqual(valuesOf(resources, "backstage-release").backstage.appConfig.catalog.locations, [
            {
                type: "url",
                target: "https://github.com/acme/gpu-platform/blob/main/backstage/templates/*.yaml",
                rules: [{ allow: ["Template"] }],
            },
        ]);
    });

    it("proxies /cost-tracker for reads only (with its API token from the secret) and /argocd, and no /mlflow (nothing uses it)", async () => {
        const { resources } = await build("registry.example.com/portal/backstage:1.4.0");
        const values = valuesOf(resources, "backstage-release").backstage;
        const endpoints = values.appConfig.proxy.endpoints;
        assert.deepStrictEqual(Object.keys(endpoints).sort(), ["/argocd", "/cost-tracker"]);
        assert.strictEqual(endpoints["/cost-tracker"].target, "http://internal-cost-tracker.example.internal");
        assert.deepStrictEqual(endpoints["/cost-tracker"].headers, {
            Authorization: "Bearer ${COST_TRACKER_API_TOKEN}",
        });
        // Issue 24: a signed-in user must not write as the portal; writes go through the typed scaffolder action.
        assert.deepStrictEqual(endpoints["/cost-tracker"].allowedMethods, ["GET"]);
        assert.strictEqual(endpoints["/cost-tracker"].allowedHeaders, undefined);
        assert.strictEqual(endpoints["/argocd"].target, "http://argocd-server.argocd.svc");
        const token = named(resources, EXTERNAL_SECRET, "backstage-cost-tracker-secret").inputs as any;
        assert.deepStrictEqual(
            token.spec.data,
            [{ secretKey: "COST_TRACKER_API_TOKEN", remoteRef: { key: SECRET("cost-tracker-token") } }],
            "the token secret is plain text",
        );
        assert.ok(values.extraEnvVarsSecrets.includes("backstage-cost-tracker"));
    });

    it("gives the GPU templates their environment: the GitOps repository as the scaffolder names it, its branch, Argo CD's and MLflow's URLs, the team-secrets prefix", async () => {
        const { resources } = await build("registry.example.com/portal/backstage:1.4.0");
        assert.deepStrictEqual(
            valuesOf(resources, "backstage-release").backstage.appConfig.scaffolder.defaultEnvironment.parameters,
            {
                gitopsRepoUrl: "github.com?owner=acme&repo=gpu-platform-gitops",
                gitopsBranch: "dev",
                argocdUrl: "http://argocd.dev.example.internal",
                mlflowUrl: "http://mlflow.dev.example.internal",
                mlflowNamespace: "mlflow",
                teamSecretsPrefix: "gpu-platform-dev",
            },
        );
    });

    it("runs the configured image, keeping the image's own app-config files", async () => {
        const { resources } = await build(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/portal/backstage@sha256:" + "a".repeat(64),
        );
        const values = valuesOf(resources, "backstage-release").backstage;
        assert.deepStrictEqual(values.image, {
            registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            repository: "portal/backstage",
            digest: "sha256:" + "a".repeat(64),
        });
        assert.deepStrictEqual(values.args, ["--config", "app-config.yaml", "--config", "app-config.production.yaml"]);
        assert.deepStrictEqual(backstageImage("registry.example.com:5000/portal/backstage:1.4.0"), {
            registry: "registry.example.com:5000",
            repository: "portal/backstage",
            tag: "1.4.0",
        });
    });

    it("runs the chart's demo image when none is given, and warns", async () => {
        const warnings: string[] = [];
        const warn = pulumi.log.warn;
        (pulumi.log as any).warn = (message: string) => warnings.push(message);
        try {
            const { resources } = await build(undefined);
            assert.deepStrictEqual(valuesOf(resources, "backstage-release").backstage.image, {
                registry: "ghcr.io",
                repository: "backstage/backstage",
                tag: "latest",
            });
        } finally {
            (pulumi.log as any).warn = warn;
        }
        const demo = warnings.filter((w) => w.includes("demo image"));
        assert.strictEqual(demo.length, 1);
        assert.match(
            warnings[0],
            /demo image ghcr\.io\/backstage\/backstage:latest: it lacks @internal\/plugin-scaffolder-backend-module-gpu-platform/,
        );
    });

    it("refuses an unpinned image, a templates URL that is not this repository's templates folder, and a GitOps repository without owner and name", () => {
        assert.throws(
            () =>
                new Backstage("bad", {
                    host: "b",
                    image: "backstage",
                    templatesUrl: "https://github.com/acme/gpu-platform/tree/main",
                    loadBalancerController: undefined as any,
                    externalSecrets: undefined as any,
                    database: undefined as any,
                    githubTokenSecretArn: "",
                    costTracker: undefined as any,
                    argoCd: undefined as any,
                    mlflow: undefined as any,
                    gitops: { repoUrl: "https://github.com/acme", branch: "main" },
                }),
            (err: any) => err.errors.map((e: any) => e.propertyPath).join() === "gitops.repoUrl,image,templatesUrl",
        );
    });
});

describe("portal: service databases", () => {
    let resources: RecordedResource[];
    before(async () => {
        ({ resources } = await record(() => {
            const { eso } = collaborators();
            return new ServiceDatabases("portal-db", {
                oidc: OIDC,
                region: "us-east-1",
                host: "portal-db.example.internal",
                port: 5432,
                masterSecretArn: SECRET("rds!db-master"),
                externalSecrets: eso,
                services: ["backstage", "mlflow"],
                secretNamePrefix: "gpu-platform-dev/portal",
            });
        }));
    });

    it("keeps each service's credentials in a Secrets Manager secret of its own, which Pulumi never writes", () => {
        const secrets = ofType(resources, "aws:secretsmanager/secret:Secret").map((r) => r.inputs.name);
        assert.deepStrictEqual(secrets, [
            "gpu-platform-dev/portal/backstage-database",
            "gpu-platform-dev/portal/mlflow-database",
        ]);
        assert.deepStrictEqual(ofType(resources, "aws:secretsmanager/secretVersion:SecretVersion"), []);
    });

    it("lets the bootstrap job read and write exactly those secrets", () => {
        const arns = ofType(resources, "aws:secretsmanager/secret:Secret").map((r) => r.outputs.arn);
        const [credentials, generate] = policyOf(resources, "portal-db-irsa-policy").Statement;
        assert.deepStrictEqual(credentials.Resource, arns);
        assert.deepStrictEqual(credentials.Action, ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]);
        assert.deepStrictEqual(generate, {
            Sid: "GeneratePasswords",
            Effect: "Allow",
            Action: ["secretsmanager:GetRandomPassword"],
            Resource: "*",
        });
    });

    it("creates users and databases in the cluster, as the master user synced from the RDS-managed secret", () => {
        const job = named(resources, "kubernetes:batch/v1:Job", "portal-db-bootstrap").inputs as any;
        const credentials = job.spec.template.spec.initContainers.find((c: any) => c.name === "credentials");
        const [database] = job.spec.template.spec.containers;
        assert.match(credentials.command[2], /get-random-password/);
        assert.match(database.command[2], /CREATE DATABASE %I OWNER %I/);
        const env = Object.fromEntries(database.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
        assert.strictEqual(env.PGHOST, "portal-db.example.internal");
        assert.strictEqual(env.PGSSLMODE, "verify-full");
        assert.deepStrictEqual(env.PGPASSWORD, { secretKeyRef: { name: "postgres-master", key: "password" } });
        const master = named(resources, EXTERNAL_SECRET, "portal-db-master-secret").inputs as any;
        assert.strictEqual(master.spec.data[0].remoteRef.key, SECRET("rds!db-master"));
        assert.strictEqual(master.metadata.namespace, "portal-databases");
    });

    it("sets a user's attributes only at CREATE ROLE: ALTER ROLE names nothing a non-superuser master may not change", () => {
        const job = named(resources, "kubernetes:batch/v1:Job", "portal-db-bootstrap").inputs as any;
        assert.ok(job.spec.template.spec.containers[0].command[2].includes(SERVICE_DATABASE_SQL));
        // PostgreSQL refuses SUPERUSER in ALTER ROLE from a non-superuser (15: "must be superuser to … change superuser
        // attribute"; 16+: "Only roles with the SUPERUSER attribute may change the SUPERUSER attribute"), and since 16
        // CREATEDB, REPLICATION and BYPASSRLS from a role without them (src/backend/commands/user.c, AlterRole).
        const alters = [...SERVICE_DATABASE_SQL.matchAll(/ALTER ROLE %I WITH ([A-Z %]+?)'/g)].map((m) =>
            m[1].split(" "),
        );
        assert.ok(alters.length > 0, "the password is set on every run");
        for (const options of alters) assert.deepStrictEqual(options, ["LOGIN", "PASSWORD", "%L"]);
        assert.match(
            SERVICE_DATABASE_SQL,
            /CREATE ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L'/,
        );
    });
});
