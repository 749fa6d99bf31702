/** A policy config file that does not parse or does not fit the pack; the message is one line. */
export class PolicyConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PolicyConfigError";
    }
}
