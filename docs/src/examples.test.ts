import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { extractExamples } from '../scripts/extract-examples.js';
import { printProblems, recordPrints, runExample } from './run-example.js';

// Every @example in the TSDoc of the public API, and every guide, runs and prints what its
// comments say (the docs typecheck task also type-checks them).
const { examples, missing } = extractExamples();

describe('TSDoc examples', () => {
  it('every value export has an @example', () => {
    expect(missing).toEqual([]);
  });
  it('there are examples to run, and printed values to check', () => {
    expect(examples.length).toBeGreaterThan(40);
    expect(examples.flatMap((e) => e.checks).length).toBeGreaterThan(150);
  });
  const registersSuites = (e: (typeof examples)[number]) => /Suite\(/.test(readFileSync(e.file, 'utf8'));
  // Examples that register vitest suites (the conformance kit) run at collection time.
  for (const e of examples.filter(registersSuites)) {
    describe(`${e.entry} ${e.symbol} registers and passes its suites`, async () => {
      const printed = await recordPrints(() => import(/* @vite-ignore */ pathToFileURL(e.run).href));
      it('prints what its comments say', () => {
        expect(printProblems(e, printed)).toEqual([]);
      });
    });
  }
  it.each(examples.filter((e) => !registersSuites(e)).map((e) => [`${e.entry} ${e.symbol} (${e.file.split('/').pop()})`, e] as const))(
    '%s runs and prints what its comments say',
    async (_, e) => {
      expect(await runExample(e)).toEqual([]);
    },
  );
});
