/**
 * The policy engine's unknown-value proxy and its error, taken from @pulumi/policy's own module
 * (the package index re-exports these same objects): the index also loads the whole Pulumi SDK,
 * which the offline plan's process does not otherwise need. The package's typings leave both
 * out (its proxy.d.ts is empty), so they are typed here from @pulumi/policy 1.21.0's proxy.js.
 */
interface ProxyModule {
    /** Thrown when a policy reads a value the preview does not know yet. */
    UnknownValueError: new (message: string) => Error;
    /** Wraps an object so that reading an unknown value throws UnknownValueError. */
    unknownCheckingProxy: <T extends object>(object: T) => T;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxy = require("@pulumi/policy/proxy") as ProxyModule;

export const UnknownValueError = proxy.UnknownValueError;
export const unknownCheckingProxy = proxy.unknownCheckingProxy;
