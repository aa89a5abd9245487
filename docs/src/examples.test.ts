import { describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OUT_DIR, extractExamples } from '../scripts/extract-examples.js';

// Every @example in the TSDoc of the public API runs (the docs typecheck task also type-checks them).
const { examples, missing } = extractExamples();

describe('TSDoc examples', () => {
  it('every value export has an @example', () => {
    expect(missing).toEqual([]);
  });
  it('there are examples to run', () => {
    expect(examples.length).toBeGreaterThan(40);
  });
  const registersSuites = (e: (typeof examples)[number]) => /Suite\(/.test(readFileSync(join(OUT_DIR, e.file), 'utf8'));
  // Examples that register vitest suites (the conformance kit) run at collection time.
  for (const e of examples.filter(registersSuites)) {
    describe(`${e.entry} ${e.symbol} (${e.file}) registers and passes its suites`, async () => {
      await import(/* @vite-ignore */ pathToFileURL(join(OUT_DIR, e.file)).href);
    });
  }
  it.each(examples.filter((e) => !registersSuites(e)).map((e) => [`${e.entry} ${e.symbol} (${e.file})`, e] as const))('%s runs', async (_, e) => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import(/* @vite-ignore */ pathToFileURL(join(OUT_DIR, e.file)).href);
    } finally {
      log.mockRestore();
    }
  });
});
