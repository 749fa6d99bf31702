/**
 * Telling a credential from a setting in plain configuration (container environments, build
 * variables): by the name it is given, or by its shape whatever its name.
 */

/** Names that hold a credential, compared without case, `-` or `_`, by how they end (DB_PASSWORD, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, ECS_ENGINE_AUTH_DATA). */
const CREDENTIAL_NAME =
    /(password|passwd|passphrase|secret|secretkey|secretaccesskey|sessiontoken|token|apikey|privatekey|accesskeyid|credentials?|connectionstring|authdata|authorization)$/;

/** Values that are credentials whatever they are called: AWS access key ids, and URLs carrying a password. */
const CREDENTIAL_SHAPES: readonly { what: string; pattern: RegExp }[] = [
    { what: "an AWS access key id", pattern: /\b(AKIA|ASIA)[A-Z0-9]{16}\b/ },
    { what: "a URL with a password", pattern: /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i },
];

/** Why `value` under `name` is a plaintext credential, or undefined when it is not one. */
export function plaintextCredential(name: string, value: unknown): string | undefined {
    if (typeof value !== "string" || value.trim() === "") return undefined;
    const shape = CREDENTIAL_SHAPES.find((s) => s.pattern.test(value.trim()));
    if (shape) return `holds ${shape.what}`;
    const normalized = name.toLowerCase().replace(/[-_.\s]/g, "");
    if (!CREDENTIAL_NAME.test(normalized)) return undefined;
    // A reference to where the credential is kept is not the credential.
    if (/^arn:aws[a-z-]*:(secretsmanager|ssm):/.test(value.trim())) return undefined;
    return "names a credential";
}
