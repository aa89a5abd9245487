import { describe, expect, it } from 'vitest';
import { extractReadme } from '../scripts/extract-examples.js';
import { runExample } from './run-example.js';

// Every TypeScript block of README.md runs on its own, as printed (tfjs on its cpu backend,
// onnxruntime-node), and prints what its comments say.
const blocks = extractReadme();

describe('README.md', () => {
  it('has TypeScript blocks to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
  });
  it.each(blocks.map((b) => [b.symbol, b] as const))('%s runs as printed and prints what its comments say', async (_, block) => {
    expect(await runExample(block)).toEqual([]);
  });
});
