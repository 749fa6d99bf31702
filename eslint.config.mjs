// One linter for every TypeScript workspace: typescript-eslint's recommended type-checked
// rules, plus the rules the code kept by hand before (no floating promises, own-property
// lookups only: no `in` with a key that may come from a user).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: [
            "**/node_modules/",
            "backstage/",
            "dist/",
            "**/dist/",
            "examples/",
            // A team's program, checked by the team's own tsconfig (test/integration/team-scaffold.spec.ts).
            "tools/create-team/template/",
            "**/test/fixtures/",
            "**/*.js",
            "**/*.mjs",
            "**/*.cjs",
            ".stryker-tmp/",
            "reports/",
            // the mutated copy `npm run mutation:sql` keeps beside a migration while it runs
            "**/*.sql-mutant-*.ts",
        ],
    },
    js.configs.recommended,
    tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        rules: {
            "@typescript-eslint/no-floating-promises": "error",
            "no-prototype-builtins": "error",
            // A hook declared before the object it needs exists, read by closures made earlier.
            "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
            "prefer-object-has-own": "error",
            "no-restricted-syntax": [
                "error",
                {
                    // A literal key narrows a union; a computed one may be a name a user chose.
                    selector: "BinaryExpression[operator='in'][left.type!='Literal']",
                    message:
                        '`key in object` also finds inherited keys (`"constructor" in {}` is true): use Object.hasOwn(object, key).',
                },
            ],
        },
    },
    {
        // A function a reader can hold in one screen: long ones become named steps (issue 23).
        files: ["components/**/*.ts", "platform.ts", "services/*/src/**/*.ts"],
        rules: {
            "max-lines-per-function": ["error", { max: 80, skipBlankLines: true, skipComments: true }],
        },
    },
    {
        // Specs and benchmarks inspect recorded resources and answers, whose shapes are the point of
        // the test; their doubles implement async interfaces synchronously; and the mock harness
        // must require code after setMocks.
        files: ["test/**", "**/test/**", "bench/**"],
        rules: {
            "@typescript-eslint/require-await": "off",
            "@typescript-eslint/no-require-imports": "off",
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-call": "off",
            "@typescript-eslint/no-unsafe-return": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
        },
    },
);
