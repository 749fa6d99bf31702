/**
 * The CrossGuard policy pack, as `pulumi preview --policy-pack policies
 * --policy-pack-config policies/config.<stack>.json` runs it. Constructing the PolicyPack starts
 * its gRPC server, so nothing else imports this file: tests and the offline plan take the
 * policies from all-policies.ts.
 */
import { PolicyPack } from "@pulumi/policy";
import { ALL_POLICIES, PACK_NAME } from "./all-policies";

new PolicyPack(PACK_NAME, {
    description:
        "GPU limits, budget tags, the stack's monthly budget and a security baseline for the GPU developer platform.",
    // Each policy sets its own level; policies/config.<stack>.json may change it per stack.
    policies: [...ALL_POLICIES],
});
