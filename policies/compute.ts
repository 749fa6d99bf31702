/**
 * Compute baseline:
 * - instances answer only IMDSv2 (session-token) metadata requests, which a server-side request
 *   forgery cannot make, so a compromised pod or web app cannot read the node role's
 *   credentials through a plain GET. Judged on the setting an instance gets: its own
 *   metadataOptions, else its launch template's, else the account default the stack sets
 *   (aws.ec2.InstanceMetadataDefaults); launch templates, launch configurations and spot
 *   requests are checked too;
 * - instances get no public IPv4 address, asked for (associatePublicIpAddress) or given by a
 *   subnet of the stack that maps one on launch (FSBP EC2.9).
 */
import { StackResource, stackPolicy } from "./lib/define";
import { referencedBy, referencedThrough } from "./lib/references";
import { asList, asRecord, asString, isUnknown } from "./lib/values";

const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const INSTANCE = "aws:ec2/instance:Instance";
const SPOT_INSTANCE_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest";
const LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration";
const METADATA_DEFAULTS = "aws:ec2/instanceMetadataDefaults:InstanceMetadataDefaults";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const SUBNET = "aws:ec2/subnet:Subnet";

const KINDS: Record<string, string> = {
    [LAUNCH_TEMPLATE]: "launch template",
    [INSTANCE]: "instance",
    [SPOT_INSTANCE_REQUEST]: "spot instance request",
    [LAUNCH_CONFIGURATION]: "launch configuration",
    [NODE_GROUP]: "node group",
};

/** The launch template a resource names, when the stack creates it. */
function templateOf(r: StackResource, templates: readonly StackResource[]): StackResource | undefined {
    const spec = asRecord(r.props.launchTemplate);
    if (!spec) return undefined;
    return referencedThrough(r, "launchTemplate", [spec.id, spec.name], templates, ["id", "name"])[0];
}

/** "required", "optional", "disabled", "unknown", or undefined when the resource says nothing. */
function metadataSetting(r: StackResource): string | undefined {
    const options = r.props.metadataOptions;
    if (isUnknown(options)) return "unknown";
    const { httpTokens, httpEndpoint } = asRecord(options) ?? {};
    if (httpEndpoint === "disabled") return "disabled";
    if (isUnknown(httpTokens)) return "unknown";
    return asString(httpTokens);
}

const regionOf = (r: StackResource) => asString(r.props.region) ?? asString(r.providerProps?.region) ?? "";

export const imdsv2Required = stackPolicy({
    name: "imdsv2-required",
    description:
        'Instances answer IMDSv2 only: metadataOptions.httpTokens "required" (or the endpoint disabled) on launch templates, launch configurations, ' +
        "instances and spot requests. An instance or spot request that sets nothing gets its launch template's setting, else the account default the " +
        'stack sets with aws.ec2.InstanceMetadataDefaults (httpTokens "required", same provider and region); else httpTokens is "optional" and ' +
        'IMDSv1 answers. InstanceMetadataDefaults with httpTokens "optional" is itself a violation.',
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources, _config, report) => {
        const defaults = resources.filter((r) => r.type === METADATA_DEFAULTS);
        for (const d of defaults.filter((r) => r.props.httpTokens === "optional"))
            report(
                `aws.ec2.InstanceMetadataDefaults "${d.name}" sets httpTokens "optional" for the account, so every instance that does not say otherwise answers IMDSv1; set httpTokens: "required".`,
                d.urn,
            );
        const accountRequires = (r: StackResource) =>
            defaults.some(
                (d) => d.props.httpTokens === "required" && d.provider === r.provider && regionOf(d) === regionOf(r),
            );
        const templates = resources.filter((r) => r.type === LAUNCH_TEMPLATE);
        for (const r of resources.filter((x) =>
            [LAUNCH_TEMPLATE, INSTANCE, SPOT_INSTANCE_REQUEST, LAUNCH_CONFIGURATION].includes(x.type),
        )) {
            let setting = metadataSetting(r);
            const template = r.type === LAUNCH_TEMPLATE ? undefined : templateOf(r, templates);
            if (setting === undefined && template) setting = metadataSetting(template);
            if (setting === "required" || setting === "disabled" || setting === "unknown") continue;
            if (setting === undefined && accountRequires(r)) continue;
            const found =
                setting === undefined
                    ? `does not set metadataOptions.httpTokens${template ? ` (nor does its launch template "${template.name}")` : ""}`
                    : `sets metadataOptions.httpTokens to ${JSON.stringify(setting)}`;
            report(
                `${KINDS[r.type]} "${r.name}" ${found}, so IMDSv1 answers; set metadataOptions.httpTokens to "required" (and httpPutResponseHopLimit to 1 to keep pods off the node's role).`,
                r.urn,
            );
        }
    },
});

const asksForPublicIp = (value: unknown) => value === true || value === "true";
const refusesPublicIp = (value: unknown) => value === false || value === "false" || isUnknown(value);

export const ec2NoPublicIp = stackPolicy({
    name: "ec2-no-public-ip",
    description:
        "Instances get no public IPv4 address: associatePublicIpAddress not true on instances, spot requests, launch configurations and launch " +
        "templates' networkInterfaces, and no instance, spot request or EKS node group launched into a subnet of the stack that maps public IPs on " +
        "launch (mapPublicIpOnLaunch) unless it sets associatePublicIpAddress false. Reach instances through a load balancer or SSM Session Manager.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources, _config, report) => {
        const fix =
            "set associatePublicIpAddress: false and launch into private subnets; reach it through a load balancer or SSM Session Manager";
        const publicSubnets = resources.filter(
            (r) => r.type === SUBNET && asksForPublicIp(r.props.mapPublicIpOnLaunch),
        );
        for (const r of resources) {
            const kind = KINDS[r.type];
            if (r.type === LAUNCH_TEMPLATE) {
                asList(r.props.networkInterfaces).forEach((ni, i) => {
                    if (asksForPublicIp(asRecord(ni)?.associatePublicIpAddress))
                        report(
                            `launch template "${r.name}" sets networkInterfaces[${i}].associatePublicIpAddress, so its instances get public IPv4 addresses; ${fix}.`,
                            r.urn,
                        );
                });
                continue;
            }
            if (!kind) continue;
            if (asksForPublicIp(r.props.associatePublicIpAddress)) {
                report(
                    `${kind} "${r.name}" sets associatePublicIpAddress: true, so it gets a public IPv4 address; ${fix}.`,
                    r.urn,
                );
                continue;
            }
            if (r.type === LAUNCH_CONFIGURATION || refusesPublicIp(r.props.associatePublicIpAddress)) continue;
            const property = r.type === NODE_GROUP ? "subnetIds" : "subnetId";
            const mapping = referencedBy(r, property, publicSubnets);
            if (mapping.length === 0) continue;
            report(
                `${kind} "${r.name}" launches into ${mapping.map((s) => `subnet "${s.name}"`).join(" and ")}, which maps public IPs on launch (mapPublicIpOnLaunch), so ` +
                    `${r.type === NODE_GROUP ? "its nodes get" : "it gets"} a public IPv4 address; launch into private subnets${r.type === NODE_GROUP ? "" : " or set associatePublicIpAddress: false"}.`,
                r.urn,
            );
        }
    },
});
