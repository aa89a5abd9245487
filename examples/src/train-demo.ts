/**
 * The marginkit demo, the README's first command (`npm run demo`): the ArcFace paper's picture on
 * real images. The same small network is trained on 8 Fashion-MNIST classes with plain softmax
 * and with margin losses, each with a 2-D embedding (the features on the unit circle) and a
 * 32-D one for open-set verification on held-out images of all 10 classes. Writes one
 * self-contained HTML report, results.json and the embeddings (.npy) to --out.
 *
 * Options: --quick (a short run), --losses a,b,c (default the paper's six; any key of LOSSES:
 * core's margins and the @marginkit/losses catalogue), --epochs N, --dim D, --seed S,
 * --backend wasm|cpu (the tfjs backend of the net; default wasm), --head tfjs|ort (ort trains the
 * margin heads on onnxruntime-node), --out DIR (default examples/demo-output).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ortBackend } from '@marginkit/backend-ort';
import { writeNpy } from '@marginkit/eval';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import cliProgress from 'cli-progress';
import { DEFAULT_LOSSES, type ExperimentResult, LOSSES, runExperiment } from './experiment.js';
import { renderReport } from './report/render.js';

const USAGE = 'usage: npm run demo -- [--quick] [--losses a,b,c] [--epochs N] [--dim D] [--seed S] [--backend wasm|cpu] [--head tfjs|ort] [--out DIR]';

/** A bad command line: say what is wrong and how to call the demo, and exit with status 2 (no stack trace). */
function usageError(message: string): never {
  console.error(`demo: ${message}\n${USAGE}`);
  process.exit(2);
}

function readArgs() {
  try {
    return parseArgs({
      options: {
        epochs: { type: 'string' },
        dim: { type: 'string', default: '32' },
        seed: { type: 'string', default: '11' },
        backend: { type: 'string', default: 'wasm' },
        head: { type: 'string', default: 'tfjs' },
        out: { type: 'string', default: resolve(import.meta.dirname, '..', 'demo-output') },
        quick: { type: 'boolean', default: false },
        losses: { type: 'string', default: DEFAULT_LOSSES.join(',') },
      },
    }).values;
  } catch (e) {
    return usageError(e instanceof Error ? e.message : String(e)); // node's parseArgs: unknown option, missing value
  }
}
const args = readArgs();

const int = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) usageError(`--${name} must be a positive integer, got ${value}`);
  return n;
};
const epochs = int('epochs', args.epochs);
const dim = int('dim', args.dim)!;
const seed = int('seed', args.seed)!;
if (args.backend !== 'cpu' && args.backend !== 'wasm') usageError(`--backend must be wasm or cpu, got ${args.backend}`);
if (args.head !== 'tfjs' && args.head !== 'ort') usageError(`--head must be tfjs or ort, got ${args.head}`);
const losses = args.losses.split(',').map((s) => s.trim());
for (const key of losses) if (!LOSSES[key]) usageError(`--losses: unknown loss ${JSON.stringify(key)}; known: ${Object.keys(LOSSES).join(', ')}`);
if (args.backend === 'wasm') setWasmPaths(`${resolve(import.meta.dirname, '..', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')}/`);
await tf.setBackend(args.backend);
await tf.ready();
const ortHead = args.head === 'ort' ? ortBackend(await import('onnxruntime-node')) : undefined;

const started = performance.now();
console.log(
  `marginkit demo · Fashion-MNIST, 8 seen classes + 2 unseen · tfjs ${tf.version.tfjs} (${tf.getBackend()})${ortHead ? ' · margin heads on ONNX Runtime' : ''}${args.quick ? ' · --quick' : ''}`,
);
console.log(
  'Same network, same data, same seed; only the loss changes. Each loss trains twice: a 2-D embedding (the picture) and a 32-D one (verification).\n',
);

// Progress: a bar per run with the loss and the ETA on a terminal, a line per epoch elsewhere.
const tty = process.stdout.isTTY === true;
const bars = tty
  ? new cliProgress.MultiBar(
      { format: ' {label} |{bar}| {percentage}% · epoch {epoch} · loss {loss} · ETA {eta_formatted}', hideCursor: true, clearOnComplete: false, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    )
  : undefined;
let bar: cliProgress.SingleBar | undefined;
let label = '';
let done = 0;
let batchesPerEpoch = 1;
const result: ExperimentResult = await runExperiment(tf, {
  losses,
  quick: args.quick,
  ...(epochs ? { epochs } : {}),
  dim,
  seed,
  ...(ortHead ? { ortHead } : {}),
  onRunStart: (key, phase, runEpochs, batches) => {
    bar?.stop();
    label = `${LOSSES[key]!.label.slice(0, 28).padEnd(28)} ${phase === 'picture' ? '2-D ' : `${dim}-D`}`;
    done = 0;
    batchesPerEpoch = batches;
    bar = bars?.create(runEpochs * batches, 0, { label, epoch: 0, loss: '  -  ' });
  },
  onBatch: (_, __, loss) => {
    done++;
    bar?.update(done, { epoch: Math.ceil(done / batchesPerEpoch), loss: loss.toFixed(3) });
  },
  onEpoch: (r) => {
    if (!bars) console.log(`  ${label}  epoch ${String(r.epoch).padStart(2)}  loss ${r.loss.toFixed(4)}  held-out accuracy ${(100 * r.accuracy).toFixed(1)}%`);
  },
});
bar?.stop();
bars?.stop();
await ortHead?.dispose();

const { report } = result;
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
console.log('\nClosed set: held-out accuracy on the 8 seen classes. Open set: verification on every pair of held-out images of all 10 classes');
console.log(
  `(${report.runs[0]!.verification.pairs.genuine} genuine, ${report.runs[0]!.verification.pairs.impostor} impostor pairs; 2 classes were never trained on):\n`,
);
console.log(
  `  ${'loss'.padEnd(28)} ${'acc 2-D'.padStart(8)} ${'acc 32-D'.padStart(9)} ${'10-fold'.padStart(13)} ${'AUC'.padStart(7)} ${'EER'.padStart(6)} ${'TAR@1e-3'.padStart(18)} ${'TAR@1e-2'.padStart(18)} ${'time'.padStart(6)}`,
);
for (const r of report.runs) {
  const v = r.verification;
  const tar = (i: number) => `${pct(v.tarAtFar[i]!.tar)} [${pct(v.tarAtFar[i]!.interval[0])}, ${pct(v.tarAtFar[i]!.interval[1])}]`;
  console.log(
    `  ${r.label.slice(0, 28).padEnd(28)} ${pct(r.picture.accuracy).padStart(8)} ${pct(v.accuracy).padStart(9)} ${`${pct(v.tenFold.mean)}±${(100 * v.tenFold.std).toFixed(1)}`.padStart(13)} ${v.auc.toFixed(4).padStart(7)} ${pct(v.eer).padStart(6)} ${tar(0).padStart(18)} ${tar(1).padStart(18)} ${`${r.seconds.toFixed(0)}s`.padStart(6)}`,
  );
}

// Outputs: the report, results.json, and the embeddings and pair files the eval CLI re-computes the numbers from.
mkdirSync(args.out, { recursive: true });
const reportPath = join(args.out, 'report.html');
writeFileSync(reportPath, renderReport(report));
const labels = result.testLabels;
writeFileSync(join(args.out, 'test-labels.npy'), writeNpy(labels, [labels.length]));
const pairCount = (labels.length * (labels.length - 1)) / 2;
for (const r of report.runs) {
  const e = result.embeddings[r.key]!;
  writeFileSync(join(args.out, `${r.key}-embeddings.npy`), writeNpy(e, [labels.length, dim]));
  writeFileSync(join(args.out, `${r.key}-scores.npy`), writeNpy(result.pairScores[r.key]!, [pairCount]));
}
writeFileSync(join(args.out, 'pair-labels.npy'), writeNpy(result.pairLabels, [pairCount]));
const summary = {
  settings: report.settings,
  date: report.date,
  totalSeconds: (performance.now() - started) / 1000,
  runs: report.runs.map((r) => ({
    key: r.key,
    label: r.label,
    margin: r.margin,
    scale: r.scale,
    accuracy2d: r.picture.accuracy,
    accuracy: r.verification.accuracy,
    tenFold: r.verification.tenFold,
    auc: r.verification.auc,
    eer: r.verification.eer,
    tarAtFar: r.verification.tarAtFar,
    pairs: r.verification.pairs,
    loss2d: r.picture.loss,
    loss: r.verification.loss,
    seconds: r.seconds,
  })),
};
writeFileSync(join(args.out, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(`\nReport: ${reportPath}`);
console.log(
  `Results: ${join(args.out, 'results.json')}; embeddings and pair scores: ${join(args.out, '<loss>-embeddings.npy')}, <loss>-scores.npy with pair-labels.npy`,
);
console.log(
  `Re-compute a row with the eval CLI: npx marginkit-eval verify --scores ${join(args.out, `${report.runs[0]!.key}-scores.npy`)} --labels ${join(args.out, 'pair-labels.npy')} --far 1e-3,1e-2`,
);
console.log(`Total time ${((performance.now() - started) / 1000).toFixed(1)} s.`);
