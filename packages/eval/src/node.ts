/**
 * `@marginkit/eval/node`: file helpers and the `marginkit-eval` command line, for Node.
 *
 * @example
 * ```ts
 * import { runCli } from '@marginkit/eval/node';
 * const code = await runCli(['--help'], { stdout: () => {}, stderr: () => {} });
 * console.log(code); // 0
 * ```
 *
 * @packageDocumentation
 */
export { type CliIo, runCli } from './cli.js';
export { readMatrixFile, readNpyFile } from './node-files.js';
