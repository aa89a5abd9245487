import { InvalidArgumentError, NonFiniteError, ShapeError } from '@marginkit/core';
import type { HeadConfig } from './head.js';

/**
 * A head's checkpoint, or a shard of one: everything a head needs to continue exactly where it
 * stopped. `encodeCheckpoint` stores it as bytes (the documented `MKHD` format), `decodeCheckpoint`
 * reads and verifies them.
 */
export interface HeadCheckpoint {
  /** Always `'marginkit-head'`. */
  readonly format: 'marginkit-head';
  /** The format version, 1. */
  readonly version: 1;
  /** The head's config (margin, C, D, K, scale, reduction, ignored label). */
  readonly config: HeadConfig;
  /** The classes this checkpoint holds, [start, end): [0, C) for a whole head, a range for a shard. */
  readonly classRange: readonly [number, number];
  /** The centres of those classes, row-major [(end − start)·K, D]. */
  readonly centers: Float32Array;
  /** The margin's state (the same in every shard). */
  readonly state: Readonly<
    Record<
      string,
      {
        /** The entry's dimensions. */
        readonly shape: readonly number[];
        /** Its values, row-major. */
        readonly data: readonly number[];
      }
    >
  >;
  /** The head's generator state (four integers). */
  readonly random: readonly number[];
}

const MAGIC = [0x4d, 0x4b, 0x48, 0x44]; // 'MKHD'

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE, as zlib and PNG) of bytes. @internal */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Encodes a checkpoint as bytes. The format (`MKHD`, version 1), little-endian:
 * bytes 0–3 `MKHD`; 4–7 the header length H (uint32); 8…8+H a UTF-8 JSON header
 * `{ format, version, config, classRange, state, random, rows, dim }`; zero padding to a
 * multiple of 4; the centres, rows × dim float32 values; and last, 4 bytes: the CRC-32 (IEEE, as
 * zlib) of everything before them, header included.
 *
 * @param checkpoint - a checkpoint from `head.save()`, `splitCheckpoint` or `mergeCheckpoints`.
 * @returns the bytes.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { ArcFaceLoss, decodeCheckpoint, encodeCheckpoint } from '@marginkit/losses';
 * const head = new ArcFaceLoss(tfjsBackend(tf), { numClasses: 3, embeddingSize: 4 });
 * const bytes = encodeCheckpoint(await head.save());
 * head.load(decodeCheckpoint(bytes));
 * console.log(bytes.length > 48); // true
 * ```
 */
export function encodeCheckpoint(checkpoint: HeadCheckpoint): Uint8Array {
  const c = checkCheckpoint('checkpoint', checkpoint);
  const body = new Uint8Array(c.centers.buffer, c.centers.byteOffset, c.centers.byteLength);
  const { format, version, config, classRange, state, random } = c;
  const rows = (classRange[1] - classRange[0]) * config.subCenters;
  const header = new TextEncoder().encode(JSON.stringify({ format, version, config, classRange, state, random, rows, dim: config.embeddingSize }));
  const start = 8 + header.length + ((4 - ((8 + header.length) % 4)) % 4);
  const out = new Uint8Array(start + body.length + 4);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, header.length, true);
  out.set(header, 8);
  const view = new DataView(out.buffer, start);
  for (let i = 0; i < c.centers.length; i++) view.setFloat32(4 * i, c.centers[i]!, true);
  view.setUint32(body.length, crc32(out.subarray(0, start + body.length)), true);
  return out;
}

/**
 * Decodes and verifies checkpoint bytes written by {@link encodeCheckpoint}: magic, header, sizes
 * and the CRC-32 of the whole. Damaged or truncated bytes throw an error that says what is wrong.
 *
 * @param bytes - the encoded checkpoint.
 * @returns the checkpoint.
 *
 * @example
 * ```ts
 * import { decodeCheckpoint } from '@marginkit/losses';
 * try {
 *   decodeCheckpoint(new Uint8Array([1, 2, 3]));
 * } catch (e) {
 *   console.log((e as Error).message); // checkpoint: not a marginkit head checkpoint (no MKHD magic)
 * }
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array): HeadCheckpoint {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('checkpoint', 'expected a Uint8Array');
  if (bytes.length < 12 || MAGIC.some((m, i) => bytes[i] !== m))
    throw new InvalidArgumentError('checkpoint', 'not a marginkit head checkpoint (no MKHD magic)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = dv.getUint32(4, true);
  if (8 + length > bytes.length - 4)
    throw new InvalidArgumentError('checkpoint', `is truncated: the header needs ${length} bytes, ${bytes.length - 12} remain`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + length)));
  } catch (e) {
    throw new InvalidArgumentError('checkpoint', `has a damaged header (${(e as Error).message})`);
  }
  const rows = header['rows'];
  const dim = header['dim'];
  if (!Number.isInteger(rows) || !Number.isInteger(dim) || (rows as number) < 0 || (dim as number) < 1) {
    throw new InvalidArgumentError('checkpoint', 'has a damaged header (rows, dim)');
  }
  const start = 8 + length + ((4 - ((8 + length) % 4)) % 4);
  const size = (rows as number) * (dim as number);
  if (bytes.length !== start + 4 * size + 4) {
    throw new InvalidArgumentError(
      'checkpoint',
      `has ${bytes.length - start - 4} bytes of centres and checksum, expected ${4 * size} (${rows} × ${dim} float32): truncated or padded`,
    );
  }
  if (crc32(bytes.subarray(0, bytes.length - 4)) !== dv.getUint32(bytes.length - 4, true)) {
    throw new InvalidArgumentError('checkpoint', 'is corrupted: the CRC-32 of its bytes does not match');
  }
  const centers = new Float32Array(size);
  const view = new DataView(bytes.buffer, bytes.byteOffset + start);
  for (let i = 0; i < size; i++) centers[i] = view.getFloat32(4 * i, true);
  const { rows: _r, dim: _d, ...rest } = header;
  return checkCheckpoint('checkpoint', { ...rest, centers });
}

/** Checks a checkpoint's structure (not whether it fits a head). @internal */
export function checkCheckpoint(argument: string, value: unknown): HeadCheckpoint {
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError(argument, 'expected a checkpoint object from head.save()');
  const c = value as Partial<HeadCheckpoint>;
  if (c.format !== 'marginkit-head' || c.version !== 1)
    throw new InvalidArgumentError(`${argument}.format`, `expected 'marginkit-head' version 1, got ${String(c.format)} ${String(c.version)}`);
  const config = c.config;
  if (
    typeof config !== 'object' ||
    config === null ||
    typeof config.margin !== 'object' ||
    ![config.numClasses, config.embeddingSize, config.subCenters].every((v) => Number.isInteger(v) && (v as number) >= 1)
  ) {
    throw new InvalidArgumentError(`${argument}.config`, 'is not a head config { margin, numClasses, embeddingSize, subCenters, ... }');
  }
  const range = c.classRange;
  if (
    !Array.isArray(range) ||
    range.length !== 2 ||
    !range.every(Number.isInteger) ||
    range[0]! < 0 ||
    range[0]! >= range[1]! ||
    range[1]! > config.numClasses
  ) {
    throw new ShapeError(`${argument}.classRange`, `must be [start, end) with 0 ≤ start < end ≤ ${config.numClasses}, got ${JSON.stringify(range)}`);
  }
  if (!(c.centers instanceof Float32Array)) throw new InvalidArgumentError(`${argument}.centers`, 'expected a Float32Array');
  const rows = (range[1]! - range[0]!) * config.subCenters;
  if (c.centers.length !== rows * config.embeddingSize) {
    throw new ShapeError(`${argument}.centers`, `has ${c.centers.length} values, expected ${rows} × ${config.embeddingSize} for classes [${range.join(', ')})`);
  }
  if (!c.centers.every(Number.isFinite)) throw new NonFiniteError(`${argument}.centers`, 'has a non-finite value');
  if (typeof c.state !== 'object' || c.state === null) throw new InvalidArgumentError(`${argument}.state`, 'expected an object');
  for (const [k, v] of Object.entries(c.state)) {
    if (typeof v !== 'object' || v === null || !Array.isArray(v.shape) || !Array.isArray(v.data))
      throw new InvalidArgumentError(`${argument}.state.${k}`, 'expected { shape, data }');
  }
  if (!Array.isArray(c.random) || c.random.length !== 4) throw new InvalidArgumentError(`${argument}.random`, 'expected the generator state (four integers)');
  return c as HeadCheckpoint;
}

/**
 * Splits a checkpoint into `parts` shards by class range, as insightface's model parallel splits
 * classes over ranks: shard r holds ⌊C/parts⌋ classes, plus one for r < C mod parts, in order.
 * Each shard carries the config, the state and the generator state.
 *
 * @param checkpoint - a checkpoint of all classes.
 * @param parts - the number of shards, 1 ≤ parts ≤ C.
 * @returns the shards, in class order.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { CosFaceLoss, mergeCheckpoints, splitCheckpoint } from '@marginkit/losses';
 * const head = new CosFaceLoss(tfjsBackend(tf), { numClasses: 10, embeddingSize: 4 });
 * const shards = splitCheckpoint(await head.save(), 3);
 * console.log(shards.map((s) => s.classRange)); // [[0, 4], [4, 7], [7, 10]]
 * head.load(mergeCheckpoints(shards));
 * ```
 */
export function splitCheckpoint(checkpoint: HeadCheckpoint, parts: number): HeadCheckpoint[] {
  const c = checkCheckpoint('checkpoint', checkpoint);
  const classes = c.classRange[1] - c.classRange[0];
  if (!Number.isInteger(parts) || parts < 1 || parts > classes) throw new InvalidArgumentError('parts', `must be an integer in [1, ${classes}], got ${parts}`);
  const perRow = c.config.subCenters * c.config.embeddingSize;
  const out: HeadCheckpoint[] = [];
  let start = c.classRange[0];
  for (let r = 0; r < parts; r++) {
    const n = Math.floor(classes / parts) + (r < classes % parts ? 1 : 0);
    const from = (start - c.classRange[0]) * perRow;
    out.push({ ...c, classRange: [start, start + n], centers: c.centers.slice(from, from + n * perRow) });
    start += n;
  }
  return out;
}

/**
 * Merges shards back into one checkpoint. The shards must share config, state and generator
 * state, and their class ranges must tile a contiguous range (any order).
 *
 * @param shards - the shards.
 * @returns the merged checkpoint.
 *
 * @example
 * ```ts
 * import { mergeCheckpoints } from '@marginkit/losses';
 * try {
 *   mergeCheckpoints([]);
 * } catch (e) {
 *   console.log((e as Error).message); // shards: expected at least one checkpoint
 * }
 * ```
 */
export function mergeCheckpoints(shards: readonly HeadCheckpoint[]): HeadCheckpoint {
  if (!Array.isArray(shards) || shards.length === 0) throw new InvalidArgumentError('shards', 'expected at least one checkpoint');
  const indexed = shards.map((s, i) => ({ s: checkCheckpoint(`shards[${i}]`, s), i })).sort((a, b) => a.s.classRange[0] - b.s.classRange[0]);
  const list = indexed.map(({ s }) => s);
  const same = JSON.stringify([shards[0]!.config, shards[0]!.state, shards[0]!.random]);
  indexed.forEach(({ s, i }, k) => {
    if (JSON.stringify([s.config, s.state, s.random]) !== same)
      throw new InvalidArgumentError(`shards[${i}]`, 'has another config, state or generator state than shards[0]');
    const previous = indexed[k - 1];
    if (previous && s.classRange[0] !== previous.s.classRange[1]) {
      throw new ShapeError(
        `shards[${i}]`,
        `class ranges do not tile: shards[${previous.i}] ends at ${previous.s.classRange[1]}, shards[${i}] starts at ${s.classRange[0]}`,
      );
    }
  });
  const first = list[0]!;
  const centers = new Float32Array(list.reduce((n, s) => n + s.centers.length, 0));
  let offset = 0;
  for (const s of list) {
    centers.set(s.centers, offset);
    offset += s.centers.length;
  }
  return { ...first, classRange: [first.classRange[0], list[list.length - 1]!.classRange[1]], centers };
}
