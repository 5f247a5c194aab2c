import { defineConfig } from 'vitest/config'

// Five projects: fast unit tests (fakes allowed), three end-to-end suites that drive the real CLI
// against real Spark on a real Docker engine (test/e2e/ground.ts), on a real single-node
// Kubernetes built here (test/e2e/kube-ground.ts) and on a real minikube made offline here
// (test/e2e/minikube-ground.ts), and contract tests of the real minikube binary
// (test/contract/). One file at a time: they share the machine. In this order (groupOrder): the
// grounds the later suites need are made in the background while the earlier ones run
// (test/background-ground.ts).
export default defineConfig({
  test: {
    maxWorkers: 1,
    // After the projects' setups: the bundle the CLI tests run is built from the current sources, then
    // the grounds the projects registered are started (test/background-ground.ts).
    globalSetup: ['test/build-bundle.ts', 'test/grounds-start.ts'],
    // One budget for every teardown: the Kubernetes ground stops nine daemons and cleans iptables,
    // the minikube ground deletes its profile.
    teardownTimeout: 600_000,
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e-docker',
          sequence: { groupOrder: 1 },
          include: ['test/e2e/**/*.e2e.ts'],
          globalSetup: ['test/e2e/ground.ts'],
          fileParallelism: false,
          testTimeout: 15 * 60_000,
          hookTimeout: 45 * 60_000,
        },
      },
      {
        test: {
          name: 'e2e-kube',
          sequence: { groupOrder: 2 },
          include: ['test/e2e/**/*.kube.ts'],
          globalSetup: ['test/e2e/kube-ground.ts'],
          fileParallelism: false,
          testTimeout: 15 * 60_000,
          hookTimeout: 60 * 60_000,
        },
      },
      {
        // The real minikube binary (built from source and cached) against the recorded fixtures and
        // scripts/lib/kube/minikube.ts; no cluster is started (test/contract/minikube-ground.ts).
        test: {
          name: 'contract',
          sequence: { groupOrder: 3 },
          include: ['test/contract/**/*.contract.ts'],
          globalSetup: ['test/contract/minikube-ground.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The classic README's minikube path against a real minikube made offline here (test/e2e/minikube-ground.ts).
        test: {
          name: 'e2e-minikube',
          sequence: { groupOrder: 4 },
          include: ['test/e2e/**/*.minikube.ts'],
          globalSetup: ['test/e2e/minikube-ground.ts'],
          fileParallelism: false,
          testTimeout: 15 * 60_000,
          hookTimeout: 45 * 60_000,
        },
      },
    ],
  },
})
