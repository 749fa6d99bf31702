import * as assert from "assert";
import { PROJECT, named, ofType, record, stackConfig, validStackConfig } from "./harness";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { buildPlatform } from "../platform";
import { admit } from "./admission";
import { policyPackSettingsOf, validatePlatformConfig } from "../stacks";
import { isSystemNamespace } from "@gpu-platform/catalog";
import { CHARTS } from "../components/shared/charts";

/** A pod spec whose one container asks for `gpus` of `resource` (limits as the API server stores them: strings). */
function podSpec(gpus: number, priorityClassName?: string, resource = "nvidia.com/gpu"): Record<string, unknown> {
    return {
        ...(priorityClassName ? { priorityClassName } : {}),
        containers: [
            {
                name: "main",
                image: "trainer:1",
                resources: { requests: { cpu: "4", [resource]: String(gpus) }, limits: { [resource]: String(gpus) } },
            },
            { name: "sidecar", image: "logger:1" },
        ],
    };
}

const pod = (spec: Record<string, unknown>) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec });

describe("workload classes", () => {
    let resources: RecordedResource[];
    before(async () => {
        ({ resources } = await record(() => buildPlatform(validStackConfig("prod"))));
    });

    it("creates the five priority classes, the two lowest waiting instead of preempting", () => {
        const classes: Record<string, any> = Object.fromEntries(
            ofType(resources, "kubernetes:scheduling.k8s.io/v1:PriorityClass").map((r) => [
                (r.inputs.metadata as any).name,
                r.inputs,
            ]),
        );
        assert.deepStrictEqual(
            Object.fromEntries(
                Object.entries(classes).map(([name, pc]) => [name, [pc.value, pc.preemptionPolicy, pc.globalDefault]]),
            ),
            {
                "production-inference": [1000, "PreemptLowerPriority", false],
                "critical-agents": [900, "PreemptLowerPriority", false],
                training: [500, "PreemptLowerPriority", false],
                research: [100, "Never", false],
                development: [50, "Never", false],
            },
        );
    });

    it("binds the GPU-limit admission policy to deny, outside kube-system and gpu-operator", () => {
        const policy = named(
            resources,
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
            "gpu-platform-prod-workload-classes-gpu-limits",
        ).inputs as any;
        assert.strictEqual(policy.spec.failurePolicy, "Fail");
        assert.deepStrictEqual(policy.spec.matchConstraints.namespaceSelector.matchExpressions[0].values, [
            "kube-system",
            "gpu-operator",
        ]);
        const kinds = policy.spec.matchConstraints.resourceRules.flatMap((r: any) => r.resources);
        assert.deepStrictEqual(kinds, [
            "pods",
            "deployments",
            "statefulsets",
            "replicasets",
            "daemonsets",
            "jobs",
            "cronjobs",
        ]);
        assert.ok(
            policy.spec.variables.find((v: any) => v.name === "maxGpusPerPod").expression.includes('"training": 8'),
        );
        const binding = named(
            resources,
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
            "gpu-platform-prod-workload-classes-gpu-limits-binding",
        ).inputs as any;
        assert.deepStrictEqual(binding.spec, { policyName: "gpu-platform-gpu-limits", validationActions: ["Deny"] });
    });

    describe("the admission policy, evaluated as CEL", () => {
        it("admits each class up to its limit: training 8, inference 2, development 1", () => {
            assert.deepStrictEqual(admit(pod(podSpec(8, "training"))), []);
            assert.deepStrictEqual(admit(pod(podSpec(2, "production-inference"))), []);
            assert.deepStrictEqual(admit(pod(podSpec(1, "development"))), []);
        });

        it("refuses a development pod asking for 16 GPUs, and an inference pod asking for 3", () => {
            assert.deepStrictEqual(admit(pod(podSpec(16, "development"))), [
                "requests 16 GPUs per pod, but priority class development allows at most 1; request fewer or use a class that allows more",
            ]);
            assert.deepStrictEqual(admit(pod(podSpec(3, "critical-agents"))), [
                "requests 3 GPUs per pod, but priority class critical-agents allows at most 2; request fewer or use a class that allows more",
            ]);
        });

        it("counts MIG slices, and init containers and sidecars as the scheduler does", () => {
            assert.deepStrictEqual(admit(pod(podSpec(2, "production-inference", "nvidia.com/mig-1g.10gb"))), []);
            assert.strictEqual(
                admit(pod(podSpec(2, "development", "nvidia.com/gpu.shared"))).length,
                1,
                "time-sliced replicas count too",
            );
            const gpuContainer = (name: string, gpus: number, extra: Record<string, unknown> = {}) => ({
                name,
                image: "i:1",
                ...extra,
                resources: { limits: { "nvidia.com/gpu": String(gpus) } },
            });
            // An init container runs before the others: a pod needs the larger of the two, not the sum.
            const warmUp = podSpec(2, "production-inference");
            warmUp.initContainers = [gpuContainer("warm-up", 1)];
            assert.deepStrictEqual(admit(pod(warmUp)), []);
            warmUp.initContainers = [gpuContainer("warm-up", 3)];
            assert.strictEqual(admit(pod(warmUp)).length, 1);
            // A sidecar keeps running beside the containers: it adds.
            const withSidecar = podSpec(2, "production-inference");
            withSidecar.initContainers = [gpuContainer("profiler", 1, { restartPolicy: "Always" })];
            assert.match(admit(pod(withSidecar))[0], /^requests 3 GPUs per pod/);
        });

        it("refuses a GPU pod without a workload class, and admits a CPU pod without one", () => {
            assert.deepStrictEqual(admit(pod(podSpec(1))), [
                'requests 1 GPUs, so it must set spec.priorityClassName to a workload class (production-inference, critical-agents, training, research, development) instead of ""',
            ]);
            assert.deepStrictEqual(
                admit(pod({ containers: [{ name: "api", image: "api:1", resources: { limits: { cpu: "1" } } }] })),
                [],
            );
        });

        it("checks the pod templates of Deployments, Jobs and CronJobs as they are applied", () => {
            const template = { template: { spec: podSpec(4, "production-inference") } };
            assert.strictEqual(admit({ kind: "Deployment", spec: template }).length, 1);
            assert.strictEqual(admit({ kind: "Job", spec: template }).length, 1);
            assert.strictEqual(
                admit({ kind: "CronJob", spec: { schedule: "@daily", jobTemplate: { spec: template } } }).length,
                1,
            );
            assert.deepStrictEqual(admit({ kind: "Job", spec: { template: { spec: podSpec(8, "training") } } }), []);
        });
    });
});

describe("team tenancy (prod config)", () => {
    let resources: RecordedResource[];
    before(async () => {
        ({ resources } = await record(() => buildPlatform(validStackConfig("prod"))));
    });
    const inTeam = (team: string, type: string) =>
        resources.filter((r) => r.type === type && r.parent?.endsWith(`gpu-platform:tenancy:TeamNamespace::${team}`));

    it("gives each team a namespace labelled with its team and cost center, Pod Security restricted", () => {
        const namespaces = ofType(resources, "kubernetes:core/v1:Namespace").filter((r) =>
            r.parent?.includes("TeamNamespace"),
        );
        assert.deepStrictEqual(namespaces.map((n) => (n.inputs.metadata as any).name).sort(), [
            "applied-ml",
            "inference",
            "ml-research",
        ]);
        const research = named(resources, "kubernetes:core/v1:Namespace", "ml-research-namespace").inputs as any;
        assert.deepStrictEqual(research.metadata.labels, {
            "gpu-platform/team": "ml-research",
            "gpu-platform/cost-center": "CC-1001",
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        });
        assert.strictEqual(research.metadata.annotations["gpu-platform/monthly-budget-usd"], "120000");
    });

    it("caps each team's CPU, memory, whole GPUs, time-sliced replicas and every MIG slice, one node's worth of each by default", () => {
        const hard = (team: string) => (inTeam(team, "kubernetes:core/v1:ResourceQuota")[0].inputs as any).spec.hard;
        // A quota leaves what it does not list unlimited: every MIG profile of the catalog's GPUs is listed, at 0 where no pool makes it.
        const noOtherMigSlices = Object.fromEntries(
            ["1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb", "1g.20gb", "4g.40gb", "7g.80gb"].map((profile) => [
                `requests.nvidia.com/mig-${profile}`,
                "0",
            ]),
        );
        // applied-ml sets no quota. One node of each prod pool: p5 (h100) 8 whole GPUs; p4d (a100-shared) 8 GPUs × 3 replicas = 24;
        // p4de (a100-mig) 8 GPUs × {3g.40gb: 1, 2g.20gb: 1, 1g.10gb: 2} = 8, 8 and 16 slices.
        assert.deepStrictEqual(hard("applied-ml"), {
            "requests.cpu": "64",
            "requests.memory": "512Gi",
            "requests.nvidia.com/gpu": "8",
            "requests.nvidia.com/gpu.shared": "24",
            "requests.nvidia.com/mig-3g.40gb": "8",
            "requests.nvidia.com/mig-2g.20gb": "8",
            "requests.nvidia.com/mig-1g.10gb": "16",
            ...noOtherMigSlices,
        });
        assert.deepStrictEqual(hard("inference"), {
            "requests.cpu": "64",
            "requests.memory": "512Gi",
            "requests.nvidia.com/gpu": "8",
            "requests.nvidia.com/gpu.shared": "24",
            "requests.nvidia.com/mig-3g.40gb": "16",
            "requests.nvidia.com/mig-2g.20gb": "8",
            "requests.nvidia.com/mig-1g.10gb": "16",
            ...noOtherMigSlices,
        });
        assert.deepStrictEqual(hard("ml-research"), {
            "requests.cpu": "192",
            "requests.memory": "1536Gi",
            "requests.nvidia.com/gpu": "16",
            "requests.nvidia.com/gpu.shared": "24",
            "requests.nvidia.com/mig-3g.40gb": "8",
            "requests.nvidia.com/mig-2g.20gb": "8",
            "requests.nvidia.com/mig-1g.10gb": "16",
            ...noOtherMigSlices,
        });
    });

    it("gives containers default requests, so every pod counts against the quota, and no default limit that would refuse a large request", () => {
        const limitRange = inTeam("applied-ml", "kubernetes:core/v1:LimitRange")[0].inputs as any;
        assert.deepStrictEqual(limitRange.spec.limits, [
            { type: "Container", defaultRequest: { cpu: "250m", memory: "512Mi" } },
        ]);
    });

    it("denies traffic by default, allowing the namespace's own pods, DNS, and HTTPS out but not to instance metadata", () => {
        const policies = Object.fromEntries(
            inTeam("ml-research", "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => [
                (r.inputs.metadata as any).name,
                (r.inputs as any).spec,
            ]),
        );
        assert.deepStrictEqual(Object.keys(policies).sort(), [
            "allow-dns",
            "allow-https-egress",
            "allow-same-namespace",
            "default-deny",
        ]);
        assert.deepStrictEqual(policies["default-deny"], { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        assert.deepStrictEqual(policies["allow-same-namespace"].ingress, [{ from: [{ podSelector: {} }] }]);
        assert.deepStrictEqual(policies["allow-dns"].egress[0].ports, [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
        ]);
        assert.deepStrictEqual(policies["allow-https-egress"].egress, [
            {
                to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] } }],
                ports: [{ protocol: "TCP", port: 443 }],
            },
        ]);
        const cni = named(resources, "aws:eks/addon:Addon", "gpu-platform-prod-vpc-cni").inputs as any;
        assert.deepStrictEqual(
            JSON.parse(cni.configurationValues),
            { enableNetworkPolicy: "true" },
            "the VPC CNI enforces them",
        );
    });

    it("maps each team's IAM role to edit access in its own namespace only", () => {
        const entry = inTeam("inference", "aws:eks/accessEntry:AccessEntry")[0].inputs as any;
        assert.deepStrictEqual(entry, {
            clusterName: "gpu-platform-prod",
            principalArn: "arn:aws:iam::123456789012:role/inference",
            type: "STANDARD",
        });
        const association = inTeam("inference", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")[0]
            .inputs as any;
        assert.strictEqual(association.policyArn, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy");
        assert.deepStrictEqual(association.accessScope, { type: "namespace", namespaces: ["inference"] });
    });
});

describe("tenancy config", () => {
    const problems = (edit: (raw: any) => void) => {
        const raw = stackConfig("prod") as any;
        edit(raw);
        return validatePlatformConfig(raw, PROJECT, "prod").problems.map((p) => `${p.key}: ${p.message}`);
    };

    it("takes priority classes from config in place of the five defaults; a class that does not say waits or not preempts", async () => {
        const raw = stackConfig("dev") as any;
        raw.priorityClasses = [
            { name: "batch", value: 10, maxGpusPerPod: 4 },
            { name: "development", value: 5, maxGpusPerPod: 1, preempts: false },
        ];
        // The policy config such a stack carries: the same classes and limits (otherwise the config is refused, see config.spec.ts).
        const limits = { maxGpusPerPodByClass: { batch: 4, development: 1 } };
        const pack = policyPackSettingsOf(
            { "gpu-workload-priority-class": limits, "gpu-workload-class-limit": limits },
            "spec policy config",
        );
        const config = validatePlatformConfig(raw, PROJECT, "dev", pack).config!;
        const { resources } = await record(() => buildPlatform(config));
        const classes = ofType(resources, "kubernetes:scheduling.k8s.io/v1:PriorityClass").map((r) => [
            (r.inputs.metadata as any).name,
            r.inputs.value,
            r.inputs.preemptionPolicy,
        ]);
        assert.deepStrictEqual(classes, [
            ["batch", 10, "PreemptLowerPriority"],
            ["development", 5, "Never"],
        ]);
    });

    it("rejects duplicate and reserved priority class names, and values above the user range", () => {
        const withSystemClassValue = (value: number) =>
            problems((raw) => {
                raw.priorityClasses = [
                    { name: "training", value: 500, maxGpusPerPod: 8 },
                    { name: "training", value: 400, maxGpusPerPod: 8 },
                    { name: "system-gpu", value, maxGpusPerPod: 8 },
                    { name: "production-inference", value: 1000, maxGpusPerPod: 2 },
                ];
            });
        assert.deepStrictEqual(withSystemClassValue(2_000_000_000), [
            "priorityClasses[2].value: must be at most 1000000000; higher values are reserved for system classes (found 2000000000)",
            'priorityClasses[1].name: duplicates priorityClasses[0].name "training"; names must be unique',
        ]);
        assert.deepStrictEqual(withSystemClassValue(5), [
            'priorityClasses[1].name: duplicates priorityClasses[0].name "training"; names must be unique',
            'priorityClasses[2].name: "system-gpu" starts with "system-", which Kubernetes reserves; choose another name',
        ]);
    });

    it("rejects a pipeline whose priority class does not exist or allows fewer GPUs than its worker takes", () => {
        assert.deepStrictEqual(
            problems((raw) => (raw.inferencePipelines[0].priorityClass = "batch")),
            [
                'inferencePipelines[0].priorityClass: "batch" is not a priority class; defined: production-inference, critical-agents, training, research, development',
            ],
        );
        assert.deepStrictEqual(
            problems((raw) => {
                raw.inferencePipelines[0].gpusPerWorker = 3;
            }),
            [
                'inferencePipelines[0].gpusPerWorker: is 3, but priority class "production-inference" allows at most 2 GPUs per pod; the cluster would refuse the worker',
            ],
        );
    });

    it("rejects a team named after a namespace the cluster owns; a pipeline may share its name with a team, since it runs in its team's namespace", () => {
        assert.deepStrictEqual(
            problems((raw) => {
                raw.teams[0].name = "keda";
                raw.inferencePipelines[0].team = "keda";
                raw.inferencePipelines.push({ ...raw.inferencePipelines[0], name: "applied-ml" });
            }),
            [
                'teams[0].name: "keda" is a namespace the cluster or its add-ons own (default, kube-system, kube-public, kube-node-lease, keda, gpu-operator, opencost, prometheus, cert-manager, karpenter, amazon-cloudwatch, argocd, backstage, mlflow, external-secrets, portal-databases, kueue-system, budget-gate, openshift, or any starting with kube-, openshift-); choose another name',
            ],
        );
    });

    it("takes a team's admission exemptions by rule name, the platform team's exception, and refuses a name that is no tenancy rule", () => {
        assert.deepStrictEqual(
            problems((raw) => (raw.teams[0].admissionExemptions = ["gpu-platform-team-services"])),
            [],
        );
        const found = problems((raw) => (raw.teams[0].admissionExemptions = ["gpu-platform-services"]));
        assert.strictEqual(found.length, 1);
        assert.match(
            found[0],
            /^teams\[0\]\.admissionExemptions\[0\]: Invalid option: expected one of .*"gpu-platform-team-services"/,
        );
    });

    it("reports a pool or class that fails its own checks once, not again where something refers to it", () => {
        assert.deepStrictEqual(
            problems((raw) => {
                raw.nodePools["a100-mig"].diskType = "st1";
                raw.nodePools.system.maxSize = 0;
                raw.priorityClasses = [{ name: "production-inference", value: 1000, maxGpusPerPod: -1 }];
            }),
            [
                "nodePools.system.maxSize: must be at least 1 (found 0)",
                'nodePools.a100-mig.diskType: Invalid option: expected one of "gp3"|"gp2"|"io2" (found "st1")',
                "priorityClasses[0].maxGpusPerPod: must be 0 or more (found -1)",
            ],
        );
    });

    it("rejects a team role shared with another team or with the admins", () => {
        assert.deepStrictEqual(
            problems((raw) => {
                raw.teams[1].iamRoleArn = raw.teams[0].iamRoleArn;
                raw.teams[2].iamRoleArn = "arn:aws:iam::123456789012:role/platform-admin";
            }),
            [
                "teams[1].iamRoleArn: is also teams[0].iamRoleArn; EKS maps one role to one access entry: give each team its own role",
                "teams[2].iamRoleArn: is also in cluster.adminRoleArns; an admin role already has every namespace: give the team its own role",
            ],
        );
    });

    it("rejects a quota for a MIG slice no pool makes, and malformed quantities", () => {
        assert.deepStrictEqual(
            problems((raw) => {
                raw.teams[0].quota = { cpu: "lots", memory: "1TB", gpus: -1, mig: { "1g.5gb": 2 } };
            }),
            [
                'teams[0].quota.cpu: must be a Kubernetes quantity such as "64" (found "lots")',
                'teams[0].quota.memory: must be a Kubernetes quantity such as "512Gi" (found "1TB")',
                "teams[0].quota.gpus: must be 0 or more (found -1)",
            ],
        );
        assert.deepStrictEqual(
            problems((raw) => (raw.teams[0].quota = { mig: { "1g.5gb": 2 } })),
            ["teams[0].quota.mig.1g.5gb: no node pool makes 1g.5gb MIG slices; pools make 3g.40gb, 2g.20gb, 1g.10gb"],
        );
    });
});

describe("the platform's own namespaces", () => {
    it("are every one a system namespace: no team may take one, and the pack lets their releases create them", () => {
        // A chart added to components/shared/charts.ts without its namespace in catalog/kubernetes-names.ts fails here.
        assert.deepStrictEqual(
            Object.values(CHARTS)
                .filter((chart) => !isSystemNamespace(chart.namespace))
                .map((chart) => `${chart.chart} in ${chart.namespace}`),
            [],
        );
    });
});
