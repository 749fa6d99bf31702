/**
 * What the cloud would compute, faked: ids, ARNs, URLs and endpoints, the AWS provider's
 * merge of default tags into `tagsAll`, and the outputs of the remote `eks` and `awsx`
 * components (which under mocks are single resources with no children). Every fabricated
 * value is recognisable as a placeholder: account 123456789012, ids ending in "placeholder".
 *
 * Shared by the test harness and the offline plan, so both see the same fake cloud.
 */
import type { MockCallArgs, MockResourceArgs } from "@pulumi/pulumi/runtime";
import { parseAllDocuments } from "yaml";
import { defaultTagsOf, mergeDefaultTags } from "@gpu-platform/catalog/aws-tags";

export const FAKE_ACCOUNT = "123456789012";

/** Credentials the fake cloud hands out, recognisable so a test can prove none lands in a recorded input as plain text. */
export const FAKE_CREDENTIALS = {
    ecrPassword: "fake-ecr-password-placeholder",
    ecrAuthorizationToken: "QVdTOmZha2UtZWNyLXBhc3N3b3JkLXBsYWNlaG9sZGVy",
    randomPassword: "fake-random-password-placeholder",
} as const;
const DEFAULT_REGION = "us-east-1";
/** Elastic Load Balancing's hosted zone for load balancers, as a placeholder. */
export const FAKE_ELB_ZONE_ID = "ZELBPLACEHOLDER";

type State = Record<string, unknown>;

/** Multi-language component packages: their components' outputs come from the package's plugin. */
const REMOTE_COMPONENT_PACKAGES = ["eks:", "awsx:"];

export class FakeCloud {
    /** Default tags and region of each AWS provider, by provider reference (`urn::id`). */
    private readonly awsProviders = new Map<string, { region: string; defaultTags: Record<string, string> }>();
    private defaultRegion = DEFAULT_REGION;

    /** The id and output state of a newly registered resource. */
    newResource(args: MockResourceArgs, urn: string): { id: string | undefined; state: State } {
        const inputs = (args.inputs ?? {}) as State;
        // Local components have no state of their own; remote ones (eks, awsx) are components too, but with outputs.
        if (args.custom === false && !REMOTE_COMPONENT_PACKAGES.some((p) => args.type.startsWith(p)))
            return { id: undefined, state: {} };
        const id = idFor(args.type, args.name, inputs);
        if (args.type === "pulumi:providers:aws") {
            const provider = {
                region: typeof inputs.region === "string" ? inputs.region : this.defaultRegion,
                defaultTags: defaultTagsOf(inputs.defaultTags) as Record<string, string>,
            };
            this.awsProviders.set(`${urn}::${id}`, provider);
            return { id, state: inputs };
        }
        const provider = args.provider ? this.awsProviders.get(args.provider) : undefined;
        const region = provider?.region ?? this.defaultRegion;
        const state: State = { ...inputs, ...this.computedOutputs(args.type, args.name, inputs, region, id) };
        if (args.type.startsWith("aws:") && ("tags" in inputs || provider)) {
            // The AWS provider merges its default tags under the resource's own tags.
            state.tagsAll = mergeDefaultTags({ tags: provider?.defaultTags ?? {} }, inputs.tags);
        }
        return { id, state };
    }

    /** Results of data-source calls the program makes. */
    call(args: MockCallArgs): State {
        switch (args.token) {
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return {
                    accountId: FAKE_ACCOUNT,
                    arn: `arn:aws:iam::${FAKE_ACCOUNT}:user/placeholder`,
                    userId: "AIDAPLACEHOLDER",
                };
            case "aws:index/getPartition:getPartition":
                return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
            case "aws:index/getRegion:getRegion":
                return { name: this.defaultRegion, region: this.defaultRegion, id: this.defaultRegion };
            case "aws:index/getAvailabilityZones:getAvailabilityZones":
                return {
                    names: ["a", "b", "c"].map((z) => `${this.defaultRegion}${z}`),
                    zoneIds: ["use1-az1", "use1-az2", "use1-az4"],
                };
            case "aws:iam/getPolicyDocument:getPolicyDocument":
                return policyDocument(args.inputs as State);
            case "kubernetes:yaml:decode":
                // yaml.ConfigFile and ConfigGroup (v1) ask the provider to split their YAML into objects, then create each one.
                return { result: decodeYaml((args.inputs as State).text) };
            case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
                return {
                    userName: "AWS",
                    password: FAKE_CREDENTIALS.ecrPassword,
                    authorizationToken: FAKE_CREDENTIALS.ecrAuthorizationToken,
                    proxyEndpoint: `https://${FAKE_ACCOUNT}.dkr.ecr.${this.defaultRegion}.amazonaws.com`,
                    expiresAt: "placeholder",
                };
            case "aws:secretsmanager/getRandomPassword:getRandomPassword":
                return { randomPassword: FAKE_CREDENTIALS.randomPassword };
            case "aws:elb/getHostedZoneId:getHostedZoneId":
                return { id: FAKE_ELB_ZONE_ID, region: this.defaultRegion };
            default:
                return {};
        }
    }

    private computedOutputs(type: string, name: string, inputs: State, region: string, id: string): State {
        const arn = arnFor(type, name, inputs, region);
        switch (type) {
            case "eks:index:Cluster":
                return eksClusterOutputs(textOr(inputs.name, name), region);
            case "pulumi:pulumi:StackReference":
                return {
                    name: inputs.name,
                    outputs: platformStackOutputs(textOr(inputs.name, name), region),
                    secretOutputNames: ["kubeconfig"],
                };
            case "awsx:ec2:Vpc":
                return vpcOutputs(name, Number(inputs.numberOfAvailabilityZones ?? 2));
            case "aws:eks/nodeGroup:NodeGroup":
                return {
                    arn,
                    nodeGroupName: name,
                    status: "ACTIVE",
                    resources: [
                        { autoscalingGroups: [{ name: `eks-${name}-placeholder` }], remoteAccessSecurityGroupId: "" },
                    ],
                };
            case "aws:ec2/launchTemplate:LaunchTemplate":
                return { arn, latestVersion: 1, defaultVersion: 1 };
            case "aws:iam/role:Role":
                return { arn, name: inputs.name ?? name, uniqueId: "AROAPLACEHOLDER" };
            case "aws:kms/key:Key":
                return { arn, keyId: id };
            case "aws:s3/bucket:Bucket":
            case "aws:s3/bucketV2:BucketV2":
                return {
                    arn,
                    bucket: inputs.bucket ?? name,
                    bucketDomainName: `${textOr(inputs.bucket, name)}.s3.amazonaws.com`,
                };
            case "aws:sqs/queue:Queue":
                return {
                    arn,
                    name: inputs.name ?? name,
                    url: `https://sqs.${region}.amazonaws.com/${FAKE_ACCOUNT}/${textOr(inputs.name, name)}`,
                };
            case "aws:sns/topic:Topic":
                return {
                    arn: `arn:aws:sns:${region}:${FAKE_ACCOUNT}:${textOr(inputs.name, name)}`,
                    name: inputs.name ?? name,
                };
            case "aws:secretsmanager/secret:Secret":
                // Secrets Manager appends six random characters to a secret's name in its ARN.
                return {
                    arn: `arn:aws:secretsmanager:${region}:${FAKE_ACCOUNT}:secret:${textOr(inputs.name, name)}-AbCdEf`,
                    name: inputs.name ?? name,
                };
            case "aws:rds/instance:Instance": {
                const address = `${name}.placeholder.${region}.rds.amazonaws.com`;
                return {
                    arn,
                    address,
                    endpoint: `${address}:${textOr(inputs.port, "5432")}`,
                    port: inputs.port ?? 5432,
                    masterUserSecrets: inputs.manageMasterUserPassword
                        ? [
                              {
                                  secretArn: `arn:aws:secretsmanager:${region}:${FAKE_ACCOUNT}:secret:rds!db-${name}-placeholder-AbCdEf`,
                                  secretStatus: "active",
                                  kmsKeyId: "",
                              },
                          ]
                        : [],
                };
            }
            case "aws:ecr/repository:Repository":
                return {
                    arn: `arn:aws:ecr:${region}:${FAKE_ACCOUNT}:repository/${textOr(inputs.name, name)}`,
                    name: inputs.name ?? name,
                    registryId: FAKE_ACCOUNT,
                    repositoryUrl: `${FAKE_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${textOr(inputs.name, name)}`,
                };
            case "aws:lb/loadBalancer:LoadBalancer":
                return {
                    arn,
                    arnSuffix: `app/${name}/placeholder`,
                    dnsName: `internal-${name}-placeholder.${region}.elb.amazonaws.com`,
                    name: inputs.name ?? name,
                    zoneId: FAKE_ELB_ZONE_ID,
                };
            case "aws:acm/certificate:Certificate":
                return {
                    arn: `arn:aws:acm:${region}:${FAKE_ACCOUNT}:certificate/${name}-placeholder`,
                    ...acmValidation(inputs),
                };
            case "aws:acm/certificateValidation:CertificateValidation":
                return { certificateArn: inputs.certificateArn };
            case "aws:route53/record:Record":
                return { fqdn: textOr(inputs.name, name).replace(/\.$/, "") };
            case "aws:lb/targetGroup:TargetGroup":
                return { arn, arnSuffix: `targetgroup/${name}/placeholder`, name: inputs.name ?? name };
            case "docker-build:index:Image": {
                // What the build would push: the first tag, pinned by a digest only a real build knows.
                const digest = `sha256:${"0".repeat(64)}`;
                const tag = Array.isArray(inputs.tags) ? String(inputs.tags[0]) : `${name}:placeholder`;
                return { digest, ref: `${tag}@${digest}`, contextHash: "placeholder" };
            }
            default:
                return type.startsWith("aws:")
                    ? { arn, name: inputs.name ?? name }
                    : kubernetesOutputs(type, name, inputs);
        }
    }
}

/**
 * What `aws.iam.getPolicyDocument` returns: the JSON policy the AWS provider renders from the
 * statements, so policies built with it are checked like any literal policy. Rendering follows
 * the provider's data source (terraform-provider-aws, internal/service/iam/policy_document_data_source.go):
 * Version 2012-10-17, Effect Allow by default, a one-item list as a plain string, principals keyed
 * by type ("*" alone for the type "*" with identifier "*"), conditions keyed by test then variable.
 */
function policyDocument(inputs: State): State {
    const list = (value: unknown): string[] =>
        Array.isArray(value) ? value.map(String) : typeof value === "string" ? [value] : [];
    const one = (values: string[]): string | string[] => (values.length === 1 ? values[0] : values);
    const principals = (value: unknown): unknown => {
        const entries = Array.isArray(value) ? (value as State[]) : [];
        if (entries.length === 0) return undefined;
        if (entries.length === 1 && entries[0].type === "*" && list(entries[0].identifiers).join() === "*") return "*";
        const byType: Record<string, string[]> = {};
        for (const p of entries) byType[String(p.type)] = [...(byType[String(p.type)] ?? []), ...list(p.identifiers)];
        return Object.fromEntries(Object.entries(byType).map(([type, ids]) => [type, one(ids)]));
    };
    const conditions = (value: unknown): unknown => {
        const entries = Array.isArray(value) ? (value as State[]) : [];
        if (entries.length === 0) return undefined;
        const byTest: Record<string, Record<string, string | string[]>> = {};
        for (const c of entries)
            byTest[String(c.test)] = { ...(byTest[String(c.test)] ?? {}), [String(c.variable)]: one(list(c.values)) };
        return byTest;
    };
    const statements = (Array.isArray(inputs.statements) ? (inputs.statements as State[]) : []).map((st) =>
        dropUndefined({
            Sid: st.sid || undefined,
            Effect: st.effect ?? "Allow",
            Action: list(st.actions).length ? one(list(st.actions)) : undefined,
            NotAction: list(st.notActions).length ? one(list(st.notActions)) : undefined,
            Resource: list(st.resources).length ? one(list(st.resources)) : undefined,
            NotResource: list(st.notResources).length ? one(list(st.notResources)) : undefined,
            Principal: principals(st.principals),
            NotPrincipal: principals(st.notPrincipals),
            Condition: conditions(st.conditions),
        }),
    );
    const document = dropUndefined({
        Version: inputs.version ?? "2012-10-17",
        Id: inputs.policyId,
        Statement: statements,
    });
    return {
        json: JSON.stringify(document, null, 2),
        minifiedJson: JSON.stringify(document),
        id: "policy-document-placeholder",
    };
}

/** The objects of a multi-document YAML text, empty documents left out, as the Kubernetes provider decodes it; YAML it cannot read fails the call. */
function decodeYaml(text: unknown): unknown[] {
    if (typeof text !== "string") return [];
    return parseAllDocuments(text).flatMap((doc) => {
        if (doc.errors.length > 0) throw new Error(`yaml: ${doc.errors[0].message.split("\n")[0]}`);
        const value = doc.toJS() as unknown;
        return value === null || value === undefined ? [] : [value];
    });
}

/** A string or number input as text; anything else (absent, or an object) gives the fallback. */
function textOr(value: unknown, fallback: string): string {
    return typeof value === "string" || typeof value === "number" ? String(value) : fallback;
}

function dropUndefined(value: State): State {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

function idFor(type: string, name: string, inputs: State): string {
    if (type === "eks:index:Cluster") return textOr(inputs.name, name);
    // A bucket's id is its name, and the bucket's settings resources refer to it by that.
    if (type === "aws:s3/bucket:Bucket" || type === "aws:s3/bucketV2:BucketV2") return textOr(inputs.bucket, name);
    const prefixes: Record<string, string> = {
        "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
        "aws:ec2/launchTemplate:LaunchTemplate": "lt",
        "aws:ec2/securityGroup:SecurityGroup": "sg",
        "aws:ec2/flowLog:FlowLog": "fl",
    };
    const prefix = prefixes[type];
    return prefix ? `${prefix}-${name}-placeholder` : `${name}-placeholder-id`;
}

/** An ARN of the right shape for an AWS resource type: `aws:<service>/<kind>:<Kind>`. */
function arnFor(type: string, name: string, inputs: State, region: string): string {
    const service = type.split(":")[1]?.split("/")[0] ?? "unknown";
    const resourceName = textOr(inputs.name, textOr(inputs.bucket, name));
    switch (service) {
        case "iam":
            return `arn:aws:iam::${FAKE_ACCOUNT}:${type.includes("policy") ? "policy" : "role"}/${resourceName}`;
        case "s3":
            return `arn:aws:s3:::${resourceName}`;
        case "sqs":
            return `arn:aws:sqs:${region}:${FAKE_ACCOUNT}:${resourceName}`;
        case "cloudwatch":
            return `arn:aws:logs:${region}:${FAKE_ACCOUNT}:log-group:${resourceName}`;
        default:
            return `arn:aws:${service}:${region}:${FAKE_ACCOUNT}:${type.split(":").pop()?.toLowerCase()}/${resourceName}`;
    }
}

function eksClusterOutputs(clusterName: string, region: string): State {
    const issuer = `oidc.eks.${region}.amazonaws.com/id/PLACEHOLDER`;
    const endpoint = `https://PLACEHOLDER.gr7.${region}.eks.amazonaws.com`;
    const kubeconfig = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            { name: clusterName, cluster: { server: endpoint, "certificate-authority-data": "UExBQ0VIT0xERVI=" } },
        ],
        contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
        "current-context": clusterName,
        users: [
            {
                name: clusterName,
                user: {
                    exec: {
                        apiVersion: "client.authentication.k8s.io/v1beta1",
                        command: "aws",
                        args: ["eks", "get-token", "--cluster-name", clusterName],
                    },
                },
            },
        ],
    };
    return {
        eksCluster: {
            name: clusterName,
            arn: `arn:aws:eks:${region}:${FAKE_ACCOUNT}:cluster/${clusterName}`,
            endpoint,
            version: "placeholder",
            certificateAuthority: { data: "UExBQ0VIT0xERVI=" },
            vpcConfig: { clusterSecurityGroupId: "sg-eks-cluster-placeholder" },
        },
        kubeconfig,
        kubeconfigJson: JSON.stringify(kubeconfig),
        oidcProviderArn: `arn:aws:iam::${FAKE_ACCOUNT}:oidc-provider/${issuer}`,
        oidcProviderUrl: issuer,
        oidcIssuer: `https://${issuer}`,
        clusterSecurityGroupId: "sg-cluster-placeholder",
        nodeSecurityGroupId: "sg-node-placeholder",
    };
}

/**
 * A stack reference reads another stack's outputs from the backend, which the plan cannot
 * reach; it gets placeholders shaped like the platform stack's exports (index.ts).
 */
function platformStackOutputs(stackName: string, region: string): State {
    // The platform names its cluster <project>-<stack>; a reference is <org>/<project>/<stack>.
    const [project = "platform", stack = "stack"] = stackName.split("/").slice(-2);
    const clusterName = `${project}-${stack}`;
    const cluster = eksClusterOutputs(clusterName, region);
    return {
        region,
        vpcId: "vpc-platform-placeholder",
        privateSubnetIds: ["subnet-private-1-placeholder", "subnet-private-2-placeholder"],
        clusterName,
        kubeconfig: cluster.kubeconfigJson,
        oidcProviderArn: cluster.oidcProviderArn,
        oidcProviderUrl: cluster.oidcProviderUrl,
        nodeRoleArn: `arn:aws:iam::${FAKE_ACCOUNT}:role/platform-node-role-placeholder`,
        // A CPU pool and an 8-GPU pool, shaped like the `nodePools` export, for stacks that schedule onto the cluster.
        nodePools: {
            system: {
                nodeGroupName: "system-group-placeholder",
                labels: { "gpu-platform/pool": "system", "gpu-platform/node-type": "cpu" },
                gpusPerNode: 0,
                resources: {},
            },
            h100: {
                nodeGroupName: "h100-group-placeholder",
                labels: { "gpu-platform/pool": "h100", "gpu-platform/node-type": "gpu" },
                gpusPerNode: 8,
                resources: { "nvidia.com/gpu": 8 },
            },
        },
    };
}

function vpcOutputs(name: string, zones: number): State {
    const each = (kind: string) => Array.from({ length: zones }, (_, i) => `${kind}-${name}-${i + 1}-placeholder`);
    return {
        vpcId: `vpc-${name}-placeholder`,
        privateSubnetIds: each("subnet-private"),
        publicSubnetIds: each("subnet-public"),
        isolatedSubnetIds: [],
        routeTables: [...each("rtb-private"), ...each("rtb-public")].map((id) => ({ id })),
        natGateways: [],
    };
}

function kubernetesOutputs(type: string, name: string, inputs: State): State {
    if (!type.startsWith("kubernetes:")) return {};
    const metadata = (inputs.metadata as State | undefined) ?? {};
    const outputs: State = { metadata: { ...metadata, name: metadata.name ?? name } };
    if (type === "kubernetes:networking.k8s.io/v1:Ingress") outputs.status = ingressStatus(metadata);
    return outputs;
}

/**
 * The status the AWS Load Balancer Controller writes on an Ingress of class alb: its ALB's DNS
 * name, `k8s-<group>-…` and `internal-` in front for an internal one. Pulumi waits for it.
 */
function ingressStatus(metadata: State): State {
    const annotations = (metadata.annotations as Record<string, string> | undefined) ?? {};
    const group = annotations["alb.ingress.kubernetes.io/group.name"] ?? textOr(metadata.name, "ingress");
    const internal = annotations["alb.ingress.kubernetes.io/scheme"] !== "internet-facing";
    const hostname = `${internal ? "internal-" : ""}k8s-${group}-placeholder.${DEFAULT_REGION}.elb.amazonaws.com`;
    return { loadBalancer: { ingress: [{ hostname }] } };
}

/** ACM's validation options: one CNAME per name on the certificate. */
function acmValidation(inputs: State): State {
    const alternatives: unknown[] = Array.isArray(inputs.subjectAlternativeNames) ? inputs.subjectAlternativeNames : [];
    const names = [inputs.domainName, ...alternatives].map((name) => textOr(name, ""));
    return {
        domainValidationOptions: names.map((domainName) => ({
            domainName,
            resourceRecordName: `_placeholder.${domainName}.`,
            resourceRecordType: "CNAME",
            resourceRecordValue: "_placeholder.acm-validations.aws.",
        })),
    };
}
