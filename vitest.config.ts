import { defineConfig } from 'vitest/config'

// Two projects: fast unit tests (fakes allowed), and the end-to-end suite that drives the real CLI
// against a real Docker engine and real Spark (see test/e2e/ground.ts for what it needs).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e-docker',
          include: ['test/e2e/**/*.e2e.ts'],
          globalSetup: ['test/e2e/ground.ts'],
          fileParallelism: false,
          testTimeout: 15 * 60_000,
          hookTimeout: 45 * 60_000,
        },
      },
    ],
  },
})
