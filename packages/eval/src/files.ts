/**
 * Node file helpers of the CLI: reads that name the file in every error, and an output folder
 * that is checked before the work and written all at once at the end. @internal
 *
 * @packageDocumentation
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EvalFileError } from './errors.js';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory, expected a file',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EEXIST: 'already exists',
  EBUSY: 'is busy',
  EIO: 'input/output error',
  EINVAL: 'invalid path for this file system',
};

/** Turns a Node I/O error into an {@link EvalFileError} naming `file`. @internal */
export function fileError(argument: string, file: string, error: unknown, doing?: string): EvalFileError {
  const e = error as NodeJS.ErrnoException;
  const reason = (e?.code !== undefined ? REASONS[e.code] : undefined) ?? (e instanceof Error ? e.message : String(e));
  return new EvalFileError(argument, file, `${doing ? `${doing}: ` : ''}${reason}${e?.code ? ` (${e.code})` : ''}`, { cause: error });
}

/**
 * Checks that `path` is a readable regular file (not a directory, FIFO or device, which would
 * fail late or block). @internal
 */
export function checkInputFile(path: string, argument: string): void {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch (e) {
    throw fileError(argument, path, e);
  }
  if (stats.isDirectory()) throw new EvalFileError(argument, path, 'is a directory, expected a file');
  if (!stats.isFile()) throw new EvalFileError(argument, path, 'is not a regular file');
}

/** Reads a file; every error is an {@link EvalFileError} naming it. @internal */
export function readInputFile(path: string, argument: string): Buffer {
  checkInputFile(path, argument);
  try {
    return readFileSync(path);
  } catch (e) {
    throw fileError(argument, path, e);
  }
}

/** Reads a text file (UTF-8); every error is an {@link EvalFileError} naming it. @internal */
export function readTextFile(path: string, argument: string): string {
  const bytes = readInputFile(path, argument);
  try {
    return bytes.toString('utf8');
  } catch (e) {
    throw fileError(argument, path, e, 'cannot decode');
  }
}

/**
 * `mkdir -p` without Node's recursive mkdir (which spins forever under /proc): creates each
 * missing folder in turn and returns the first one created (undefined if none was).
 */
function makeFolders(dir: string, argument: string): string | undefined {
  const missing: string[] = [];
  let at = dir;
  for (;;) {
    let stats: ReturnType<typeof statSync> | undefined;
    try {
      stats = statSync(at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw fileError(argument, dir, e, 'cannot create the folder');
    }
    if (stats) {
      if (!stats.isDirectory())
        throw new EvalFileError(argument, dir, at === dir ? 'exists and is not a folder' : `cannot create the folder: ${at} is a file, not a folder`);
      break;
    }
    missing.push(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  const created = missing[missing.length - 1];
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i]!);
    } catch (e) {
      if (created !== undefined && i < missing.length - 1) rmSync(created, { recursive: true, force: true });
      // ENOENT from mkdir in an existing folder: a virtual file system (/proc, /sys) that takes no new entries.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new EvalFileError(argument, dir, `cannot create the folder: ${dirname(missing[i]!)} does not accept new folders (ENOENT)`);
      throw fileError(argument, dir, e, 'cannot create the folder');
    }
  }
  return created;
}

/**
 * An output folder checked up front (created if needed, a probe file written and removed) whose
 * files are kept in memory and written together by {@link OutputFolder.commit}: each to a
 * temporary name, then renamed, so a failed run leaves the folder as it was. @internal
 */
export class OutputFolder {
  readonly dir: string;
  private readonly argument: string;
  private readonly created: string | undefined;
  private readonly pending = new Map<string, string>();

  /**
   * @param dir - the folder.
   * @param names - the files the run will write (checked: an existing one must be a regular file).
   * @param argument - the option naming the folder, for errors.
   */
  constructor(dir: string, names: readonly string[], argument = '--out') {
    this.dir = resolve(dir);
    this.argument = argument;
    this.created = makeFolders(this.dir, argument);
    try {
      for (const name of names) {
        const path = join(this.dir, name);
        let stats: ReturnType<typeof statSync> | undefined;
        try {
          stats = statSync(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(argument, path, e);
        }
        if (stats && !stats.isFile()) throw new EvalFileError(argument, path, 'exists and is not a regular file; it cannot be replaced');
      }
      const probe = join(this.dir, `.marginkit-eval-probe-${process.pid}`);
      try {
        closeSync(openSync(probe, 'wx'));
        unlinkSync(probe);
      } catch (e) {
        throw fileError(argument, this.dir, e, 'the folder is not writable');
      }
    } catch (e) {
      this.abandon();
      throw e;
    }
  }

  /** Queues a file. */
  add(name: string, text: string): void {
    this.pending.set(name, text);
  }

  /** Writes every queued file; on failure removes what it wrote and leaves the old files. @returns the paths. */
  commit(): string[] {
    const temps: [string, string][] = [];
    try {
      for (const [name, text] of this.pending) {
        const path = join(this.dir, name);
        const temp = join(this.dir, `.${name}.${process.pid}.tmp`);
        try {
          writeFileSync(temp, text, { flag: 'wx' });
        } catch (e) {
          throw fileError(this.argument, path, e, 'cannot write');
        }
        temps.push([temp, path]);
      }
      const done: string[] = [];
      for (const [temp, path] of temps) {
        try {
          renameSync(temp, path);
        } catch (e) {
          throw fileError(this.argument, path, e, 'cannot write');
        }
        done.push(path);
      }
      return done;
    } catch (e) {
      for (const [temp] of temps) rmSync(temp, { force: true });
      this.abandon();
      throw e;
    }
  }

  /** Removes the folders this run created (call when the run fails before {@link commit}). */
  abandon(): void {
    if (this.created !== undefined) rmSync(this.created, { recursive: true, force: true });
  }
}
