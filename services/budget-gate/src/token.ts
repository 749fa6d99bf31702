/**
 * The gate's credential as the cost tracker's platform secret holds it: `{"current": …}`, with
 * `"previous"` beside it while a rotation is under way (docs/cost-tracker-api.md). The gate
 * presents the current one; a plain token is taken as it is.
 */
export function tokenFromSecret(secretString: string): string {
    if (!secretString.trimStart().startsWith("{")) return secretString;
    let doc: unknown;
    try {
        doc = JSON.parse(secretString);
    } catch {
        throw new Error('the cost tracker token secret is not valid JSON; expected {"current": "…"}');
    }
    const current = (doc as { current?: unknown }).current;
    if (typeof current !== "string" || current === "")
        throw new Error('the cost tracker token secret has no "current" token');
    return current;
}
