import { configDefaults, defineConfig } from 'vitest/config';

// test/conformance/ needs ../shared beside the clone: `npm run conformance` runs it.
const conformance = process.env.TRIG_CONFORMANCE === '1';

export default defineConfig({
  test: {
    include: conformance ? ['test/conformance/**/*.test.ts'] : ['test/**/*.test.ts'],
    exclude: conformance ? configDefaults.exclude : [...configDefaults.exclude, 'test/conformance/**'],
    setupFiles: ['test/helpers/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
