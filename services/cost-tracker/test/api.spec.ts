import { describeApiSpecs } from "./api-specs";

describeApiSpecs("embedded PGlite");
