/**
 * The policy engine's unknown-value proxy and its error, taken from @pulumi/policy's own module
 * (the package index re-exports these same objects): the index also loads the whole Pulumi SDK,
 * which the offline plan's process does not otherwise need. The module ships no typings of its
 * own, so its exports are typed from the index's.
 */
import type * as policy from "@pulumi/policy";

const proxy = require("@pulumi/policy/proxy") as Pick<typeof policy, "UnknownValueError" | "unknownCheckingProxy">;

export const UnknownValueError = proxy.UnknownValueError;
export const unknownCheckingProxy = proxy.unknownCheckingProxy;
