/**
 * Loader of the Fashion-MNIST subset committed in `examples/data/fashion-mnist/` (6,000 training and
 * 2,000 test images, 28×28 grey levels, 10 classes; MIT, © 2017 Zalando SE — see the README there).
 *
 * Every file is checked against `manifest.json` (SHA-256 of the gzip bytes) before it is parsed, and
 * the parsed IDX headers are checked against the manifest's counts. Anything wrong throws a
 * {@link DatasetError} that names the file, says what is wrong and how to fix it.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** The directory of the committed data, next to this package's `src/`. */
export const DEFAULT_FASHION_MNIST_DIR: string = fileURLToPath(new URL('../data/fashion-mnist/', import.meta.url));

/** The names of the 10 Fashion-MNIST classes; label `k` is `FASHION_MNIST_CLASS_NAMES[k]`. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

const WIDTH = 28;
const HEIGHT = 28;
const PIXELS = WIDTH * HEIGHT;
const IMAGES_MAGIC = 0x00000803; // IDX: unsigned bytes, 3 dimensions
const LABELS_MAGIC = 0x00000801; // IDX: unsigned bytes, 1 dimension
const MAX_INFLATED = 64 * 1024 * 1024; // the full 60,000-image training set is 47 MB
const FIX =
  'Restore the committed files with `git checkout -- examples/data/fashion-mnist` (from the repository root), ' +
  'or regenerate them with `/usr/bin/python3 tools/make_fashion_subset.py` (needs Debian package dataset-fashion-mnist).';

/** What {@link DatasetError} found wrong. */
export type DatasetProblem =
  /** The file does not exist or cannot be read. */
  | 'missing'
  /** The file's SHA-256 (or size) is not the manifest's: it was changed, truncated or damaged. */
  | 'checksum'
  /** The file is not a valid gzip stream (truncated or garbled), or inflates to more than the manifest allows. */
  | 'gzip'
  /** The IDX content is wrong: magic number, dimensions, length or labels disagree with the format or the manifest. */
  | 'format'
  /** `manifest.json` is missing, not JSON, or lacks a field the loader needs. */
  | 'manifest';

const DATASET_ERROR = 'marginkit.examples.error.DatasetError';

/**
 * The error of {@link loadFashionMnist}: a data file (or the manifest) is missing, damaged or does
 * not match the manifest. The message names the file, what is wrong, and how to fix it. Test for
 * it with {@link DatasetError.isInstance}, which, unlike `instanceof`, also recognises one made by
 * another copy of this module (it checks the `Symbol.for('marginkit.examples.error.DatasetError')`
 * marker).
 *
 * @example
 * ```ts
 * import { DatasetError, loadFashionMnist } from './fashion-mnist.js';
 * try {
 *   loadFashionMnist({ dir: '/nonexistent' });
 * } catch (e) {
 *   if (DatasetError.isInstance(e)) console.log(e.problem); // 'manifest'
 * }
 * ```
 */
export class DatasetError extends Error {
  /**
   * Whether `error` is a `DatasetError`, including one made by another copy of this module.
   *
   * @param error - any thrown value.
   * @returns true for a `DatasetError`.
   */
  static isInstance(error: unknown): error is DatasetError {
    return typeof error === 'object' && error !== null && Reflect.get(error, Symbol.for(DATASET_ERROR)) === true;
  }

  /** The path of the offending file. */
  readonly file: string;
  /** What kind of problem it is. */
  readonly problem: DatasetProblem;

  /**
   * @param file - The path of the offending file.
   * @param problem - What kind of problem it is.
   * @param what - What is wrong, in words; the file name and the fix are added to the message.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(file: string, problem: DatasetProblem, what: string, options?: { cause?: unknown }) {
    super(`Fashion-MNIST data file ${displayPath(file)}: ${what}. ${FIX}`, options);
    this.name = 'DatasetError';
    this.file = file;
    this.problem = problem;
    Object.defineProperty(this, Symbol.for(DATASET_ERROR), { value: true }); // non-enumerable: printed errors stay clean
  }
}

/** One split of {@link FashionMnist}. */
export interface FashionMnistSplit {
  /** `count × 784` grey levels, row-major per image (28 rows of 28), scaled to [0, 1] (byte / 255; 0 is background). */
  readonly images: Float32Array;
  /** `count` class indices in [0, 10); see {@link FashionMnist.classNames}. */
  readonly labels: Int32Array;
  /** Number of images. */
  readonly count: number;
}

/** The Fashion-MNIST subset, as returned by {@link loadFashionMnist}. */
export interface FashionMnist {
  /** The class names, indexed by label (`'T-shirt/top'`, `'Trouser'`, …, `'Ankle boot'`). */
  readonly classNames: string[];
  /** 6,000 training images (600 per class), from the original training set. */
  readonly train: FashionMnistSplit;
  /** 2,000 test images (200 per class), from the original test set. */
  readonly test: FashionMnistSplit;
  /** Image width in pixels. */
  readonly width: 28;
  /** Image height in pixels. */
  readonly height: 28;
}

/** Options of {@link loadFashionMnist}. */
export interface LoadFashionMnistOptions {
  /** The data directory (with `manifest.json`); default {@link DEFAULT_FASHION_MNIST_DIR}. */
  readonly dir?: string;
}

interface ManifestFile {
  readonly sha256: string;
  readonly bytes: number;
  readonly count: number;
}

interface ManifestSplit {
  readonly images: string;
  readonly labels: string;
  readonly count: number;
  readonly perClass: number;
}

interface Manifest {
  readonly classNames: string[];
  readonly splits: { readonly train: ManifestSplit; readonly test: ManifestSplit };
  readonly files: Readonly<Record<string, ManifestFile>>;
}

/**
 * Loads the committed Fashion-MNIST subset (synchronously; about 3.5 MB of gzip, 25 MB of floats).
 *
 * For each of the four IDX files it checks, in this order: the file exists; its size and SHA-256
 * are the manifest's (before anything is parsed); it inflates as gzip; its IDX magic number, image
 * size, count and length are right and the count is the manifest's; every label is in [0, 10); each
 * class has the manifest's `perClass` images.
 *
 * @param options - `dir`: where the data is (default: `examples/data/fashion-mnist`).
 * @returns The classes, the train and test splits, and the image size.
 * @throws {@link DatasetError} if a file is missing, damaged, or disagrees with the manifest.
 *
 * @example
 * ```ts
 * const data = loadFashionMnist();
 * const k = 0;
 * const image = data.train.images.subarray(k * 784, (k + 1) * 784); // 28 rows of 28, in [0, 1]
 * console.log(data.classNames[data.train.labels[k]!]); // 'Ankle boot'
 * ```
 */
export function loadFashionMnist(options: LoadFashionMnistOptions = {}): FashionMnist {
  const dir = options.dir ?? DEFAULT_FASHION_MNIST_DIR;
  const manifest = readManifest(join(dir, 'manifest.json'));
  return {
    classNames: [...manifest.classNames],
    train: loadSplit(dir, manifest, 'train'),
    test: loadSplit(dir, manifest, 'test'),
    width: WIDTH,
    height: HEIGHT,
  };
}

function loadSplit(dir: string, manifest: Manifest, name: 'train' | 'test'): FashionMnistSplit {
  const split = manifest.splits[name];
  const classes = manifest.classNames.length;
  const imagesPath = join(dir, split.images);
  const labelsPath = join(dir, split.labels);
  const imagesEntry = manifestFile(manifest, split.images, dir);
  const labelsEntry = manifestFile(manifest, split.labels, dir);
  // Both files are verified before either is parsed.
  const imagesGz = readVerified(imagesPath, imagesEntry);
  const labelsGz = readVerified(labelsPath, labelsEntry);

  const imagesRaw = inflate(imagesPath, imagesGz, 16 + imagesEntry.count * PIXELS);
  const count = imagesEntry.count;
  checkHeader(imagesPath, imagesRaw, IMAGES_MAGIC, [count, HEIGHT, WIDTH], ['images', 'rows', 'columns']);
  const labelsRaw = inflate(labelsPath, labelsGz, 8 + labelsEntry.count);
  checkHeader(labelsPath, labelsRaw, LABELS_MAGIC, [labelsEntry.count], ['labels']);
  if (labelsEntry.count !== count || split.count !== count) {
    throw new DatasetError(
      join(dir, 'manifest.json'),
      'manifest',
      `the ${name} split has ${count} images in ${split.images} but the manifest says ${labelsEntry.count} labels and a split count of ${split.count}`,
    );
  }

  const labels = new Int32Array(count);
  const perClass = new Array<number>(classes).fill(0);
  for (let i = 0; i < count; i++) {
    const label = labelsRaw[8 + i]!;
    if (label >= classes) {
      throw new DatasetError(labelsPath, 'format', `label ${label} of image ${i} is not a class index in [0, ${classes})`);
    }
    labels[i] = label;
    perClass[label]!++;
  }
  const unbalanced = perClass.findIndex((n) => n !== split.perClass);
  if (unbalanced >= 0) {
    throw new DatasetError(
      labelsPath,
      'format',
      `class ${unbalanced} (${manifest.classNames[unbalanced]}) has ${perClass[unbalanced]} images, the manifest says ${split.perClass} per class`,
    );
  }

  const images = new Float32Array(count * PIXELS);
  for (let i = 0; i < images.length; i++) images[i] = imagesRaw[16 + i]! / 255;
  return { images, labels, count };
}

function readManifest(path: string): Manifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DatasetError(path, 'manifest', `cannot read the manifest (${errorText(err)})`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DatasetError(path, 'manifest', `the manifest is not valid JSON (${errorText(err)})`, { cause: err });
  }
  const bad = (what: string): never => {
    throw new DatasetError(path, 'manifest', `the manifest is malformed: ${what}`);
  };
  if (!isRecord(json)) return bad('not a JSON object');
  const { classNames, splits, files } = json;
  if (!Array.isArray(classNames) || classNames.length !== FASHION_MNIST_CLASS_NAMES.length || classNames.some((c, k) => c !== FASHION_MNIST_CLASS_NAMES[k])) {
    return bad(`"classNames" must be the 10 Fashion-MNIST classes in label order (${JSON.stringify(FASHION_MNIST_CLASS_NAMES)})`);
  }
  if (!isRecord(splits)) return bad('"splits" must be an object');
  if (!isRecord(files)) return bad('"files" must be an object');
  const split = (name: string): ManifestSplit => {
    const s = splits[name];
    if (!isRecord(s) || !isFileName(s['images']) || !isFileName(s['labels']) || !isCount(s['count']) || !isCount(s['perClass'])) {
      return bad(`"splits.${name}" needs "images", "labels" (plain file names in the data directory), "count" and "perClass" (non-negative integers)`);
    }
    return { images: s['images'], labels: s['labels'], count: s['count'], perClass: s['perClass'] };
  };
  const checkedFiles: Record<string, ManifestFile> = {};
  for (const [name, f] of Object.entries(files)) {
    if (!isRecord(f) || typeof f['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(f['sha256']) || !isCount(f['bytes']) || !isCount(f['count'])) {
      return bad(`"files.${name}" needs "sha256" (64 lowercase hex digits), "bytes" and "count" (non-negative integers)`);
    }
    checkedFiles[name] = { sha256: f['sha256'], bytes: f['bytes'], count: f['count'] };
  }
  return { classNames: classNames as string[], splits: { train: split('train'), test: split('test') }, files: checkedFiles };
}

function manifestFile(manifest: Manifest, name: string, dir: string): ManifestFile {
  const entry = Object.hasOwn(manifest.files, name) ? manifest.files[name] : undefined;
  if (entry === undefined) throw new DatasetError(join(dir, 'manifest.json'), 'manifest', `the manifest has no entry "files.${name}"`);
  return entry;
}

function readVerified(path: string, entry: ManifestFile): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const what = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file is missing' : `cannot read the file (${errorText(err)})`;
    throw new DatasetError(path, 'missing', what, { cause: err });
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== entry.sha256 || bytes.length !== entry.bytes) {
    const size =
      bytes.length === entry.bytes
        ? `same size, ${entry.bytes} bytes, so it was altered`
        : `${bytes.length} bytes instead of ${entry.bytes}, so it was ${bytes.length < entry.bytes ? 'truncated' : 'extended'} or replaced`;
    throw new DatasetError(path, 'checksum', `SHA-256 ${sha} does not match the manifest's ${entry.sha256} (${size})`);
  }
  return bytes;
}

function inflate(path: string, gz: Buffer, expectedLength: number): Buffer {
  try {
    // The SHA-256 already vouches for the bytes; the cap only guards against a gzip bomb next to a
    // doctored manifest. It is loose, so that a wrong count in the manifest is reported by the
    // header check, which says what the file really holds.
    return gunzipSync(gz, { maxOutputLength: Math.max(expectedLength, MAX_INFLATED) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DatasetError(path, 'gzip', `inflates to more than ${Math.max(expectedLength, MAX_INFLATED)} bytes`, { cause: err });
    }
    throw new DatasetError(path, 'gzip', `not a valid gzip stream, truncated or garbled (${errorText(err)})`, { cause: err });
  }
}

function checkHeader(path: string, raw: Buffer, magic: number, dims: readonly number[], dimNames: readonly string[]): void {
  const headerLength = 4 + 4 * dims.length;
  if (raw.length < headerLength) {
    throw new DatasetError(path, 'format', `only ${raw.length} bytes, shorter than the ${headerLength}-byte IDX header`);
  }
  const found = raw.readUInt32BE(0);
  if (found !== magic) {
    throw new DatasetError(path, 'format', `bad IDX magic number 0x${hex(found)}, expected 0x${hex(magic)} (unsigned bytes, ${dims.length} dimension(s))`);
  }
  dims.forEach((want, d) => {
    const got = raw.readUInt32BE(4 + 4 * d);
    if (got !== want) {
      const source = d === 0 ? 'the manifest says' : 'expected';
      throw new DatasetError(path, 'format', `the IDX header gives ${got} ${dimNames[d]}, ${source} ${want}`);
    }
  });
  const expectedLength = headerLength + dims.reduce((a, b) => a * b, 1);
  if (raw.length !== expectedLength) {
    throw new DatasetError(path, 'format', `${raw.length} bytes after inflating, the IDX header implies ${expectedLength}`);
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isFileName(x: unknown): x is string {
  return typeof x === 'string' && /^[\w][\w.-]*$/.test(x);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') ? rel : path;
}
