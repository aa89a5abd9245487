import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MarginkitEvalError, ParseError } from './errors.js';
import { npyPath } from '../test/fixtures.js';
import { parseIjbFaceTidMid, parseIjbIdentificationCsv, parseIjbTemplatePairs, parseLfwPairs, readNpy, writeNpy } from './readers.js';

const npy = (name: string) => readNpy(new Uint8Array(readFileSync(npyPath(name))), name);

describe('.npy files written by numpy', () => {
  it('float32 [3, 4] (v1)', () => {
    const a = npy('f4-3x4.npy');
    expect(a.shape).toEqual([3, 4]);
    expect(a.dtype).toBe('<f4');
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(Array.from(a.data)).toEqual(Array.from(Float32Array.from({ length: 12 }, (_, i) => i / 7)));
  });
  it('float64 with extreme values, big-endian float64, int64, bool, v2 and v3 headers', () => {
    expect(Array.from(npy('f8-5.npy').data)).toEqual([1.5, -2.25, 1e-300, 3e300, 0]);
    const be = npy('f8-big-endian-2x2.npy');
    expect(be.dtype).toBe('>f8');
    expect(Array.from(be.data)).toEqual([1, 2, 3, -4.5]);
    expect(Array.from(npy('i8-4.npy').data)).toEqual([0, 1, -7, 2 ** 31 - 1]);
    expect(Array.from(npy('bool-3.npy').data)).toEqual([1, 0, 1]);
    expect(Array.from(npy('f4-v2-2x2.npy').data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(npy('f4-v3-2x2.npy').data)).toEqual([5, 6, 7, 8]);
  });
  it('rejects Fortran order with a clear error', () => {
    expect(() => npy('f4-fortran.npy')).toThrowError(/Fortran-order arrays are not supported/);
  });
  it('round-trips what writeNpy writes', () => {
    for (const data of [new Float32Array([1, -2, 3.5]), new Float64Array([Math.PI, -0]), new Int32Array([7, -8]), new Uint8Array([1, 0])]) {
      const back = readNpy(writeNpy(data, [data.length]));
      expect(back.shape).toEqual([data.length]);
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
  });
  it('reports truncated data and wrong headers with the file name', () => {
    const good = new Uint8Array(readFileSync(npyPath('f4-3x4.npy')));
    expect(() => readNpy(good.subarray(0, good.length - 4), 'emb.npy')).toThrowError(/emb.npy: truncated data/);
    expect(() => readNpy(new TextEncoder().encode('not numpy at all'), 'x.npy')).toThrowError(/x.npy: not a .npy file/);
    const badDtype = new Uint8Array(good);
    const at = new TextDecoder('latin1').decode(good).indexOf('<f4');
    badDtype.set(new TextEncoder().encode('<c8'), at);
    expect(() => readNpy(badDtype, 'c.npy')).toThrowError(/unsupported dtype <c8/);
  });
  it('never throws anything but a ParseError on random bytes (property)', () => {
    const header = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 300 }), (withMagic, bytes) => {
        const input = withMagic ? new Uint8Array([...header, ...bytes]) : bytes;
        try {
          readNpy(input, 'random.npy');
        } catch (e) {
          expect(e).toBeInstanceOf(ParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

/** A .npy file (v1) as numpy writes it: magic, version, header padded to 64 bytes, data. */
function npyBytes(descr: string, shapeText: string, body: number[] | Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += `${' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}
/** Little- or big-endian bytes of integers of `size` bytes. */
function intBytes(values: (number | bigint)[], size: 1 | 2 | 4 | 8, little: boolean, signed: boolean): number[] {
  const view = new DataView(new ArrayBuffer(values.length * size));
  values.forEach((v, i) => {
    if (size === 1) signed ? view.setInt8(i, Number(v)) : view.setUint8(i, Number(v));
    else if (size === 2) signed ? view.setInt16(2 * i, Number(v), little) : view.setUint16(2 * i, Number(v), little);
    else if (size === 4) signed ? view.setInt32(4 * i, Number(v), little) : view.setUint32(4 * i, Number(v), little);
    else signed ? view.setBigInt64(8 * i, BigInt(v), little) : view.setBigUint64(8 * i, BigInt(v), little);
  });
  return Array.from(new Uint8Array(view.buffer));
}
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('.npy dtypes numpy writes every day (hand-encoded files)', () => {
  it.each([
    ['|i1', 1, true, true, [0, 1, -1, 127, -128]],
    ['|u1', 1, true, false, [0, 1, 255]],
    ['<i2', 2, true, true, [0, -1, 32767, -32768]],
    ['>i2', 2, false, true, [5, -300, 32767]],
    ['<u2', 2, true, false, [0, 1, 65535]],
    ['>u2', 2, false, false, [7, 65535]],
    ['<i4', 4, true, true, [0, -5, 2 ** 31 - 1, -(2 ** 31)]],
    ['>i4', 4, false, true, [1, -2]],
    ['<u4', 4, true, false, [0, 3, 2 ** 31 - 1]],
    ['<i8', 8, true, true, [0, 1, -7, 2 ** 31 - 1, -(2 ** 31)]],
    ['>i8', 8, false, true, [3, -4]],
    ['<u8', 8, true, false, [0, 9]],
  ] as const)('integer labels %s', (descr, size, little, signed, values) => {
    const a = readNpy(npyBytes(descr, `(${values.length},)`, intBytes([...values], size, little, signed)), 'labels.npy');
    expect(a.dtype).toBe(descr);
    expect(a.shape).toEqual([values.length]);
    expect(a.data).toBeInstanceOf(descr === '|u1' ? Uint8Array : Int32Array);
    expect(Array.from(a.data)).toEqual([...values]);
  });
  it.each([
    ['<i8', 8, true, [2n ** 31n]],
    ['<i8', 8, true, [-(2n ** 31n) - 1n]],
    ['<i8', 8, true, [2n ** 62n]],
    ['>i8', 8, true, [1n, -(2n ** 63n)]],
    ['<u8', 8, false, [2n ** 64n - 1n]],
    ['<u4', 4, false, [2 ** 32 - 1]],
  ] as const)('%s values outside int32 are a ParseError naming the file (%#)', (descr, size, signed, values) => {
    const e = thrownBy(() => readNpy(npyBytes(descr, `(${values.length},)`, intBytes([...values], size, descr[0] === '<', signed)), 'ids.npy'));
    expect(e).toBeInstanceOf(ParseError);
    expect((e as ParseError).file).toBe('ids.npy');
    expect((e as Error).message).toMatch(/^ids\.npy: .*does not fit in int32/);
  });
  it('float16 scores decode exactly: normals, subnormals, ±0, ±∞, NaN, both byte orders', () => {
    // [1, -2, 0.5, 65504 (max), 2^-14 (min normal), 2^-24 (min subnormal), 0.333251953125, -0, +∞, −∞, NaN]
    const halves = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0400, 0x0001, 0x3555, 0x8000, 0x7c00, 0xfc00, 0x7e00];
    const expected = [1, -2, 0.5, 65504, 2 ** -14, 2 ** -24, 0.333251953125, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN];
    for (const little of [true, false]) {
      const a = readNpy(npyBytes(little ? '<f2' : '>f2', `(${halves.length},)`, intBytes(halves, 2, little, false)), 'scores.npy');
      expect(a.data).toBeInstanceOf(Float32Array);
      expect(Array.from(a.data)).toEqual(expected);
      expect(Object.is(a.data[7], -0)).toBe(true);
    }
    // Every one of the 63,488 finite halves round-trips through Math.fround unchanged (exactly a float32).
    const all = Array.from({ length: 0x10000 }, (_, h) => h).filter((h) => (h & 0x7c00) !== 0x7c00);
    const a = readNpy(npyBytes('<f2', `(${all.length},)`, intBytes(all, 2, true, false)), 'all.npy');
    for (let i = 0; i < all.length; i++) {
      const h = all[i]!;
      const e = ((h & 0x7c00) >> 10) as number;
      const f = h & 0x3ff;
      const v = (h & 0x8000 ? -1 : 1) * (e === 0 ? f * 2 ** -24 : (1 + f / 1024) * 2 ** (e - 15));
      if (a.data[i] !== v) throw new Error(`half 0x${h.toString(16)}: got ${a.data[i]}, expected ${v}`);
    }
  });
  it('float32 and float64, both byte orders, 2-D', () => {
    const f4 = (little: boolean) => {
      const v = new DataView(new ArrayBuffer(16));
      for (const [i, x] of [1.5, -2, 3.25, 4].entries()) v.setFloat32(4 * i, x, little);
      return new Uint8Array(v.buffer);
    };
    const f8 = (little: boolean) => {
      const v = new DataView(new ArrayBuffer(32));
      for (const [i, x] of [Math.PI, -1e300, 5e-324, 0].entries()) v.setFloat64(8 * i, x, little);
      return new Uint8Array(v.buffer);
    };
    for (const little of [true, false]) {
      const a = readNpy(npyBytes(little ? '<f4' : '>f4', '(2, 2)', f4(little)), 'e.npy');
      expect([a.shape, a.data instanceof Float32Array, Array.from(a.data)]).toEqual([[2, 2], true, [1.5, -2, 3.25, 4]]);
      const b = readNpy(npyBytes(little ? '<f8' : '>f8', '(2, 2)', f8(little)), 'e.npy');
      expect([b.shape, b.data instanceof Float64Array, Array.from(b.data)]).toEqual([[2, 2], true, [Math.PI, -1e300, 5e-324, 0]]);
    }
  });
  it.each([
    ['(,)', 'malformed shape'],
    ['(3,,)', 'malformed shape'],
    ['(,3)', 'malformed shape'],
    ['(3,,4)', 'malformed shape'],
    ['(-1,)', 'malformed shape'],
    ['(2.5,)', 'malformed shape'],
    ['(a,)', 'malformed shape'],
    ['(99999999999999999999,)', 'too large'],
    ['(4294967296, 4294967296)', 'truncated data'],
  ])('a header shape %s is a ParseError naming the file', (shape, message) => {
    const e = thrownBy(() => readNpy(npyBytes('<f4', shape, new Uint8Array(16)), 'bad-shape.npy'));
    expect(e).toBeInstanceOf(ParseError);
    expect((e as ParseError).file).toBe('bad-shape.npy');
    expect((e as Error).message).toMatch(new RegExp(`^bad-shape\\.npy: .*${message}`));
  });
  it('a 0-d array "()" and the 1-tuple "(3,)" are valid', () => {
    expect(readNpy(npyBytes('<f4', '()', intBytes([0x3f800000], 4, true, false)), 's.npy')).toMatchObject({ shape: [], data: new Float32Array([1]) });
    expect(readNpy(npyBytes('|i1', '(3,)', [1, 2, 3]), 's.npy').shape).toEqual([3]);
  });
  it.each(['<c8', '<U5', '|O', '<f16', '|f2', '=f4', '<b2', 'f4'])('dtype %s is an unsupported-dtype ParseError naming the file', (descr) => {
    const e = thrownBy(() => readNpy(npyBytes(descr, '(1,)', new Uint8Array(16)), 'odd.npy'));
    expect(e).toBeInstanceOf(ParseError);
    expect((e as Error).message).toMatch(/^odd\.npy: unsupported dtype/);
  });
});

describe('text readers', () => {
  it('LFW pairs.txt: header, same and different pairs, tab or space separated', () => {
    const p = parseLfwPairs('2 1\nA 1 2\nB 1 C 4\nD\t3\t1\nE 2 F 1\n');
    expect([p.folds, p.pairsPerFold, p.pairs.length]).toEqual([2, 1, 4]);
    expect(p.pairs.map((x) => x.same)).toEqual([true, false, true, false]);
    expect(p.pairs[1]!.b.path).toBe('C/C_0004.jpg');
  });
  it('LFW: a ragged line and a wrong count are reported with file and line', () => {
    expect(() => parseLfwPairs('1 1\nA 1 2\nB 1 C\n', 'pairs.txt')).toThrowError(/pairs.txt:3: expected "name n1 n2"/);
    expect(() => parseLfwPairs('1 2\nA 1 2\nB 1 C 2\n', 'pairs.txt')).toThrowError(/declares 4 pairs but the file has 2/);
  });
  it('IJB meta files', () => {
    const m = parseIjbFaceTidMid('1.jpg 1 69544\n2.jpg 1 3720\n3.jpg 5 3720\n');
    expect(Array.from(m.templates)).toEqual([1, 1, 5]);
    const p = parseIjbTemplatePairs('1 11065 1\n1 11066 0\n');
    expect(Array.from(p.templates2)).toEqual([11065, 11066]);
    expect(() => parseIjbTemplatePairs('1 2 1\n1 2 x\n', 'pairs.txt')).toThrowError(/pairs.txt:2: label "x" is not 0 or 1/);
    expect(() => parseIjbFaceTidMid('1.jpg 1\n', 'meta.txt')).toThrowError(/meta.txt:1: expected 3 columns/);
  });
  it('IJB 1:N CSV, columns in any order', () => {
    const g = parseIjbIdentificationCsv('FILENAME,SUBJECT_ID,TEMPLATE_ID,SIGHTING_ID\nimg/1.jpg,10,1,0\nimg/2.jpg,10,1,0\n');
    expect(Array.from(g.templates)).toEqual([1, 1]);
    expect(() => parseIjbIdentificationCsv('TEMPLATE_ID,FILENAME\n1,a\n', 'g.csv')).toThrowError(/g.csv:1: the header has no SUBJECT_ID column/);
    expect(() => parseIjbIdentificationCsv('TEMPLATE_ID,SUBJECT_ID,FILENAME\n1,2\n', 'g.csv')).toThrowError(/g.csv:2: expected 3 fields/);
  });
  it('text readers never throw anything but our typed errors on random text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        for (const parse of [parseLfwPairs, parseIjbFaceTidMid, parseIjbTemplatePairs, parseIjbIdentificationCsv]) {
          try {
            parse(text);
          } catch (e) {
            expect(e).toBeInstanceOf(MarginkitEvalError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
