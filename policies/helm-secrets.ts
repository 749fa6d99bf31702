/**
 * Helm values carry no credentials. Helm keeps a release's values in a Secret in the cluster,
 * `helm get values` prints them to anyone who may read it, and Pulumi keeps them in the state;
 * credentials belong in Secrets Manager, reaching pods through the External Secrets Operator.
 * What values may hold instead is a reference: an environment variable the app resolves
 * (`${POSTGRES_PASSWORD}`, Backstage's app-config), an Argo CD secret reference
 * (`$argocd-sso:clientSecret`), a Secrets Manager ARN, or the name of a Kubernetes Secret.
 */
import { parse } from "yaml";
import { resourcePolicy } from "./lib/define";
import { HELM_RELEASE, effectiveValues } from "./lib/helm-values";
import { asRecord } from "./lib/values";

/** A key that holds a credential, compared without case, `-` or `_`, by how it ends. */
const CREDENTIAL_KEY =
    /(password|passwd|passphrase|secret|secretkey|secretaccesskey|token|apikey|privatekey|accesskeyid|connectionstring|authorization|cookie)$/;
/** Keys that name where a credential is kept, not the credential: `existingSecret`, `keyOfSecretAccessKey`, `secretKeyRef`. */
const REFERENCE_KEY = /^(existing|keyof)|(name|ref|selector|file|path|create|enabled|mtime|length)$/;
/** Parents under which every key is a reference (a Secret's name and its keys). */
const REFERENCE_PARENT = /^(existing.*secret.*|secretkeyref|valuefrom|secretref|envfrom)$/;

export const helmValuesNoPlaintextSecrets = resourcePolicy({
    name: "helm-values-no-plaintext-secrets",
    description:
        "Helm releases' effective values (values over valueYamlFiles, YAML text inside them included) hold no credential: no literal value under a " +
        "key naming one (password, secret, token, apiKey, privateKey, accessKeyId, connectionString, Authorization, Cookie, …, in any case or " +
        "separator), no env entry ({name, value}) whose name does, no literal inside a collection of them (passwords or secrets maps, apiKeys or " +
        "tokens lists), no generated-looking value (base64, hex) under a key ending in key or naming auth, credentials, a license, a salt, …, " +
        "no password inside a URL (scheme://user:password@host) and no PEM private key anywhere. References pass: ${ENV_VAR}, $(ENV_VAR), " +
        "{{ templates }}, Argo CD's $secret:key, Secrets Manager and SSM ARNs, and Secret names (existingSecret, …Ref, secrets: [name]).",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [HELM_RELEASE],
    validate: ({ name, props }, _config, report) => {
        const { values, unreadable } = effectiveValues(props);
        for (const reason of unreadable)
            report(
                `Helm release "${name}": ${reason}; its values cannot be checked for credentials: pass them inline.`,
            );
        for (const path of credentialPaths(values, "values")) {
            report(
                `Helm release "${name}" has a credential in ${path}; keep it in Secrets Manager, sync it into a Kubernetes Secret with an ExternalSecret, ` +
                    "and point the chart at that Secret (or at an environment variable filled from it).",
            );
        }
    },
});

/**
 * Collections of credentials, by how their key ends: every literal inside is one (`passwords:
 * {alice: …}`, `apiKeys: [...]`). `secrets` is one too, but its members may also be the names of
 * Kubernetes Secrets (`extraEnvVarsSecrets: [backstage-database]`), which pass.
 */
const CREDENTIAL_COLLECTION =
    /(passwords|passphrases|tokens|apikeys|accesskeys|secretkeys|privatekeys|credentials|secrets)$/;
/** Keys whose value is a credential when it looks generated: `signingKey`, `masterKey`, `tls.key` (not `publicKey`, `sortKey`, …). */
const KEY_SUFFIX = /key$/;
const NOT_A_SECRET_KEY =
    /(public|partition|sort|cache|label|routing|lookup|primary|foreign|hash|shard|idempotency|object|field|column|kms)key$/;
/** Keys under which an encoded blob is a credential: `auth` (a docker config's user:password), `credentials`, `license`, … */
const SECRETISH_KEY =
    /(auth|cred|secret|passw|pwd|token|key|license|signature|salt|hmac|jwt|session|cookie|htpasswd|dockerconfig)/;
/** Keys whose encoded value is a digest of something, not a secret: `checksum/secret`, `caCertHash`. */
const DIGEST_KEY = /(checksum|hash|digest|sha\d*|fingerprint|thumbprint)/;
/** A password inside a URL: `scheme://user:password@host`. */
const URL_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/?#]*:([^\s@/?#]+)@/gi;
const PRIVATE_KEY_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
/** A Kubernetes object name (RFC 1123 subdomain): what a Secret's name looks like. */
const OBJECT_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/** Paths under `path` whose value is a literal credential. */
export function credentialPaths(value: unknown, path: string, parentKey = ""): string[] {
    if (Array.isArray(value)) return listCredentialPaths(value, path, parentKey);
    const record = asRecord(value);
    if (record) return recordCredentialPaths(record, path, parentKey);
    return typeof value === "string" ? stringCredentialPaths(value, path, parentKey) : [];
}

function listCredentialPaths(list: unknown[], path: string, parentKey: string): string[] {
    const collection = isCollectionKey(parentKey);
    return list.flatMap((item, i) => {
        const entry = asRecord(item);
        // An env list: {name: POSTGRES_PASSWORD, value: "…"}.
        if (entry && typeof entry.name === "string" && Object.hasOwn(entry, "value")) {
            if (isCredentialKey(entry.name) && isLiteral(entry.value)) return [`${path}[${i}].value (${entry.name})`];
        }
        if (collection && isCollectionMember(item, parentKey)) return [`${path}[${i}]`];
        return credentialPaths(item, `${path}[${i}]`, parentKey);
    });
}

function recordCredentialPaths(record: Record<string, unknown>, path: string, parentKey: string): string[] {
    if (REFERENCE_PARENT.test(normalized(parentKey))) return [];
    const collection = isCollectionKey(parentKey);
    return Object.entries(record).flatMap(([key, child]) => {
        const childPath = /^[A-Za-z_][\w]*$/.test(key) ? `${path}.${key}` : `${path}["${key}"]`;
        if (isCredentialKey(key) && isLiteral(child)) return [childPath];
        if (collection && isCollectionMember(child, parentKey)) return [childPath];
        if (typeof child === "string" && isLiteral(child) && looksGenerated(child) && isGeneratedSecretKey(key))
            return [childPath];
        return credentialPaths(child, childPath, key);
    });
}

function stringCredentialPaths(value: string, path: string, parentKey: string): string[] {
    // Config files given as YAML text (Argo CD's oidc.config, dex.config, …).
    if (value.includes("\n") && value.includes(":")) {
        const parsed = parseYaml(value);
        if (asRecord(parsed) || Array.isArray(parsed)) return credentialPaths(parsed, `${path} (YAML)`, parentKey);
    }
    const found: string[] = [];
    if ([...value.matchAll(URL_PASSWORD)].some((m) => isLiteral(m[1]))) found.push(`${path} (a password inside a URL)`);
    if (PRIVATE_KEY_PEM.test(value)) found.push(`${path} (a private key)`);
    return found;
}

function normalized(key: string): string {
    return key.toLowerCase().replace(/[-_.\s]/g, "");
}

function isCredentialKey(key: string): boolean {
    const k = normalized(key);
    return CREDENTIAL_KEY.test(k) && !REFERENCE_KEY.test(k) && !DIGEST_KEY.test(k);
}

function isCollectionKey(key: string): boolean {
    const k = normalized(key);
    return CREDENTIAL_COLLECTION.test(k) && !REFERENCE_KEY.test(k) && !REFERENCE_PARENT.test(k);
}

/** A literal member of a credential collection; under `secrets`, a Secret's name is a reference. */
function isCollectionMember(value: unknown, collectionKey: string): boolean {
    if (!isLiteral(value)) return false;
    return !(
        normalized(collectionKey).endsWith("secrets") &&
        OBJECT_NAME.test(value as string) &&
        !looksGenerated(value as string)
    );
}

/** `signingKey`, `tls.key`, a blob under `auth`: credentials when the value looks generated. */
function isGeneratedSecretKey(key: string): boolean {
    const k = normalized(key);
    if (REFERENCE_KEY.test(k) || DIGEST_KEY.test(k) || NOT_A_SECRET_KEY.test(k)) return false;
    return KEY_SUFFIX.test(k) || SECRETISH_KEY.test(k);
}

/**
 * Base64, base64url or hex of some length, with letters and digits mixed (or base64 padding and
 * symbols): what generated keys and tokens look like; words, names and paths do not.
 */
function looksGenerated(value: string): boolean {
    const v = value.trim();
    if (v.length < 16 || !/^[A-Za-z0-9+/_=-]+$/.test(v) || !/[A-Za-z]/.test(v)) return false;
    const digits = (v.match(/\d/g) ?? []).length;
    const mixedCase = /[A-Z]/.test(v) && /[a-z]/.test(v);
    // Base64's symbols, with what words and label keys ("gpu-platform/team") lack.
    if (/[+/=]/.test(v) && (digits > 0 || mixedCase)) return true;
    // Words joined by dashes or dots with a date in them ("ml-research-2024-01") are names, not keys.
    return digits >= 2 && (mixedCase || !/[-.]/.test(v));
}

/** A non-empty string that is not a reference (`${VAR}`, `$(VAR)`, `$secret:key`, `{{ template }}`, an ARN), once schemes like `Bearer` are set aside. */
function isLiteral(value: unknown): boolean {
    if (typeof value !== "string") return false;
    const rest = value
        .replace(/\$\{[A-Za-z_][\w.-]*\}/g, "")
        .replace(/\$\([A-Za-z_][\w]*\)/g, "")
        .replace(/\{\{[^}]*\}\}/g, "")
        .replace(/^\s*(Bearer|Basic|token)\s*/i, "")
        .replace(/^[\w.-]+=$/, "")
        .trim();
    if (rest === "") return false;
    return !/^\$[\w.-]+(:[\w.-]+)?$/.test(rest) && !/^arn:aws[a-z-]*:(secretsmanager|ssm):/.test(rest);
}

function parseYaml(text: string): unknown {
    try {
        return parse(text);
    } catch {
        return undefined;
    }
}
