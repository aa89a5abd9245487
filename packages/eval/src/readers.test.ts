import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MarginkitEvalError, ParseError } from './errors.js';
import { npyPath } from './fixtures.js';
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
