import { defineConfig } from 'vitest/config';

// Tests run on source: workspace packages resolve through the "source" export condition.
const conditions = ['source', 'module', 'node', 'import', 'default'];
const project = (name: string, root: string, extra: { testTimeout?: number } = {}) => ({
  extends: true as const,
  test: { name, root, include: ['src/**/*.test.ts', 'test/**/*.test.ts'], ...extra },
});

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
    projects: [
      project('core', 'packages/core'),
      project('losses', 'packages/losses'),
      project('backend-tfjs', 'packages/backend-tfjs'),
      project('backend-ort', 'packages/backend-ort'),
      project('eval', 'packages/eval'),
      project('examples', 'examples'),
      project('docs', 'docs'),
      project('browser', 'tests/browser'),
      project('cross-backend', 'tests/cross-backend'),
    ],
  },
});
