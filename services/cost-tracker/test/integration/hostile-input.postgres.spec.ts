import { describeHostileInputSpecs } from "../hostile-input-specs";

describeHostileInputSpecs("PostgreSQL");
