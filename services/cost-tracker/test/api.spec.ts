import { describeApiSpecs } from "./api-specs";
import { describeFinopsSpecs } from "./finops-specs";

describeApiSpecs("embedded PGlite");
describeFinopsSpecs("embedded PGlite");
