import * as assert from "assert";
import { describeApiSpecs } from "../api-specs";
import { describeFinopsSpecs } from "../finops-specs";
import { testDatabase } from "../helpers";

describe("the integration run", () => {
    it("runs on a PostgreSQL server, not embedded PGlite", async () => {
        assert.ok(process.env.TEST_DATABASE_URL, "TEST_DATABASE_URL is set by scripts/with-postgres.sh");
        assert.strictEqual((await testDatabase()).kind, "postgres");
    });
});

describeApiSpecs("PostgreSQL");
describeFinopsSpecs("PostgreSQL");
