import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // The end-to-end suites drive real make/gcc/Nx builds: no per-test wall-clock limits.
    testTimeout: 0,
    hookTimeout: 0,
    fileParallelism: false,
    globalSetup: ['test/helpers/run-tmpdir.ts'],
  },
});
