import { defineConfig } from 'vitest/config';

// Tests run on source: workspace packages resolve through the "@marginkit/source" export condition
// (namespaced, so that no other package's "source" export is picked up).
const conditions = ['@marginkit/source', 'module', 'node', 'import', 'default'];
const project = (name: string, root: string, extra: { testTimeout?: number } = {}) => ({
  extends: true as const,
  test: { name, root, include: ['src/**/*.test.ts', 'test/**/*.test.ts'], ...extra },
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
