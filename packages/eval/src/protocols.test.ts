import { describe, expect, it } from 'vitest';
import { EvalInputError } from './errors.js';
import { expectClose, fixtures } from '../test/fixtures.js';
import { identification } from './identification.js';
import { pairScores, poolTemplates } from './ijb.js';
import { flipFusion, matrix } from './matrix.js';
import { kFoldRanges, lfwTenFold, valThreshold } from './protocols.js';
import { retrievalMetrics } from './retrieval.js';
import { tarAtFar } from './tar-at-far.js';

// biome-ignore lint/suspicious/noExplicitAny: fixture rows
const lfwCases: [string, any][] = fixtures.lfw.map((c: { name: string }) => [c.name, c]);
describe.each(lfwCases)('LFW 10-fold as insightface computes it: %s', (_, f) => {
  const n = f.issame.length;
  const m = (v: number[]) => matrix(Float64Array.from(v), n, f.dim);
  const [e1, e2] = f.flipped1
    ? [flipFusion(m(f.embeddings1), m(f.flipped1)), flipFusion(m(f.embeddings2), m(f.flipped2))]
    : [m(f.embeddings1), m(f.embeddings2)];
  const r = lfwTenFold(e1, e2, f.issame, { farTarget: f.farTarget });
  it('fold thresholds and accuracies, mean ± population std', () => {
    expect(r.foldThresholds).toEqual(f.foldThresholds);
    expectClose(r.foldAccuracies, f.foldAccuracies, 1e-12, 'fold accuracy');
    expect(r.accuracy).toBeCloseTo(f.accuracy, 12);
    expect(r.accuracyStd).toBeCloseTo(f.accuracyStd, 12);
  });
  it('mean ROC over folds', () => {
    expectClose(r.tpr, f.tpr, 1e-12, 'tpr');
    expectClose(r.fpr, f.fpr, 1e-12, 'fpr');
  });
  it('VAL@FAR with the documented tie rule', () => {
    expect(r.val).toBeCloseTo(f.val, 12);
    expect(r.valStd).toBeCloseTo(f.valStd, 12);
    expect(r.far).toBeCloseTo(f.far, 12);
  });
});

describe('protocol pieces', () => {
  it('k-fold ranges match scikit-learn KFold(shuffle=False): the first n % k folds are one longer', () => {
    expect(kFoldRanges(23, 10).map(([a, b]) => b - a)).toEqual([3, 3, 3, 2, 2, 2, 2, 2, 2, 2]);
    expect(kFoldRanges(23, 10).at(-1)![1]).toBe(23);
  });
  it('VAL threshold: interpolates between the last threshold below the target and the first reaching it', () => {
    expect(valThreshold([0, 0, 0, 0.5, 0.5, 1], [0, 0.1, 0.2, 0.3, 0.4, 0.5], 0.25)).toBeCloseTo(0.25, 15);
    expect(valThreshold([0, 0, 0.5, 0.5], [0, 0.1, 0.2, 0.3], 0.5)).toBeCloseTo(0.2, 15); // exactly on a plateau: its first threshold
    expect(valThreshold([0, 0.1], [0, 1], 0.5)).toBe(0); // never reached: 0 as the reference
  });
});

describe('IJB-B/C 1:1 as insightface computes it', () => {
  const f = fixtures.ijb;
  const feats = matrix(Float64Array.from(f.features), f.templates.length, f.dim);
  const pooled = poolTemplates(feats, f.templates, f.medias);
  it('pools templates (media mean, template sum, normalise)', () => {
    expect(Array.from(pooled.templateIds)).toEqual(f.templateIds);
    expectClose(pooled.features.data, f.templateFeatures, 1e-12, 'template features');
  });
  it('scores pairs in blocks, and TAR@FAR with the nearest policy equals the IJB script', () => {
    const progress: number[] = [];
    const scores = pairScores(pooled, f.p1, f.p2, { blockSize: 300, onProgress: (done) => progress.push(done) });
    expectClose(scores, f.scores, 1e-12, 'pair scores');
    expect(progress).toEqual([300, 600, 800]);
    const tar = tarAtFar(scores, f.labels, f.fars, { policy: 'nearest' }).map((r) => r.tar);
    expectClose(tar, f.tarNearest, 1e-12, 'TAR');
  });
  it('rejects a pair naming a template that was not pooled', () => {
    expect(() => pairScores(pooled, [f.p1[0]], [123456789])).toThrowError(/templates2\[0\] = 123456789 is not a pooled template id/);
  });
});

describe('1:N identification', () => {
  const f = fixtures.identification;
  const r = identification(
    matrix(Float64Array.from(f.probes), f.probeSubjects.length, f.dim),
    f.probeSubjects,
    matrix(Float64Array.from(f.gallery), f.gallerySubjects.length, f.dim),
    f.gallerySubjects,
    { ranks: [1, 5, 10], fpirs: [0.05, 0.2], blockSize: 7 },
  );
  it('CMC rank-k equals a brute-force reference', () => {
    for (const c of r.cmc) expect(c.rate).toBeCloseTo(f.cmc[String(c.rank)], 12);
    expect(r.cmcCurve[0]).toBeCloseTo(f.cmc['1'], 12);
  });
  it('TPIR@FPIR equals the reference (max non-mate score of each non-mated probe)', () => {
    for (const t of r.tpirAtFpir) expect(t.tpir).toBeCloseTo(f.tpir[String(t.fpir)], 12);
  });
  it('the CMC is non-decreasing and reaches 1 at the gallery size', () => {
    for (let k = 1; k < r.cmcCurve.length; k++) expect(r.cmcCurve[k]!).toBeGreaterThanOrEqual(r.cmcCurve[k - 1]!);
    expect(r.cmcCurve.at(-1)).toBe(1);
  });
});

describe('retrieval as pytorch-metric-learning defines it', () => {
  const f = fixtures.retrieval;
  it('precision@1, R-precision, MAP@R (lone queries excluded)', () => {
    const r = retrievalMetrics(matrix(Float64Array.from(f.embeddings), f.labels.length, f.dim), f.labels);
    expect(r.queries).toBe(f.queries);
    expect(r.precisionAt1).toBeCloseTo(f.precisionAt1, 12);
    expect(r.rPrecision).toBeCloseTo(f.rPrecision, 12);
    expect(r.mapAtR).toBeCloseTo(f.mapAtR, 12);
  });
  it('is 1 for perfectly clustered embeddings, and MAP@R ≤ R-precision', () => {
    const e = matrix([1, 0, 0.99, 0.01, 0, 1, 0.02, 0.98, -1, 0, -0.97, 0.05], 6, 2);
    const r = retrievalMetrics(e, [0, 0, 1, 1, 2, 2]);
    expect([r.precisionAt1, r.rPrecision, r.mapAtR]).toEqual([1, 1, 1]);
    const g = retrievalMetrics(matrix(Float64Array.from(f.embeddings), f.labels.length, f.dim), f.labels);
    expect(g.mapAtR).toBeLessThanOrEqual(g.rPrecision + 1e-12);
  });
  it('rejects labels of the wrong length', () => {
    expect(() => retrievalMetrics(matrix([1, 0], 1, 2), [0, 1])).toThrowError(EvalInputError);
  });
});

describe('bad options and ids of identification, IJB pooling and retrieval', () => {
  const g = matrix([1, 0, 0, 1], 2, 2);
  const p = matrix([0.9, 0.1, 0.2, 0.8, -1, 0.1], 3, 2);
  it.each([
    ['tpirRank 0', () => identification(p, [1, 2, 9], g, [1, 2], { tpirRank: 0 }), 'tpirRank'],
    ['tpirRank NaN', () => identification(p, [1, 2, 9], g, [1, 2], { tpirRank: Number.NaN }), 'tpirRank'],
    ['tpirRank 1.5', () => identification(p, [1, 2, 9], g, [1, 2], { tpirRank: 1.5 }), 'tpirRank'],
    ['NaN probe subject', () => identification(p, [1, Number.NaN, 9], g, [1, 2]), 'probeSubjects'],
    ['NaN gallery subject', () => identification(p, [1, 2, 9], g, [1, Number.NaN]), 'gallerySubjects'],
    ['Infinity gallery subject', () => identification(p, [1, 2, 9], g, [Number.POSITIVE_INFINITY, 2]), 'gallerySubjects'],
    ['empty ranks', () => identification(p, [1, 2, 9], g, [1, 2], { ranks: [] }), 'ranks'],
    ['NaN faceness score', () => poolTemplates(g, [1, 2], [1, 2], { facenessScores: [0.9, Number.NaN] }), 'facenessScores'],
    ['Infinity faceness score', () => poolTemplates(g, [1, 2], [1, 2], { facenessScores: [Number.POSITIVE_INFINITY, 1] }), 'facenessScores'],
    ['NaN retrieval label', () => retrievalMetrics(p, [0, Number.NaN, 0]), 'labels'],
  ] as const)('%s', (_, run, argument) => {
    let thrown: unknown;
    try {
      run();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(EvalInputError);
    expect((thrown as EvalInputError).argument).toBe(argument);
    expect((thrown as Error).message).toContain(argument);
  });
});
