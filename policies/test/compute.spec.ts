import * as assert from "assert";
import { imdsv2Required } from "../compute";
import { changed, resource, theViolation, violationsOf } from "./support/check";

/** A node pool's launch template as the platform's NodePool builds it. */
const templateInputs = {
    description: "Nodes of the h100 pool",
    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
};
const template = (inputs: Record<string, unknown> = templateInputs) =>
    resource("aws:ec2/launchTemplate:LaunchTemplate", "h100-launch-template", inputs);

describe("policies: compute", () => {
    describe("imdsv2-required", () => {
        it("passes a launch template that requires IMDSv2, and one with the metadata endpoint off", async () => {
            const off = changed(templateInputs, "metadataOptions", { httpEndpoint: "disabled" });
            assert.deepStrictEqual(await violationsOf(imdsv2Required, [template(), template(off)]), []);
        });

        it("reports httpTokens left optional", async () => {
            const v = await theViolation(imdsv2Required, [
                template(changed(templateInputs, "metadataOptions.httpTokens", "optional")),
            ]);
            assert.strictEqual(
                v.message,
                'launch template "h100-launch-template" sets metadataOptions.httpTokens to "optional", so IMDSv1 answers; set metadataOptions.httpTokens to "required" ' +
                    "(and httpPutResponseHopLimit to 1 to keep pods off the node's role).",
            );
        });

        it("reports a launch template or instance without metadataOptions", async () => {
            const instance = resource("aws:ec2/instance:Instance", "notebook", {
                instanceType: "g5.xlarge",
                ami: "ami-1",
            });
            const messages = (await violationsOf(imdsv2Required, [template({ description: "x" }), instance])).map(
                (v) => v.message,
            );
            assert.deepStrictEqual(
                messages.map((m) => m.split(",")[0]),
                [
                    'launch template "h100-launch-template" does not set metadataOptions.httpTokens',
                    'instance "notebook" does not set metadataOptions.httpTokens',
                ],
            );
        });
    });
});
