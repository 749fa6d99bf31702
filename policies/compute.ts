/**
 * Compute baseline: instances answer only IMDSv2 (session-token) metadata requests, which a
 * server-side request forgery cannot make, so a compromised pod or web app cannot read the
 * node role's credentials through a plain GET.
 */
import { resourcePolicy } from "./lib/define";
import { asRecord, isUnknown } from "./lib/values";

export const imdsv2Required = resourcePolicy({
    name: "imdsv2-required",
    description:
        'Launch templates and EC2 instances require IMDSv2: metadataOptions.httpTokens "required" (or the metadata endpoint disabled). ' +
        'Unset, httpTokens is "optional" and IMDSv1 answers.',
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: ["aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance"],
    validate: ({ type, name, props }, _config, report) => {
        const options = props.metadataOptions;
        if (isUnknown(options)) return;
        const { httpTokens, httpEndpoint } = asRecord(options) ?? {};
        if (httpTokens === "required" || isUnknown(httpTokens) || httpEndpoint === "disabled") return;
        const found =
            httpTokens === undefined
                ? "does not set metadataOptions.httpTokens"
                : `sets metadataOptions.httpTokens to ${JSON.stringify(httpTokens)}`;
        const kind = type === "aws:ec2/instance:Instance" ? "instance" : "launch template";
        report(
            `${kind} "${name}" ${found}, so IMDSv1 answers; set metadataOptions.httpTokens to "required" (and httpPutResponseHopLimit to 1 to keep pods off the node's role).`,
        );
    },
});
