import { type Margin, arcface, chunkedMarginSoftmaxStep, combinedMargin, cosface, marginSoftmaxStep, sphereface } from '@marginkit/core';
import { compareNormwise, seededRandom } from '@marginkit/core/testing';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ortBackend } from '../../backend-ort/src/backend.js';
import { leanEligible } from '../../core/src/chunk-lean.js';
import type { ChunkNorms } from '../../core/src/chunk-norms.js';
import { tilted } from '../../core/test/chunk-fixtures.js';
import { adaface } from './margins/adaface.js';
import { elasticface } from './margins/elasticface.js';
import { magface } from './margins/magface.js';

// The lean chunk graphs (core's chunk-lean.ts) run on ONNX Runtime, whose chunks are host memory,
// for margins that are not class-local: each case against the unchunked step on the same backend.

const [B, D] = [8, 6];

interface Case {
  readonly margin: Margin;
  readonly classes: number;
  readonly classChunk: number;
  readonly labels: readonly number[];
  readonly scale?: number;
  readonly reduction?: 'mean' | 'sum';
  /** Embeddings of this size (MagFace wants norms in [10, 110]). */
  readonly spread?: number;
  /** Embeddings on their label's centre plus noise of this size: well-classified rows (large logits). */
  readonly nearCenters?: number;
  readonly inputs?: Readonly<Record<string, readonly number[]>>;
  /** Row 1 of the centres zero and row 2 below the norm's eps. */
  readonly degenerate?: boolean;
  readonly normTerm?: 'apply' | 'defer';
  /** Pass 1's cosines kept for pass 2 (B = 8 > D = 6 here: 'auto' would form them again). */
  readonly keepLogits?: boolean;
}

const backend = ortBackend(ort);
afterAll(() => backend.dispose());

function values(c: Case): { xv: Float32Array; wv: Float32Array } {
  const rng = seededRandom(7);
  const wv = Float32Array.from({ length: c.classes * D }, () => rng.normal());
  if (c.degenerate) {
    wv.fill(0, D, 2 * D);
    for (let i = 2 * D; i < 3 * D; i++) wv[i] = 1e-14 * (i % 3);
  }
  const noise = Float32Array.from({ length: B * D }, () => rng.normal() * (c.nearCenters ?? c.spread ?? 1));
  const xv = c.nearCenters === undefined ? noise : Float32Array.from(noise, (v, i) => v + wv[Math.max(c.labels[Math.floor(i / D)]!, 0) * D + (i % D)]!);
  return { xv, wv };
}

async function expectOrtParity(c: Case): Promise<void> {
  const { xv, wv } = values(c);
  const labels = Int32Array.from(c.labels);
  const options = { margin: c.margin, scale: c.scale ?? 16, ignoreIndex: -1 as const, reduction: c.reduction ?? 'mean' };
  const inputs = () => Object.fromEntries(Object.entries(c.inputs ?? {}).map(([k, v]) => [k, backend.tensor(v, [B])]));
  const step = marginSoftmaxStep(backend, options);
  const whole = await backend.valueAndGradients!(
    (x, w) => step(x!, w!, labels, { inputs: inputs() }).loss,
    [backend.tensor(xv, [B, D]), backend.tensor(wv, [c.classes, D])],
  );
  const rows = step(backend.tensor(xv, [B, D]), backend.tensor(wv, [c.classes, D]), labels, { inputs: inputs() });
  const [perSample, aux] = await backend.run([rows.perSample, ...(rows.auxiliaryLoss === undefined ? [] : [rows.auxiliaryLoss])]);

  const chunks: Float32Array[] = [];
  for (let at = 0; at < wv.length; at += c.classChunk * D) chunks.push(wv.slice(at, Math.min(wv.length, at + c.classChunk * D)));
  const gw = new Float32Array(wv.length);
  const out = await chunkedMarginSoftmaxStep(backend, { ...options, classChunk: c.classChunk, keepLogits: c.keepLogits ?? false })(
    backend.tensor(xv, [B, D]),
    chunks.map((v) => backend.tensor(v, [v.length / D, D])),
    labels,
    {
      inputs: inputs(),
      ...(c.normTerm === undefined ? {} : { normTerm: c.normTerm }),
      onCentersGradient: (k, g, coefficients) => {
        // Deferred: the full gradient is g_j − c_j·w_j.
        const full = coefficients === undefined ? g : Float32Array.from(g, (v, i) => v - coefficients[Math.floor(i / D)]! * chunks[k]![i]!);
        gw.set(full, k * c.classChunk * D);
      },
    },
  );
  const check = (what: string, actual: ArrayLike<number>, expected: ArrayLike<number>) => expect(compareNormwise(actual, expected, 1e-5), what).toBeUndefined();
  check('loss', [out.loss], [whole.value]);
  check('per-sample', out.perSample, perSample!.data as Float32Array);
  if (aux !== undefined) check('auxiliary loss', [out.auxiliaryLoss!], [(aux.data as Float32Array)[0]!]);
  check('d/dembeddings', out.embeddingsGradient!, whole.gradients[0]!);
  check('d/dcenters', gw, whole.gradients[1]!);
}

// Labels with an ignored row and a class held twice; 10 lies in a last chunk of one class when C = 9 + 2.
const LABELS = [0, 4, -1, 3, 9, 4, 5, 10];

describe.each([
  ['pass 2 forms the cosines again', false],
  ['pass 1 keeps the cosines for pass 2', true],
])('the lean chunk graphs on ONNX Runtime equal the unchunked step (loss, per-sample, auxiliary loss, both gradients); %s', (_, keepLogits) => {
  const parity = (c: Case) => expectOrtParity({ ...c, keepLogits });
  it.each([
    ['ArcFace', arcface()],
    ['CosFace', cosface()],
    ['SphereFace', sphereface()],
    ['the combined margin', combinedMargin({ m1: 1.2, m2: 0.3, m3: 0.1 })],
  ])('%s, chunks of 4 (4, 4, 3)', (_, margin) => parity({ margin, classes: 11, classChunk: 4, labels: LABELS }));

  it('a last chunk of one class that holds a row’s label (its non-target sum is empty)', () =>
    parity({ margin: arcface(), classes: 11, classChunk: 5, labels: LABELS }));
  it('chunks of one class', () => parity({ margin: arcface(), classes: 11, classChunk: 1, labels: LABELS }));
  it("reduction 'sum'", () => parity({ margin: cosface(), classes: 11, classChunk: 4, labels: LABELS, reduction: 'sum' }));
  it('well-classified rows at scale 64: the target column dwarfs the rest, which the mask keeps out of every sum', () =>
    parity({ margin: arcface(), classes: 11, classChunk: 4, labels: LABELS, scale: 64, nearCenters: 0.2 }));
  it('a zero centre and one below the norm’s eps', () =>
    parity({ margin: arcface(), classes: 11, classChunk: 4, labels: [1, 2, 0, 3, 9, 4, 5, 10], degenerate: true }));
  it("the norm's term deferred to the caller", () => parity({ margin: arcface(), classes: 11, classChunk: 4, labels: LABELS, normTerm: 'defer' }));
  it('MagFace: an auxiliary loss and a margin from the embedding norms', () =>
    parity({ margin: magface(), classes: 11, classChunk: 4, labels: LABELS, spread: 12, scale: 64 }));
  it('ElasticFace: per-step margins', () =>
    parity({
      margin: elasticface(),
      classes: 11,
      classChunk: 4,
      labels: LABELS,
      inputs: { margins: [0.45, 0.52, 0.5, 0.61, 0.38, 0.49, 0.55, 0.47] },
    }));
});

describe('keeping the cosines changes the results by float32 rounding only', () => {
  /** Every number a chunked step gives: loss, per-sample, embedding gradient, each chunk's gradient and norm coefficients. */
  async function stepValues(margin: Margin, keepLogits: boolean): Promise<number[][]> {
    const { xv, wv } = values({ margin, classes: 11, classChunk: 4, labels: LABELS, nearCenters: 0.5 });
    const chunks = [0, 4, 8].map((from) => backend.tensor(wv.slice(from * D, Math.min(11, from + 4) * D), [Math.min(4, 11 - from), D]));
    const emitted: number[][] = [];
    const out = await chunkedMarginSoftmaxStep(backend, { margin, scale: 32, ignoreIndex: -1, classChunk: 4, keepLogits })(
      backend.tensor(xv, [B, D]),
      chunks,
      Int32Array.from(LABELS),
      { normTerm: 'defer', onCentersGradient: (_, g, k) => void emitted.push(Array.from(g), Array.from(k!)) },
    );
    return [[out.loss], Array.from(out.perSample), Array.from(out.embeddingsGradient!), ...emitted];
  }
  it.each([
    ['ArcFace', arcface()],
    ['MagFace', magface()],
  ])('%s: loss and per-sample bit for bit (pass 1 is the same), gradients and norm coefficients to 1e-6', async (_, margin) => {
    // Pass 2's own product x̂·Wᵀ rounds slightly differently from pass 1's (another graph), so the
    // gradients move by float32 rounding, not by bits.
    const [kept, formed] = [await stepValues(margin, true), await stepValues(margin, false)];
    expect(kept.length).toBe(3 + 2 * 3);
    expect(kept.slice(0, 2)).toEqual(formed.slice(0, 2));
    for (let i = 2; i < kept.length; i++) expect(compareNormwise(kept[i]!, formed[i]!, 1e-6), `array ${i}`).toBeUndefined();
  });
});

describe('which calls take the lean graphs', () => {
  const norms: ChunkNorms[] = [{ reciprocal: new Float32Array(2), cube: new Float64Array(2), values: new Float32Array(2 * D) }];
  const hostless: ChunkNorms[] = [{ reciprocal: new Float32Array(2), cube: new Float64Array(2) }];
  it('margins that are not class-local, one centre per class and a fixed scale, with host norms', () => {
    for (const margin of [arcface(), cosface(), sphereface(), combinedMargin(), magface(), elasticface()]) {
      expect(leanEligible(margin, 1, norms, true), margin.type).toBe(true);
    }
  });
  it('not class-local margins, sub-centres, a scale from the norm, or no host norms', () => {
    expect(leanEligible(adaface(), 1, norms, true)).toBe(false);
    expect(leanEligible(tilted, 1, norms, true)).toBe(false);
    expect(leanEligible(arcface(), 3, norms, true)).toBe(false);
    expect(leanEligible(sphereface({ featureScale: 'norm' }), 1, norms, true)).toBe(false);
    expect(leanEligible(arcface(), 1, undefined, false)).toBe(false);
  });
  it('the statistics pass needs the norms only; the backward pass also the values (to gather w_y)', () => {
    expect(leanEligible(arcface(), 1, hostless, false)).toBe(true);
    expect(leanEligible(arcface(), 1, hostless, true)).toBe(false);
  });
});
