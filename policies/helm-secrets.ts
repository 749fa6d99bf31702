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
        "key naming one (password, secret, token, apiKey, privateKey, accessKeyId, connectionString, Authorization, Cookie, …) and no env entry " +
        "({name, value}) whose name does. References pass: ${ENV_VAR}, Argo CD's $secret:key, Secrets Manager ARNs, and Secret names (existingSecret, …Ref).",
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

/** Paths under `path` whose value is a literal credential. */
export function credentialPaths(value: unknown, path: string, parentKey = ""): string[] {
    if (Array.isArray(value)) {
        return value.flatMap((item, i) => {
            const entry = asRecord(item);
            // An env list: {name: POSTGRES_PASSWORD, value: "…"}.
            if (
                entry &&
                typeof entry.name === "string" &&
                Object.hasOwn(entry, "value") &&
                isCredentialKey(entry.name) &&
                isLiteral(entry.value)
            )
                return [`${path}[${i}].value (${entry.name})`];
            return credentialPaths(item, `${path}[${i}]`, parentKey);
        });
    }
    const record = asRecord(value);
    if (record) {
        if (REFERENCE_PARENT.test(normalized(parentKey))) return [];
        return Object.entries(record).flatMap(([key, child]) => {
            const childPath = /^[A-Za-z_][\w]*$/.test(key) ? `${path}.${key}` : `${path}["${key}"]`;
            if (isCredentialKey(key) && isLiteral(child)) return [childPath];
            return credentialPaths(child, childPath, key);
        });
    }
    // Config files given as YAML text (Argo CD's oidc.config, dex.config, …).
    if (typeof value === "string" && value.includes("\n") && value.includes(":")) {
        const parsed = parseYaml(value);
        if (asRecord(parsed) || Array.isArray(parsed)) return credentialPaths(parsed, `${path} (YAML)`, parentKey);
    }
    return [];
}

function normalized(key: string): string {
    return key.toLowerCase().replace(/[-_.\s]/g, "");
}

function isCredentialKey(key: string): boolean {
    const k = normalized(key);
    return CREDENTIAL_KEY.test(k) && !REFERENCE_KEY.test(k);
}

/** A non-empty string that is not a reference (`${VAR}`, `$secret:key`, an ARN), once schemes like `Bearer` are set aside. */
function isLiteral(value: unknown): boolean {
    if (typeof value !== "string") return false;
    const rest = value
        .replace(/\$\{[A-Za-z_][\w.-]*\}/g, "")
        .replace(/^\s*(Bearer|Basic|token)\s*/i, "")
        .replace(/^[\w.-]+=$/, "")
        .trim();
    if (rest === "") return false;
    return !/^\$[\w.-]+(:[\w.-]+)?$/.test(rest) && !/^arn:aws[a-z-]*:secretsmanager:/.test(rest);
}

function parseYaml(text: string): unknown {
    try {
        return parse(text);
    } catch {
        return undefined;
    }
}
