module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  overrides: [
    {
      // The specs start the real cost tracker through the workspace's shared test helper
      // (backstage/test-utils), which is not a package of its own.
      files: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
      rules: { '@backstage/no-relative-monorepo-imports': 'off' },
    },
  ],
});
