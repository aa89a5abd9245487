/**
 * The marginkit demo: train the same embedding net on the same generated data with no margin
 * (NormFace), CosFace and ArcFace, and compare loss, held-out accuracy and how far apart the
 * classes end up in angle. Run it with `npm run demo` from the repository root.
 *
 * Options: --epochs N (default 12), --backend cpu|wasm (default cpu: the tfjs backend of the
 * net), --head tfjs|ort (default tfjs; ort trains the head's centres, loss and gradients on
 * onnxruntime-node with @marginkit/backend-ort), --out DIR (default examples/demo-output),
 * --quick (a few seconds, for smoke tests), --losses a,b,c (default none,cosface,arcface; any of
 * the names below: core's margins and the @marginkit/losses catalogue).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ortBackend } from '@marginkit/backend-ort';
import type { MarginConfig } from '@marginkit/core';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import cliProgress from 'cli-progress';
import { clusteredData } from './data.js';
import { linePlotSvg, rocPlotSvg, verificationReport } from '@marginkit/eval';
import { allPairs } from './pairs.js';
import { type AngleReport, type EpochReport, trainEmbedding } from './train.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '12' },
    backend: { type: 'string', default: 'cpu' },
    head: { type: 'string', default: 'tfjs' },
    out: { type: 'string', default: resolve(import.meta.dirname, '..', 'demo-output') },
    quick: { type: 'boolean', default: false },
    losses: { type: 'string', default: 'none,cosface,arcface' },
  },
});

/** The losses the demo can run, by name: each a margin config of @marginkit/losses' registry. */
const LOSSES: Record<string, { label: string; margin: MarginConfig; subCenters?: number }> = {
  none: { label: 'no margin (NormFace)', margin: { type: 'none' } },
  cosface: { label: 'CosFace m=0.35', margin: { type: 'cosface', m: 0.35 } },
  arcface: { label: 'ArcFace m=0.5', margin: { type: 'arcface', m: 0.5 } },
  sphereface: { label: 'SphereFace m=1.35 λ=5', margin: { type: 'sphereface', m: 1.35, lambda: 5 } },
  cm1: { label: 'Combined CM1', margin: { type: 'combined', m1: 1, m2: 0.3, m3: 0.2 } },
  cm2: { label: 'Combined CM2', margin: { type: 'combined', m1: 0.9, m2: 0.4, m3: 0.15 } },
  subcenter: { label: 'Sub-center ArcFace K=3', margin: { type: 'arcface', m: 0.5 }, subCenters: 3 },
  adacos: { label: 'AdaCos', margin: { type: 'adacos' } },
  curricularface: { label: 'CurricularFace m=0.5', margin: { type: 'curricularface', m: 0.5 } },
  magface: { label: 'MagFace', margin: { type: 'magface' } },
  adaface: { label: 'AdaFace m=0.4', margin: { type: 'adaface', m: 0.4 } },
  elasticface: { label: 'ElasticFace-Arc', margin: { type: 'elasticface', variant: 'arc' } },
  'elasticface-plus': { label: 'ElasticFace-Arc+', margin: { type: 'elasticface', variant: 'arc', plus: true } },
};

const epochs = Number(args.epochs);
if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`--epochs must be a positive integer, got ${args.epochs}`);
if (args.backend !== 'cpu' && args.backend !== 'wasm') throw new Error(`--backend must be cpu or wasm, got ${args.backend}`);
if (args.backend === 'wasm') setWasmPaths(`${resolve(import.meta.dirname, '..', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')}/`);
if (args.head !== 'tfjs' && args.head !== 'ort') throw new Error(`--head must be tfjs or ort, got ${args.head}`);
await tf.setBackend(args.backend);
await tf.ready();
const ortHead = args.head === 'ort' ? ortBackend(await import('onnxruntime-node')) : undefined;

const quick = args.quick;
const data = clusteredData(tf, { classes: quick ? 8 : 24, trainPerClass: quick ? 20 : 60, testPerClass: quick ? 10 : 30, inputDim: 32, noise: 0.9, seed: 7 });
const runs = args.losses.split(',').map((name) => {
  const run = LOSSES[name.trim()];
  if (!run) throw new Error(`--losses: unknown loss ${JSON.stringify(name)}; known: ${Object.keys(LOSSES).join(', ')}`);
  return { ...run, scale: 16 };
});

const tty = process.stdout.isTTY === true;
const bars = tty
  ? new cliProgress.MultiBar(
      { format: ' {label} |{bar}| epoch {epoch}/{epochs} · loss {loss} · held-out acc {acc}', hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    )
  : undefined;
// On a terminal the bars show loss and accuracy live; elsewhere (CI, pipes) print a line per epoch.
const log = (line: string) => {
  if (!bars) console.log(line);
};

console.log(
  `marginkit demo · tfjs ${tf.version.tfjs} on the ${tf.getBackend()} backend${ortHead ? ' · the head on ONNX Runtime (onnxruntime-node)' : ''} · ${data.train.x.shape[0]} training / ${data.test.x.shape[0]} held-out samples, ${data.train.x.shape[1]}-d inputs`,
);
console.log('Same net, same data, same seed; only the margin on the target logit changes.\n');

const testLabels = await data.test.labels.data();
const results: {
  label: string;
  config: unknown;
  epochs: EpochReport[];
  angles: Omit<AngleReport, 'embeddings'>;
  verification: ReturnType<typeof verificationReport>;
  seconds: number;
}[] = [];
for (const run of runs) {
  const bar = bars?.create(epochs, 0, { label: run.label.padEnd(22), epoch: 0, epochs, loss: '  -  ', acc: '  -  ' });
  const started = performance.now();
  const { epochs: reports, angles } = await trainEmbedding(tf, data, {
    margin: run.margin,
    scale: run.scale,
    ...(run.subCenters ? { subCenters: run.subCenters } : {}),
    embeddingDim: 16,
    hidden: 64,
    epochs: quick ? Math.min(epochs, 3) : epochs,
    batchSize: 64,
    learningRate: 0.01,
    seed: 11,
    ...(ortHead ? { ortHead } : {}),
    onEpoch: (r) => {
      bar?.update(r.epoch, { epoch: r.epoch, loss: r.loss.toFixed(3), acc: `${(100 * r.accuracy).toFixed(1)}%` });
      log(`  ${run.label.padEnd(22)} epoch ${String(r.epoch).padStart(2)}  loss ${r.loss.toFixed(4)}  held-out accuracy ${(100 * r.accuracy).toFixed(1)}%`);
    },
  });
  bar?.stop();
  // Verification on every held-out pair, as face-recognition papers report it.
  const pairs = allPairs(angles.embeddings, testLabels, 16);
  const verification = verificationReport(pairs.scores, pairs.same, { farTargets: [1e-3, 1e-2] });
  const { embeddings: _, ...angleStats } = angles;
  results.push({
    label: run.label,
    config: run.margin,
    epochs: reports,
    angles: angleStats,
    verification,
    seconds: (performance.now() - started) / 1000,
  });
}
bars?.stop();
await ortHead?.dispose();

const pairCount = results[0]!.verification.positives + results[0]!.verification.negatives;
console.log(`\nHeld-out: accuracy of the nearest centre; angles in degrees (a margin pulls samples towards their own centre);`);
console.log(`verification on all ${pairCount} held-out pairs (@marginkit/eval):`);
console.log(
  `  ${'margin'.padEnd(22)} ${'accuracy'.padStart(9)} ${'θ own'.padStart(7)} ${'θ other'.padStart(8)} ${'gap'.padStart(6)} ${'AUC'.padStart(7)} ${'TAR@FAR=1e-3'.padStart(13)} ${'time'.padStart(6)}`,
);
for (const r of results) {
  const last = r.epochs[r.epochs.length - 1]!;
  const tar = r.verification.tarAtFar[0]!.tar;
  console.log(
    `  ${r.label.padEnd(22)} ${`${(100 * last.accuracy).toFixed(1)}%`.padStart(9)} ${r.angles.ownDeg.toFixed(1).padStart(7)} ${r.angles.otherDeg.toFixed(1).padStart(8)} ${(r.angles.otherDeg - r.angles.ownDeg).toFixed(1).padStart(6)} ${r.verification.auc.toFixed(4).padStart(7)} ${`${(100 * tar).toFixed(1)}%`.padStart(13)} ${`${r.seconds.toFixed(1)}s`.padStart(6)}`,
  );
}

mkdirSync(args.out, { recursive: true });
const lossSvg = resolve(args.out, 'loss.svg');
const accSvg = resolve(args.out, 'accuracy.svg');
const rocSvg = resolve(args.out, 'roc.svg');
const byEpoch = (values: number[]) => ({ x: values.map((_, i) => i + 1), y: values });
writeFileSync(
  lossSvg,
  linePlotSvg(
    results.map((r) => ({ name: r.label, ...byEpoch(r.epochs.map((e) => e.loss)) })),
    { title: 'Training loss', xLabel: 'epoch', yLabel: 'mean loss' },
  ),
);
writeFileSync(
  accSvg,
  linePlotSvg(
    results.map((r) => ({ name: r.label, ...byEpoch(r.epochs.map((e) => e.accuracy)) })),
    { title: 'Held-out accuracy', xLabel: 'epoch', yLabel: 'accuracy' },
  ),
);
writeFileSync(
  rocSvg,
  rocPlotSvg(
    results.map((r) => ({ name: r.label, roc: r.verification.roc })),
    { minFar: 1e-4, title: 'Held-out verification ROC' },
  ),
);
const summary = results.map(({ verification: v, ...r }) => ({
  ...r,
  verification: { auc: v.auc, eer: v.eer.eer, tarAtFar: v.tarAtFar.map(({ target, tar, far, threshold }) => ({ target, tar, far, threshold })) },
}));
writeFileSync(resolve(args.out, 'results.json'), `${JSON.stringify({ backend: tf.getBackend(), head: args.head, results: summary }, null, 2)}\n`);
console.log(`\nWrote ${lossSvg}, ${accSvg}, ${rocSvg} and results.json.`);
console.log('Note: margin losses are higher by design (the target logit is penalised); compare accuracy, the angular gap and TAR@FAR.');
