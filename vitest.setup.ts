/**
 * Vitest setup of every project: a passing `npm test` prints vitest's report and nothing else.
 *
 * While a test runs (its body and its beforeEach/afterEach hooks), what reaches the console
 * (log, info, warn, error, debug, trace) or process.stdout/stderr is recorded and still printed,
 * and the test fails with it. A library's banner or warning is silenced at its source (a flag or
 * option of that library); a test about what is printed captures it first, e.g.
 * `vi.spyOn(console, 'warn').mockImplementation(() => {})`, which replaces the console method so
 * that nothing reaches this guard. What a test file prints while it is collected (a notice that a
 * suite is skipped because Chromium or python3-onnx is missing) is not a test's output and passes.
 *
 * Native code that writes to file descriptor 2 itself (onnxruntime's own log lines) bypasses
 * Node's streams; .ci/run checks the whole `npm test` output for those.
 */
import { afterEach, beforeEach } from 'vitest';

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

let recording = false;
let printed: string[] = [];

function record(where: string, what: string): void {
  if (recording) printed.push(`${where}: ${what.trimEnd()}`);
}

for (const method of CONSOLE_METHODS) {
  const original = console[method];
  console[method] = (...args: unknown[]) => {
    record(`console.${method}`, args.map(String).join(' '));
    original.apply(console, args);
  };
}

for (const name of ['stdout', 'stderr'] as const) {
  const stream = process[name];
  const write = stream.write;
  stream.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
    record(`process.${name}`, typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return Reflect.apply(write, stream, [chunk, ...rest]);
  };
}

beforeEach(() => {
  printed = [];
  recording = true;
});

afterEach(() => {
  recording = false;
  if (printed.length === 0) return;
  const lines = printed.join('\n');
  printed = [];
  throw new Error(`this test printed (npm test stays quiet: silence the source, or capture the output and assert on it):\n${lines}`);
});
