import { defineConfig } from 'vitest/config';

// Five projects: unit (pure, fast), integration (real sockets on loopback and test
// namespaces), security (the README's threat model of coding jobs, one file per threat: real
// swarmd run as an unprivileged user, real bubblewrap; one file at a time), real (a real
// llama.cpp llama-server, built once by the project's global setup, one file at a time), e2e
// (real swarmd processes in a test LAN; one file at a time so the daemons don't compete for
// the two cores). Only test/ is searched, never dist/.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 10_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'security',
          include: ['test/security/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'real',
          include: ['test/real/**/*.test.ts'],
          globalSetup: ['test/real/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
