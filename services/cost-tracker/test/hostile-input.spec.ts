import { describeHostileInputSpecs } from "./hostile-input-specs";

describeHostileInputSpecs("embedded PGlite");
