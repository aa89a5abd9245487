import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run on source: workspace packages resolve through the "@marginkit/source" export condition
// (namespaced, so that no other package's "source" export is picked up).
const conditions = ['@marginkit/source', 'module', 'node', 'import', 'default'];
// Every test fails if it prints (vitest.setup.ts); projects that run TensorFlow.js in Node also set
// tfjs's PROD flag, which silences its "running TensorFlow.js in Node.js" banner.
const quiet = fileURLToPath(new URL('./vitest.setup.ts', import.meta.url));
const tfjsTestEnv = fileURLToPath(new URL('./packages/backend-tfjs/test/tfjs-test-env.ts', import.meta.url));
const project = (name: string, root: string, { tfjs = false }: { tfjs?: boolean } = {}) => ({
  extends: true as const,
  test: { name, root, include: ['src/**/*.test.ts', 'test/**/*.test.ts'], setupFiles: tfjs ? [tfjsTestEnv, quiet] : [quiet] },
});

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@marginkit/source'] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
    projects: [
      project('core', 'packages/core'),
      project('losses', 'packages/losses', { tfjs: true }),
      project('backend-tfjs', 'packages/backend-tfjs', { tfjs: true }),
      project('backend-ort', 'packages/backend-ort', { tfjs: true }),
      project('eval', 'packages/eval'),
      project('examples', 'examples', { tfjs: true }),
      project('docs', 'docs', { tfjs: true }),
      project('browser', 'tests/browser'),
      project('cross-backend', 'tests/cross-backend', { tfjs: true }),
    ],
  },
});
