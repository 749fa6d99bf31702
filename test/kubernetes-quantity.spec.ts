import * as assert from "assert";
import { isWholeQuantity, parseQuantity, quantityValue } from "@gpu-platform/catalog/kubernetes-quantity";

/**
 * Cases from apimachinery's own TestQuantityParse (k8s.io/apimachinery pkg/api/resource
 * quantity_test.go), each with the value its expected Quantity denotes, worked out by hand.
 */
const PARSED: [string, string][] = [
    ["0", "0"],
    ["0Ki", "0"],
    ["1Ki", "1024"],
    ["7Mi", String(7 * 1024 * 1024)],
    ["5n", "0.000000005"],
    ["3m", "0.003"],
    ["50k", "50000"],
    ["1E", "1000000000000000000"],
    ["1E-3", "0.001"],
    ["1e3", "1000"],
    ["100.035k", "100035"],
    ["0.0005k", "0.5"],
    ["0.5e-2", "0.005"],
    ["10.035M", "10035000"],
    ["1.3E+6", "1300000"],
    ["8.1k", "8100"],
    ["12E", "12000000000000000000"],
    ["100.035Ki", "102435.84"],
    ["0.5Mi", "524288"],
    [".001", "0.001"],
    [".0001k", "0.1"],
    ["1.", "1"],
    ["1.G", "1000000000"],
    // Finer than a nano: rounded up, away from zero.
    ["3.001n", "0.000000004"],
    ["1.1E-9", "0.000000002"],
    ["0.0000000001", "0.000000001"],
    ["0.00000012345", "0.000000124"],
    ["0.000000000001Ki", "0.000000002"],
    // Binary quantities are capped at 2^63 - 1.
    ["9Ei", "9223372036854775807"],
];
/** TestQuantityParse's invalid inputs, and a lone "e", which suffix.go refuses. */
const REFUSED = ["1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", "1e", "1K", "", "0x10"];

/** The exact decimal text of a parsed quantity. */
function decimal(text: string): string | undefined {
    const q = parseQuantity(text);
    if (!q) return undefined;
    const digits = (q.unscaled < 0n ? -q.unscaled : q.unscaled).toString();
    const sign = q.unscaled < 0n ? "-" : "";
    if (q.scale >= 0) return sign + digits + "0".repeat(q.scale);
    const padded = digits.padStart(-q.scale + 1, "0");
    const [whole, fraction] = [padded.slice(0, q.scale), padded.slice(q.scale).replace(/0+$/, "")];
    return sign + whole + (fraction ? `.${fraction}` : "");
}

describe("catalog: Kubernetes quantities, parsed as apimachinery parses them", () => {
    it("gives the value of each documented case", () => {
        assert.deepStrictEqual(
            PARSED.map(([text]) => [text, decimal(text)]),
            PARSED,
        );
    });

    it("takes a sign, and a JSON number as its text", () => {
        assert.strictEqual(decimal("-1.5Ki"), "-1536");
        assert.strictEqual(decimal("+16000m"), "16");
        assert.strictEqual(decimal(1e21 as unknown as string), "1000000000000000000000");
        assert.strictEqual(parseQuantity(8.5) && quantityValue(parseQuantity(8.5)!), 8.5);
    });

    it("trims surrounding whitespace, as the API server's JSON decoding does", () => {
        assert.strictEqual(decimal(" 8 "), "8");
    });

    it("refuses what the API server refuses", () => {
        assert.deepStrictEqual(
            REFUSED.filter((text) => parseQuantity(text) !== undefined),
            [],
        );
        assert.strictEqual(parseQuantity(Number.NaN), undefined);
    });

    it("tells whole numbers from fractions, and rounding can make one whole ('0.9999999999' is 1)", () => {
        assert.deepStrictEqual(
            ["16000m", "0.016k", "1e1", "0.9999999999", "1500m", "0.5"].map((t) => isWholeQuantity(parseQuantity(t)!)),
            [true, true, true, true, false, false],
        );
    });

    it("handles absurd exponents without building huge numbers", () => {
        assert.strictEqual(quantityValue(parseQuantity("1e400")!), Infinity);
        assert.strictEqual(decimal("1e-400"), "0.000000001");
        assert.strictEqual(quantityValue(parseQuantity("1e9999999999")!), Infinity);
    });
});
