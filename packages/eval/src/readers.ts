import { ParseError } from './errors.js';

/** One image of an LFW pair. */
export interface LfwImage {
  /** The person's name (the folder). */
  readonly name: string;
  /** The 1-based image number. */
  readonly index: number;
  /** The conventional path `Name/Name_0001.jpg`. */
  readonly path: string;
}

/** One pair of an LFW-style pairs file. */
export interface LfwPair {
  /** The first image. */
  readonly a: LfwImage;
  /** The second image. */
  readonly b: LfwImage;
  /** Whether both show the same person. */
  readonly same: boolean;
}

/** A parsed LFW-style `pairs.txt`. */
export interface LfwPairs {
  /** Number of folds (sets) the header declares (1 when it has one number). */
  readonly folds: number;
  /** Same-person (and different-person) pairs per fold the header declares. */
  readonly pairsPerFold: number;
  /** The pairs in file order. */
  readonly pairs: LfwPair[];
}

const lines = (text: string) => text.split(/\r?\n/);
const positiveInt = (s: string) => /^[0-9]+$/.test(s) && Number(s) > 0;

function image(name: string, index: string): LfwImage {
  const i = Number(index);
  return { name, index: i, path: `${name}/${name}_${String(i).padStart(4, '0')}.jpg` };
}

/**
 * Parses an LFW-style `pairs.txt`: a header `folds pairsPerFold` (or just `pairs`), then lines
 * `name n1 n2` (same person) or `name1 n1 name2 n2` (different people), tab or space separated.
 * Checks the count the header declares.
 *
 * @param text - the file's contents.
 * @param file - its name, for errors.
 * @returns the header and the pairs.
 *
 * @example
 * ```ts
 * import { parseLfwPairs } from '@marginkit/eval';
 * const p = parseLfwPairs('1\t1\nAbel_Pacheco\t1\t4\nAbel_Pacheco\t1\tAkhmed_Zakayev\t3\n');
 * console.log(p.pairs[0]!.a.path, p.pairs[1]!.same); // 'Abel_Pacheco/Abel_Pacheco_0001.jpg' false
 * ```
 */
export function parseLfwPairs(text: string, file = 'pairs.txt'): LfwPairs {
  if (typeof text !== 'string') throw new ParseError(file, 0, 'expected the text of the file');
  const all = lines(text);
  const header = (all[0] ?? '').trim().split(/\s+/);
  if (header.length < 1 || header.length > 2 || !header.every(positiveInt)) {
    throw new ParseError(file, 1, `expected a header "folds pairsPerFold" or "pairs", got ${JSON.stringify(all[0] ?? '')}`);
  }
  const folds = header.length === 2 ? Number(header[0]) : 1;
  const pairsPerFold = Number(header[header.length - 1]);
  const pairs: LfwPairs['pairs'] = [];
  for (let i = 1; i < all.length; i++) {
    const raw = all[i]!.trim();
    if (raw === '') continue;
    const f = raw.split(/\s+/);
    if (f.length === 3 && positiveInt(f[1]!) && positiveInt(f[2]!)) pairs.push({ a: image(f[0]!, f[1]!), b: image(f[0]!, f[2]!), same: true });
    else if (f.length === 4 && positiveInt(f[1]!) && positiveInt(f[3]!)) pairs.push({ a: image(f[0]!, f[1]!), b: image(f[2]!, f[3]!), same: false });
    else throw new ParseError(file, i + 1, `expected "name n1 n2" or "name1 n1 name2 n2", got ${JSON.stringify(all[i])}`);
  }
  const expected = header.length === 2 ? folds * pairsPerFold * 2 : pairsPerFold;
  if (pairs.length !== expected) throw new ParseError(file, all.length, `the header declares ${expected} pairs but the file has ${pairs.length}`);
  return { folds, pairsPerFold, pairs };
}

function columns(text: string, file: string, count: number, what: string): string[][] {
  if (typeof text !== 'string') throw new ParseError(file, 0, 'expected the text of the file');
  const rows: string[][] = [];
  lines(text).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const f = line.split(/\s+/);
    if (f.length !== count) throw new ParseError(file, i + 1, `expected ${count} columns (${what}), got ${f.length}: ${JSON.stringify(raw)}`);
    rows.push([...f, String(i + 1)]);
  });
  return rows;
}

function intColumn(value: string, file: string, line: string, name: string): number {
  if (!/^-?[0-9]+$/.test(value)) throw new ParseError(file, Number(line), `${name} ${JSON.stringify(value)} is not an integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 2 ** 31 - 1) throw new ParseError(file, Number(line), `${name} ${value} is out of range`);
  return n;
}

/** An IJB `*_face_tid_mid.txt`: one image per line with its template and media ids. */
export interface IjbFaceTidMid {
  /** Image file names. */
  readonly images: string[];
  /** Template id of each image. */
  readonly templates: Int32Array;
  /** Media id of each image. */
  readonly medias: Int32Array;
}

/**
 * Parses IJB-B/C `*_face_tid_mid.txt` (`image template media` per line).
 *
 * @param text - the file's contents.
 * @param file - its name, for errors.
 * @returns images, template ids and media ids.
 *
 * @example
 * ```ts
 * import { parseIjbFaceTidMid } from '@marginkit/eval';
 * const m = parseIjbFaceTidMid('1.jpg 1 69544\n2.jpg 1 3720\n');
 * console.log(Array.from(m.medias)); // [69544, 3720]
 * ```
 */
export function parseIjbFaceTidMid(text: string, file = 'face_tid_mid.txt'): IjbFaceTidMid {
  const rows = columns(text, file, 3, 'image template media');
  return {
    images: rows.map((r) => r[0]!),
    templates: Int32Array.from(rows, (r) => intColumn(r[1]!, file, r[3]!, 'template id')),
    medias: Int32Array.from(rows, (r) => intColumn(r[2]!, file, r[3]!, 'media id')),
  };
}

/** An IJB `*_template_pair_label.txt`: template pairs with their label. */
export interface IjbTemplatePairs {
  /** First template of each pair. */
  readonly templates1: Int32Array;
  /** Second template of each pair. */
  readonly templates2: Int32Array;
  /** 1 for a genuine pair, 0 for an impostor pair. */
  readonly labels: Uint8Array;
}

/**
 * Parses IJB-B/C `*_template_pair_label.txt` (`template1 template2 label` per line).
 *
 * @param text - the file's contents.
 * @param file - its name, for errors.
 * @returns the pairs and labels.
 *
 * @example
 * ```ts
 * import { parseIjbTemplatePairs } from '@marginkit/eval';
 * const p = parseIjbTemplatePairs('1 11065 1\n1 11066 0\n');
 * console.log(Array.from(p.labels)); // [1, 0]
 * ```
 */
export function parseIjbTemplatePairs(text: string, file = 'template_pair_label.txt'): IjbTemplatePairs {
  const rows = columns(text, file, 3, 'template1 template2 label');
  return {
    templates1: Int32Array.from(rows, (r) => intColumn(r[0]!, file, r[3]!, 'template id')),
    templates2: Int32Array.from(rows, (r) => intColumn(r[1]!, file, r[3]!, 'template id')),
    labels: Uint8Array.from(rows, (r) => {
      if (r[2] !== '0' && r[2] !== '1') throw new ParseError(file, Number(r[3]), `label ${JSON.stringify(r[2])} is not 0 or 1`);
      return Number(r[2]);
    }),
  };
}

/** An IJB 1:N gallery or probe CSV. */
export interface IjbIdentificationList {
  /** Template id of each row. */
  readonly templates: Int32Array;
  /** Subject id of each row. */
  readonly subjects: Int32Array;
  /** File name of each row. */
  readonly files: string[];
}

/**
 * Parses an IJB-B/C 1:N gallery or probe CSV (`ijbc_1N_gallery_G1.csv`, `ijbc_1N_probe_mixed.csv`):
 * a header with `TEMPLATE_ID`, `SUBJECT_ID` and `FILENAME` columns (any order, others ignored).
 *
 * @param text - the file's contents.
 * @param file - its name, for errors.
 * @returns templates, subjects and files per row.
 *
 * @example
 * ```ts
 * import { parseIjbIdentificationCsv } from '@marginkit/eval';
 * const g = parseIjbIdentificationCsv('TEMPLATE_ID,SUBJECT_ID,FILENAME\n1,1,img/1.jpg\n', 'gallery.csv');
 * console.log(g.subjects[0], g.files[0]); // 1 'img/1.jpg'
 * ```
 */
export function parseIjbIdentificationCsv(text: string, file = 'identification.csv'): IjbIdentificationList {
  if (typeof text !== 'string') throw new ParseError(file, 0, 'expected the text of the file');
  const all = lines(text);
  const header = (all[0] ?? '').split(',').map((h) => h.trim().toUpperCase());
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new ParseError(file, 1, `the header has no ${name} column (found: ${header.join(', ')})`);
    return i;
  };
  const [ti, si, fi] = [col('TEMPLATE_ID'), col('SUBJECT_ID'), col('FILENAME')];
  const templates: number[] = [];
  const subjects: number[] = [];
  const files: string[] = [];
  for (let i = 1; i < all.length; i++) {
    if (all[i]!.trim() === '') continue;
    const f = all[i]!.split(',').map((v) => v.trim());
    if (f.length !== header.length) throw new ParseError(file, i + 1, `expected ${header.length} fields like the header, got ${f.length}`);
    templates.push(intColumn(f[ti]!, file, String(i + 1), 'TEMPLATE_ID'));
    subjects.push(intColumn(f[si]!, file, String(i + 1), 'SUBJECT_ID'));
    files.push(f[fi]!);
  }
  return { templates: Int32Array.from(templates), subjects: Int32Array.from(subjects), files };
}

/** A parsed `.npy` array. */
export interface NpyArray {
  /** The shape. */
  readonly shape: number[];
  /** The numpy dtype string, e.g. `'<f4'`. */
  readonly dtype: string;
  /** The values in C order, in native byte order. */
  readonly data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

type NpyKind = 'f2' | 'f4' | 'f8' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8';

const KINDS: Record<string, { bytes: number; kind: NpyKind }> = {
  f2: { bytes: 2, kind: 'f2' },
  f4: { bytes: 4, kind: 'f4' },
  f8: { bytes: 8, kind: 'f8' },
  i1: { bytes: 1, kind: 'i1' },
  i2: { bytes: 2, kind: 'i2' },
  i4: { bytes: 4, kind: 'i4' },
  i8: { bytes: 8, kind: 'i8' },
  u1: { bytes: 1, kind: 'u1' },
  b1: { bytes: 1, kind: 'u1' },
  u2: { bytes: 2, kind: 'u2' },
  u4: { bytes: 4, kind: 'u4' },
  u8: { bytes: 8, kind: 'u8' },
};

/** The dtype strings {@link readNpy} reads (either byte order; `|` for one-byte types). */
const NPY_DTYPES: readonly string[] = Object.keys(KINDS).flatMap((k) => (KINDS[k]!.bytes === 1 ? [`|${k}`] : [`<${k}`, `>${k}`]));

function npyType(descr: string): { bytes: number; kind: NpyKind; little: boolean } | undefined {
  const m = /^([<>|=])([a-z][0-9])$/.exec(descr);
  const type = m ? KINDS[m[2]!] : undefined;
  if (!m || !type) return undefined;
  // '|' (byte order not applicable) only for one-byte types; '=' (native order) is never in a file numpy writes.
  if (m[1] === '=' || (m[1] === '|' && type.bytes !== 1)) return undefined;
  return { ...type, little: m[1] !== '>' };
}

/** Decodes an IEEE 754 half float exactly (every half is a float32). */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

function parseShape(shapeText: string, file: string): number[] {
  const text = shapeText.trim();
  if (text === '') return [];
  const parts = text.split(',').map((s) => s.trim());
  // One trailing comma is Python's 1-tuple "(3,)"; any other empty entry ("(,)", "(3,,4)") is malformed.
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.map((s) => {
    if (!/^[0-9]+$/.test(s)) throw new ParseError(file, 0, `malformed shape (${shapeText}): every dimension must be a non-negative integer`);
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new ParseError(file, 0, `shape (${shapeText}): dimension ${s} is too large`);
    return n;
  });
}

/** The parsed header of a `.npy` file: its dtype, shape, and where and how long the data is. */
interface NpyHeader {
  readonly descr: string;
  readonly type: { bytes: number; kind: NpyKind; little: boolean };
  readonly shape: number[];
  readonly count: number;
  readonly offset: number;
  readonly needed: number;
}

/** Reads and checks the magic string, version and header of a `.npy` file (a {@link ParseError} naming `file` when malformed). */
function readNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || !magic.every((b, i) => bytes[i] === b)) throw new ParseError(file, 0, 'not a .npy file (the magic string \\x93NUMPY is missing)');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let start: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new ParseError(file, 0, 'truncated header');
    headerLength = view.getUint32(8, true);
    start = 12;
  } else throw new ParseError(file, 0, `unsupported .npy format version ${major}.${bytes[7]}`);
  if (start + headerLength > bytes.length)
    throw new ParseError(file, 0, `truncated header: it declares ${headerLength} bytes, the file has ${bytes.length - start}`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new ParseError(file, 0, `malformed header ${JSON.stringify(header.trim().slice(0, 200))}`);
  if (fortran === 'True') throw new ParseError(file, 0, 'Fortran-order arrays are not supported; save with np.ascontiguousarray');
  const type = npyType(descr);
  if (!type) throw new ParseError(file, 0, `unsupported dtype ${descr.slice(0, 40)} (supported: ${NPY_DTYPES.join(', ')})`);
  const shape = parseShape(shapeText, file);
  const count = shape.reduce((p, d) => p * d, 1);
  const offset = start + headerLength;
  const needed = count * type.bytes;
  if (!Number.isSafeInteger(needed) || bytes.length - offset < needed)
    throw new ParseError(file, 0, `truncated data: shape (${shape.join(', ')}) needs ${needed} bytes, the file has ${bytes.length - offset}`);
  return { descr, type, shape, count, offset, needed };
}

/** Decodes the data a {@link NpyHeader} describes (see {@link readNpy} for the dtypes and the no-copy views). */
function readNpyData(bytes: Uint8Array, header: NpyHeader, file: string): NpyArray['data'] {
  const { descr, type, count, offset, needed } = header;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = type.little;
  const ints = (get: (at: number) => number | bigint): Int32Array => {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const v = get(offset + type.bytes * i);
      if (v > 2147483647 || v < -2147483648)
        throw new ParseError(file, 0, `${descr} value ${v} at index ${i} does not fit in int32 (labels and ids must be in [-2^31, 2^31 - 1])`);
      out[i] = Number(v);
    }
    return out;
  };
  if (little && (type.kind === 'f4' || type.kind === 'f8' || type.kind === 'i4' || type.kind === 'u1')) {
    // A view on the file's bytes when aligned (numpy pads headers to 64 bytes), else one copy.
    const at = bytes.byteOffset + offset;
    const aligned = at % type.bytes === 0;
    const buffer = aligned ? bytes.buffer : bytes.slice(offset, offset + needed).buffer;
    const start = aligned ? at : 0;
    if (type.kind === 'f4') return new Float32Array(buffer, start, count);
    if (type.kind === 'f8') return new Float64Array(buffer, start, count);
    if (type.kind === 'i4') return new Int32Array(buffer, start, count);
    return new Uint8Array(buffer, start, count);
  }
  switch (type.kind) {
    case 'f2':
      return Float32Array.from({ length: count }, (_, i) => halfToNumber(view.getUint16(offset + 2 * i, little)));
    case 'f4':
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(offset + 4 * i, little));
    case 'f8':
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(offset + 8 * i, little));
    case 'i1':
      return ints((at) => view.getInt8(at));
    case 'i2':
      return ints((at) => view.getInt16(at, little));
    case 'u2':
      return ints((at) => view.getUint16(at, little));
    case 'i4':
      return ints((at) => view.getInt32(at, little));
    case 'u4':
      return ints((at) => view.getUint32(at, little));
    case 'i8':
      return ints((at) => view.getBigInt64(at, little));
    case 'u8':
      return ints((at) => view.getBigUint64(at, little));
    case 'u1':
      return bytes.slice(offset, offset + count);
  }
}

/**
 * Reads a NumPy `.npy` file (format versions 1, 2 and 3; C order; either byte order). Dtypes:
 * float32 and float64 as they are; float16 decoded exactly into a Float32Array; uint8 and bool
 * as a Uint8Array; int8, int16, uint16, int32 as an Int32Array; uint32, int64 and uint64 as an
 * Int32Array when every value fits in int32, else a {@link ParseError} naming the file (a label or
 * id outside int32 is almost certainly not one). Little-endian float32, float64, int32 and uint8
 * data is returned as a view on `bytes` when it is aligned (no copy: large feature files load
 * fast), so the result shares memory with `bytes`.
 *
 * @param bytes - the file's bytes.
 * @param file - its name, for errors.
 * @returns shape, dtype and data.
 *
 * @example
 * ```ts
 * import { readNpy, writeNpy } from '@marginkit/eval';
 * const bytes = writeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * const a = readNpy(bytes, 'x.npy');
 * console.log(a.shape, a.dtype, a.data[5]); // [2, 3] '<f4' 6
 * ```
 */
export function readNpy(bytes: Uint8Array, file = 'array.npy'): NpyArray {
  if (!(bytes instanceof Uint8Array)) throw new ParseError(file, 0, 'expected the bytes of the file (a Uint8Array)');
  const header = readNpyHeader(bytes, file);
  return { shape: header.shape, dtype: header.descr, data: readNpyData(bytes, header, file) };
}

/**
 * Writes a C-order `.npy` file (format 1.0, little-endian).
 *
 * @param data - the values: Float32Array (`<f4`), Float64Array (`<f8`), Int32Array (`<i4`) or Uint8Array (`|u1`).
 * @param shape - the shape; its product must equal `data.length`.
 * @returns the file's bytes.
 *
 * @example
 * ```ts
 * import { writeNpy } from '@marginkit/eval';
 * console.log(writeNpy(new Float64Array([1, 2]), [2]).length % 64); // 16 (header padded to 64 bytes, plus 16 bytes of data)
 * ```
 */
export function writeNpy(data: Float32Array | Float64Array | Int32Array | Uint8Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((p, d) => p * d, 1);
  if (count !== data.length) throw new ParseError('writeNpy', 0, `shape (${shape.join(', ')}) needs ${count} values, got ${data.length}`);
  const descr = data instanceof Float32Array ? '<f4' : data instanceof Float64Array ? '<f8' : data instanceof Int32Array ? '<i4' : '|u1';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) body.setFloat32(4 * i, data[i]!, true);
    else if (data instanceof Float64Array) body.setFloat64(8 * i, data[i]!, true);
    else if (data instanceof Int32Array) body.setInt32(4 * i, data[i]!, true);
    else body.setUint8(i, data[i]!);
  }
  return out;
}
