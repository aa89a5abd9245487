import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const demo = resolve(import.meta.dirname, 'train-demo.ts');
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--conditions=@marginkit/source', '--import', 'tsx', demo, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('npm run demo: a bad command line', () => {
  it.each([
    [['--bogus'], /^demo: Unknown option '--bogus'/],
    [['--dim', '0'], /^demo: --dim must be a positive integer, got 0/],
    [['--backend', 'gpu'], /^demo: --backend must be wasm or cpu, got gpu/],
    [['--losses', 'arcface,arcfce'], /^demo: --losses: unknown loss "arcfce"; known: softmax, .*arcface/],
  ])('%j says what is wrong and how to call it, exits 2, trains nothing', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('usage: npm run demo -- [--quick]');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stdout).not.toContain('marginkit demo'); // stopped before any work
  });
});
