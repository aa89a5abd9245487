/**
 * Runs an extracted example (see ../scripts/extract-examples.ts) with console.log silenced, and
 * checks that each commented `console.log` call printed what its comment says.
 */
import { pathToFileURL } from 'node:url';
import { vi } from 'vitest';
import type { ExtractedExample } from '../scripts/extract-examples.js';
import { PRINTED_HOOK, matchesPrinted, renderArgs } from './printed-output.js';

/** Records what each checked call site printed while `body` runs (the examples run one at a time). */
export async function recordPrints(body: () => Promise<unknown>): Promise<Map<number, unknown[][]>> {
  const printed = new Map<number, unknown[][]>();
  const hook =
    (id: number) =>
    (...args: unknown[]) => {
      const calls = printed.get(id) ?? [];
      printed.set(id, calls);
      calls.push(args);
    };
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  Reflect.set(globalThis, PRINTED_HOOK, hook);
  try {
    await body();
  } finally {
    Reflect.deleteProperty(globalThis, PRINTED_HOOK);
    log.mockRestore();
  }
  return printed;
}

/** Where a call site printed something other than its comment, or never printed: one line each. */
export function printProblems(example: ExtractedExample, printed: ReadonlyMap<number, readonly unknown[][]>): string[] {
  return example.checks.flatMap((check) => {
    const calls = printed.get(check.id) ?? [];
    const where = `line ${check.line - 2} of ${example.entry} ${example.symbol}`;
    if (calls.length === 0) return [`${where}: never printed; the comment says ${check.expected}`];
    return calls
      .filter((args) => !matchesPrinted(check.expected, args))
      .map((args) => `${where}: printed ${renderArgs(args, 'quoted')}; the comment says ${check.expected}`);
  });
}

/** Imports the example's run copy, then returns its print problems. */
export async function runExample(example: ExtractedExample): Promise<string[]> {
  const printed = await recordPrints(() => import(/* @vite-ignore */ pathToFileURL(example.run).href));
  return printProblems(example, printed);
}
