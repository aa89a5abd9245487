import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FASHION_MNIST_DIR, DatasetError, FASHION_MNIST_CLASS_NAMES, type FashionMnist, loadFashionMnist } from './fashion-mnist.js';

const DIR = DEFAULT_FASHION_MNIST_DIR;
const FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'] as const;

/** Independent IDX parse: gunzip, then read the big-endian header by hand. */
function parseIdx(file: string): { dims: number[]; body: Uint8Array } {
  const raw = gunzipSync(readFileSync(join(DIR, file)));
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  expect(view.getUint8(0)).toBe(0);
  expect(view.getUint8(1)).toBe(0);
  expect(view.getUint8(2)).toBe(0x08); // unsigned byte
  const rank = view.getUint8(3);
  const dims = Array.from({ length: rank }, (_, d) => view.getUint32(4 + 4 * d, false));
  return { dims, body: raw.subarray(4 + 4 * rank) };
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('the committed Fashion-MNIST subset', () => {
  let data: FashionMnist;
  beforeAll(() => {
    data = loadFashionMnist();
  });

  it('loads 600 training and 200 test images per class, 28×28, with the class names', () => {
    expect(data.width).toBe(28);
    expect(data.height).toBe(28);
    expect(data.classNames).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    expect(data.classNames).toEqual([...FASHION_MNIST_CLASS_NAMES]);
    for (const [split, count, perClass] of [
      [data.train, 6000, 600],
      [data.test, 2000, 200],
    ] as const) {
      expect(split.count).toBe(count);
      expect(split.images).toBeInstanceOf(Float32Array);
      expect(split.labels).toBeInstanceOf(Int32Array);
      expect(split.images.length).toBe(count * 784);
      expect(split.labels.length).toBe(count);
      const histogram = new Array<number>(10).fill(0);
      for (const l of split.labels) histogram[l]!++;
      expect(histogram).toEqual(new Array(10).fill(perClass));
    }
  });

  it('has pixels in [0, 1], multiples of 1/255, using the whole range', () => {
    for (const split of [data.train, data.test]) {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      let offGrid = 0;
      for (const v of split.images) {
        if (v < min) min = v;
        if (v > max) max = v;
        if (Math.abs(v * 255 - Math.round(v * 255)) > 1e-3) offGrid++;
      }
      expect(min).toBe(0);
      expect(max).toBe(1);
      expect(offGrid).toBe(0);
    }
  });

  it('agrees with a hand parse of the gzip bytes, pixel for pixel and label for label', () => {
    for (const [split, prefix] of [
      [data.train, 'train'],
      [data.test, 't10k'],
    ] as const) {
      const images = parseIdx(`${prefix}-images-idx3-ubyte.gz`);
      const labels = parseIdx(`${prefix}-labels-idx1-ubyte.gz`);
      expect(images.dims).toEqual([split.count, 28, 28]);
      expect(labels.dims).toEqual([split.count]);
      expect(Array.from(split.labels)).toEqual(Array.from(labels.body));
      for (const k of [0, 1, 777, split.count - 1]) {
        // byte / 255 rounded to float32, which is what a Float32Array holds: the comparison is exact.
        const byHand = Array.from(images.body.subarray(k * 784, (k + 1) * 784), (b) => Math.fround(b / 255));
        expect(Array.from(split.images.subarray(k * 784, (k + 1) * 784)), `${prefix} image ${k}`).toEqual(byHand);
      }
    }
  });

  it('matches values read from the original Fashion-MNIST files (Debian dataset-fashion-mnist)', () => {
    // The subset keeps the original order, so its first images are the originals' first images and its
    // last one is the original's index lastSourceIndex (6410 in train, 2087 in t10k).
    const pixelSum = (images: Float32Array, k: number) => Math.round(images.subarray(k * 784, (k + 1) * 784).reduce((a, b) => a + b * 255, 0));
    const row = (images: Float32Array, k: number, r: number) =>
      Array.from(images.subarray(k * 784 + r * 28, k * 784 + (r + 1) * 28), (v) => Math.round(v * 255));
    expect(Array.from(data.train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(Array.from(data.test.labels.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    expect(data.train.labels[5999]).toBe(0);
    expect(data.test.labels[1999]).toBe(9);
    expect(pixelSum(data.train.images, 0)).toBe(76247);
    expect(pixelSum(data.train.images, 5999)).toBe(89530);
    expect(pixelSum(data.test.images, 0)).toBe(33456);
    expect(pixelSum(data.test.images, 1999)).toBe(59915);
    expect(row(data.train.images, 0, 14)).toEqual([
      0, 0, 1, 4, 6, 7, 2, 0, 0, 0, 0, 0, 237, 226, 217, 223, 222, 219, 222, 221, 216, 223, 229, 215, 218, 255, 77, 0,
    ]);
    expect(row(data.test.images, 0, 14)).toEqual([
      0, 0, 0, 0, 0, 0, 2, 4, 1, 0, 0, 0, 98, 136, 110, 109, 110, 162, 135, 144, 149, 159, 167, 144, 158, 169, 119, 0,
    ]);
  });

  it('has a manifest whose SHA-256s, sizes and counts are those of the files', () => {
    const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.files).sort()).toEqual([...FILES].sort());
    for (const file of FILES) {
      const bytes = readFileSync(join(DIR, file));
      expect(manifest.files[file].sha256, file).toBe(sha256(bytes));
      expect(manifest.files[file].bytes, file).toBe(bytes.length);
      expect(manifest.files[file].count, file).toBe(parseIdx(file).dims[0]);
      expect(bytes.readUInt32LE(4), `${file}: gzip mtime`).toBe(0);
    }
    const total = FILES.reduce((a, f) => a + manifest.files[f].bytes, 0);
    expect(total).toBeLessThan(5_000_000);
  });
});

describe('loadFashionMnist on damaged data', () => {
  const temps: string[] = [];
  /** A fresh copy of the data directory in os.tmpdir(). */
  const copy = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'marginkit-fashion-'));
    temps.push(dir);
    cpSync(DIR, dir, { recursive: true });
    return dir;
  };
  const editManifest = (dir: string, edit: (m: { files: Record<string, { sha256: string; bytes: number; count: number }> }) => void) => {
    const path = join(dir, 'manifest.json');
    const m = JSON.parse(readFileSync(path, 'utf8'));
    edit(m);
    writeFileSync(path, JSON.stringify(m));
  };
  /** Replaces a file and updates its manifest entry, so that the damage gets past the checksum. */
  const replaceVouched = (dir: string, file: string, bytes: Uint8Array) => {
    writeFileSync(join(dir, file), bytes);
    editManifest(dir, (m) => {
      m.files[file]!.sha256 = sha256(bytes);
      m.files[file]!.bytes = bytes.length;
    });
  };
  const failure = (dir: string): DatasetError => {
    try {
      loadFashionMnist({ dir });
    } catch (err) {
      expect(err).toBeInstanceOf(DatasetError);
      expect(err).toBeInstanceOf(Error);
      if (!DatasetError.isInstance(err)) throw new Error('DatasetError.isInstance rejects a DatasetError');
      return err;
    }
    throw new Error('loadFashionMnist did not throw');
  };
  const expectNamed = (err: DatasetError, dir: string, file: string) => {
    expect(err.file).toBe(join(dir, file));
    expect(err.message).toContain(file);
    expect(err.message).toContain('git checkout -- examples/data/fashion-mnist');
    expect(err.name).toBe('DatasetError');
  };

  afterAll(() => {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });

  it.each(FILES)('a flipped byte in %s: a checksum error naming the file', (file) => {
    const dir = copy();
    const path = join(dir, file);
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1]! ^= 0x01;
    writeFileSync(path, bytes);
    const err = failure(dir);
    expect(err.problem).toBe('checksum');
    expectNamed(err, dir, file);
    expect(err.message).toMatch(/SHA-256 [0-9a-f]{64} does not match/);
    expect(err.message).toContain('same size');
  });

  it('checks the SHA-256 before parsing: a broken gzip header is reported as a checksum error', () => {
    const dir = copy();
    const path = join(dir, 't10k-labels-idx1-ubyte.gz');
    const bytes = readFileSync(path);
    bytes[0] = 0x00; // not the gzip magic any more
    writeFileSync(path, bytes);
    const err = failure(dir);
    expect(err.problem).toBe('checksum');
    expectNamed(err, dir, 't10k-labels-idx1-ubyte.gz');
  });

  it('a truncated file: a checksum error that says truncated', () => {
    const dir = copy();
    const path = join(dir, 't10k-images-idx3-ubyte.gz');
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length >> 1));
    const err = failure(dir);
    expect(err.problem).toBe('checksum');
    expectNamed(err, dir, 't10k-images-idx3-ubyte.gz');
    expect(err.message).toContain(`${bytes.length >> 1} bytes instead of ${bytes.length}`);
    expect(err.message).toContain('truncated');
  });

  it('a truncated gzip that the manifest vouches for: a gzip error', () => {
    const dir = copy();
    const file = 'train-labels-idx1-ubyte.gz';
    const bytes = readFileSync(join(dir, file));
    replaceVouched(dir, file, bytes.subarray(0, bytes.length - 100));
    const err = failure(dir);
    expect(err.problem).toBe('gzip');
    expectNamed(err, dir, file);
    expect(err.message).toContain('not a valid gzip stream');
  });

  it('a bad IDX magic number that the manifest vouches for: a format error', () => {
    const dir = copy();
    const file = 't10k-images-idx3-ubyte.gz';
    const raw = gunzipSync(readFileSync(join(dir, file)));
    raw.writeUInt32BE(0x00000d03, 0); // float32 instead of unsigned byte
    replaceVouched(dir, file, gzipSync(raw));
    const err = failure(dir);
    expect(err.problem).toBe('format');
    expectNamed(err, dir, file);
    expect(err.message).toContain('bad IDX magic number 0x00000d03, expected 0x00000803');
  });

  it('a missing file: an error that says it is missing', () => {
    const dir = copy();
    unlinkSync(join(dir, 'train-images-idx3-ubyte.gz'));
    const err = failure(dir);
    expect(err.problem).toBe('missing');
    expectNamed(err, dir, 'train-images-idx3-ubyte.gz');
    expect(err.message).toContain('the file is missing');
  });

  it('a wrong count in the manifest: a format error naming the file and both counts', () => {
    const dir = copy();
    editManifest(dir, (m) => {
      m.files['train-images-idx3-ubyte.gz']!.count = 6001;
    });
    const err = failure(dir);
    expect(err.problem).toBe('format');
    expectNamed(err, dir, 'train-images-idx3-ubyte.gz');
    expect(err.message).toContain('the IDX header gives 6000 images, the manifest says 6001');
  });

  it('a missing or malformed manifest: a manifest error', () => {
    const dir = copy();
    writeFileSync(join(dir, 'manifest.json'), '{"files": ');
    let err = failure(dir);
    expect(err.problem).toBe('manifest');
    expectNamed(err, dir, 'manifest.json');
    expect(err.message).toContain('not valid JSON');
    unlinkSync(join(dir, 'manifest.json'));
    err = failure(dir);
    expect(err.problem).toBe('manifest');
    expectNamed(err, dir, 'manifest.json');
  });
});

describe('DatasetError.isInstance', () => {
  it('recognises a DatasetError made by another copy of the module, where instanceof fails', async () => {
    const copy: typeof import('./fashion-mnist.js') = await import(/* @vite-ignore */ `./fashion-mnist.js?copy=${'second'}`);
    const foreign = new copy.DatasetError('/data/x.gz', 'missing', 'no such file');
    expect(foreign instanceof DatasetError).toBe(false);
    expect(DatasetError.isInstance(foreign)).toBe(true);
    expect(copy.DatasetError.isInstance(new DatasetError('/data/x.gz', 'gzip', 'bad'))).toBe(true);
  });

  it('recognises a re-declared class carrying the same Symbol.for marker, and rejects everything else', () => {
    const marker = Symbol.for('marginkit.examples.error.DatasetError');
    const redeclared = Object.defineProperty(new Error('x'), marker, { value: true });
    expect(DatasetError.isInstance(redeclared)).toBe(true);
    const others: unknown[] = [
      new Error('x'),
      Object.assign(new Error('x'), { name: 'DatasetError', file: 'a', problem: 'missing' }),
      null,
      'DatasetError',
      { [Symbol('marginkit.examples.error.DatasetError')]: true },
      { [marker]: 'yes' },
      { [Symbol.for('marginkit.error')]: true },
    ];
    for (const value of others) expect(DatasetError.isInstance(value)).toBe(false);
  });

  it('the marker is not enumerable', () => {
    const e = new DatasetError('/data/x.gz', 'missing', 'no such file');
    expect(Object.keys(e)).not.toContain('marginkit.examples.error.DatasetError');
    expect(Object.getOwnPropertySymbols(e).map((s) => Object.prototype.propertyIsEnumerable.call(e, s))).toEqual([false]);
  });
});
