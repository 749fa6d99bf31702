/**
 * Pulumi hands structured values over as JSON text: config values (`pulumi.Config.get`), and
 * provider inputs such as `defaultTags` as the engine records them. Plain strings come as they
 * are, so a reader parses what is JSON and keeps a fallback for what is not.
 */
export function parseJsonOr<T>(text: string, fallback: T): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return fallback;
    }
}
