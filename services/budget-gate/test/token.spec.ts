import * as assert from "assert";
import { tokenFromSecret } from "../src/token";

describe("budget gate: its token from the platform's secret", () => {
    it("presents the current token of a rotating secret, and a plain token as it is", () => {
        assert.strictEqual(
            tokenFromSecret('{"current":"new-token-0123456789","previous":"old-token-0123456789"}'),
            "new-token-0123456789",
        );
        assert.strictEqual(tokenFromSecret("plain-token-0123456789"), "plain-token-0123456789");
    });

    it("refuses a secret it cannot read, saying what it expected", () => {
        assert.throws(() => tokenFromSecret("{not json"), /not valid JSON; expected \{"current": "…"\}/);
        assert.throws(() => tokenFromSecret('{"previous":"old-token-0123456789"}'), /has no "current" token/);
    });
});
