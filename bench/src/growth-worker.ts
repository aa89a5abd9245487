/**
 * Child process of the growth bench: the chunked ArcFace training step (ChunkedHeadTrainer,
 * SGD-momentum) at one C on onnxruntime-node, and its floor, in one process; prints one line
 * `RESULT <json>` with the timings, the loss and this process's peak RSS.
 *
 *   growth-worker.ts <B> <D> <C> <classChunk> <threads> <arena 1|0> <repeats as JSON> <keepLogits true|false>
 *
 * The floor: for each chunk k in turn, one session run of the step's three bare matmuls over the
 * chunk's centres W_k [Cc, D] (z = x·W_kᵀ, z·W_k, zᵀ·x), each output summed inside the graph, fed
 * the trainer's own chunk arrays; its time is the sum over the chunks, i.e. the three matmuls of
 * the whole step's shapes, [B,D]×[D,C], [B,C]×[C,D] and [C,B]×[B,D], with no output leaving ORT.
 * It is timed in a block before the step's runs and a block after them, each on a backend of its
 * own disposed when the block ends; its median is over both blocks' runs.
 */
import { type OrtBackend, type OrtTensor, ortBackend } from '@marginkit/backend-ort';
import { arcface } from '@marginkit/core';
import { seededRandom } from '@marginkit/core/testing';
import { ChunkedHeadTrainer, sparseSgd } from '@marginkit/losses';
import * as ort from 'onnxruntime-node';
import { ortFloor } from './floor.js';
import { TRAIN_SGD } from './inputs.js';
import { type Timing, summarise, timeRepeats } from './stats.js';
import { ARCFACE } from './step-case.js';

const [B, D, C, classChunk, threads, arena] = process.argv.slice(2, 8).map(Number) as [number, number, number, number, number, number];
const repeats = JSON.parse(process.argv[8]!);
const keepLogits = process.argv[9] === 'true';
const mb = (bytes: number) => bytes / 2 ** 20;

const sessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, ...(arena === 1 ? {} : { enableCpuMemArena: false }) };
const backend = ortBackend(ort, { sessionOptions, validate: 'shapes' });
const baseRssMB = mb(process.memoryUsage().rss);
const rng = seededRandom(1);
const xv = Float32Array.from({ length: B * D }, () => rng.normal());
const labels = Int32Array.from({ length: B }, () => rng.int(C));
const x = backend.tensor(xv, [B, D]);
const setup = performance.now();
const trainer = await ChunkedHeadTrainer.create(backend, {
  margin: arcface({ m: ARCFACE.m }),
  scale: ARCFACE.scale,
  numClasses: C,
  embeddingSize: D,
  classChunk,
  keepLogits,
  optimizer: sparseSgd(TRAIN_SGD),
  init: { kind: 'xavier' },
  seed: 1,
});
const setupSeconds = (performance.now() - setup) / 1000;

/**
 * The floor over the chunks: one compiled graph per chunk size, fed each chunk's values (read from
 * the trainer's tensors in place). The graphs run on a backend of their own, disposed before the
 * step is timed: their sessions' memory arenas are the bench's, not the trainer's peak.
 */
async function floor(b: OrtBackend, chunks: readonly OrtTensor[]): Promise<number> {
  let total = 0;
  for (const w of chunks) {
    const rows = backend.shape(w)[0]!;
    const graph = await floorGraph(b, rows);
    const out = await graph.run({ embeddings: { data: xv, dims: [B, D] }, centers: { data: (await backend.read!(w)) as Float32Array, dims: [rows, D] } });
    total += (out['floor']!.data as Float32Array)[0]!;
  }
  return total;
}
const graphs = new Map<number, ReturnType<OrtBackend['compile']>>();
function floorGraph(b: OrtBackend, rows: number): ReturnType<OrtBackend['compile']> {
  if (!graphs.has(rows)) {
    const ex = b.placeholder('embeddings', [B, D]);
    const ew = b.placeholder('centers', [rows, D]);
    graphs.set(rows, b.compile({ floor: ortFloor(b, ex, ew, 'fwd+bwd') }, { validate: 'shapes' }));
  }
  return graphs.get(rows)!;
}

/** One block of floor runs on a fresh backend, disposed afterwards (each block compiles its own graphs). */
async function floorBlock(): Promise<{ timing: Timing; last: number }> {
  const floorBackend = ortBackend(ort, { sessionOptions, validate: 'shapes' });
  graphs.clear();
  try {
    return await timeRepeats(() => floor(floorBackend, trainer.chunkTensors), repeats);
  } finally {
    await floorBackend.dispose();
  }
}

// The floor is timed before and after the step (the machine's speed drifts from minute to
// minute), and its median taken over both blocks.
const floorBefore = await floorBlock();
// The update's share of each timed step (the warm-up's first entries are dropped below).
const updates: number[] = [];
const stepTiming = await timeRepeats(async () => {
  const r = await trainer.step(x, labels);
  updates.push(r.updateSeconds);
  return r.loss;
}, repeats);
const timedUpdates = updates.slice(repeats.warmup).sort((a, b) => a - b);
const floorAfter = await floorBlock();
const floorTiming = { timing: summarise([...floorBefore.timing.samples, ...floorAfter.timing.samples]), last: floorAfter.last };
await backend.dispose();
const result = {
  chunks: trainer.numChunks,
  setupSeconds,
  step: stepTiming.timing,
  updateSeconds: timedUpdates[timedUpdates.length >> 1]!,
  loss: stepTiming.last,
  floor: floorTiming.timing,
  floorValue: floorTiming.last,
  baseRssMB,
  peakRssMB: process.resourceUsage().maxRSS / 1024,
};
console.log(`RESULT ${JSON.stringify(result)}`);
