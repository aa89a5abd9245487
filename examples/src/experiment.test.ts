import { verificationReport } from '@marginkit/eval';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOSSES, downsample, targetCurves, unitRows, verify } from './experiment.js';
import { allPairs } from './pairs.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the experiment pieces', () => {
  it('downsample averages 2×2 blocks (28×28 → 14×14)', () => {
    const img = Float32Array.from({ length: 784 }, (_, i) => i);
    const out = downsample(img, 1);
    expect(out.length).toBe(196);
    // Block (r, c) averages pixels (2r, 2c), (2r, 2c+1), (2r+1, 2c), (2r+1, 2c+1): 28·2r + 2c + 14.5.
    for (const [r, c] of [
      [0, 0],
      [3, 7],
      [13, 13],
    ] as const) {
      expect(out[r * 14 + c]).toBeCloseTo(56 * r + 2 * c + 14.5, 4);
    }
  });

  it('unitRows normalises each row and leaves a zero row at zero', () => {
    const u = unitRows(Float32Array.from([3, 4, 0, 0]), 2);
    expect(Array.from(u)).toEqual([0.6000000238418579, 0.800000011920929, 0, 0]);
  });

  it('verify scores every pair by cosine: its numbers are those of verificationReport on allPairs', () => {
    // Two classes on two axes with noise, and an unseen third class.
    const labels = Int32Array.from({ length: 60 }, (_, i) => i % 3);
    let s = 7;
    const noise = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return (s / 4294967296 - 0.5) * 0.8;
    };
    const e = Float32Array.from({ length: 60 * 3 }, (_, k) => (k % 3 === labels[Math.floor(k / 3)]! ? 1 : 0) + noise());
    const { metrics: v, pairs: returned } = verify(e, labels, 3, 1);
    const pairs = allPairs(unitRows(e, 3), labels, 3);
    expect(returned).toEqual(pairs);
    const ref = verificationReport(pairs.scores, pairs.same, { farTargets: [1e-3, 1e-2] });
    expect(v.auc).toBe(ref.auc);
    expect(v.eer).toBe(ref.eer.eer);
    expect(v.tarAtFar.map((t) => t.tar)).toEqual(ref.tarAtFar.map((t) => t.tar));
    expect(v.pairs).toEqual({ genuine: 3 * ((20 * 19) / 2), impostor: (60 * 59) / 2 - 3 * ((20 * 19) / 2) });
    expect(v.tenFold.mean).toBeGreaterThan(0.8);
    for (const t of v.tarAtFar) expect(t.interval[0]).toBeLessThanOrEqual(t.tar);
  });

  it("targetCurves are the margins' own target logits: ArcFace is cos(θ + m) inside [0, π − m], CosFace cos θ − m", () => {
    const [arc, cos] = targetCurves(tf, [LOSSES['arcface']!, LOSSES['cosface']!, LOSSES['softmax']!]);
    expect(arc!.thetaDeg.length).toBe(181);
    for (const d of [0, 30, 90, 150]) {
      // cos θ is clamped to 1 − 2⁻²³ before acos, so θ = 0 reads as acos(1 − 2⁻²³) ≈ 4.9e-4.
      const th = d === 0 ? Math.acos(1 - 2 ** -23) : (d * Math.PI) / 180;
      expect(arc!.target[d]!).toBeCloseTo(Math.cos(th + 0.5), 4);
      expect(cos!.target[d]!).toBeCloseTo(Math.cos((d * Math.PI) / 180) - 0.35, 5);
    }
    expect(arc!.target[175]!).toBeCloseTo(Math.cos((175 * Math.PI) / 180) - 0.5 * Math.sin(0.5), 4); // 'linear' past π − m
  });
});
