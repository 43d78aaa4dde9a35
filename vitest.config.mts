import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // allowOnly stays at vitest's default: false when CI is set.
    pool: 'forks',
    reporters: ['default', './test/summaryReporter.ts'],
  },
});
