/**
 * A step of ArcFace at C classes sharded over worker threads (shardedHeadTrainer) against one
 * process running chunkedMarginSoftmaxStep on onnxruntime-node with the same SGD-momentum update.
 *
 *   GLIBC_TUNABLES=glibc.malloc.hugetlb=1 ORT_DISABLE_TELEMETRY=1 \
 *     npx tsx --conditions=@marginkit/source packages/losses/scripts/shard-bench.ts [C] [B] [D] [steps]
 *
 * Prints the median step time of each configuration (after two warm-up steps, which compile) and
 * the per-round ratio sharded / one process with two threads.
 */
import { availableParallelism } from 'node:os';
import { arcface, chunkedMarginSoftmaxStep } from '@marginkit/core';
import * as ort from 'onnxruntime-node';
import { ortBackend } from '../../backend-ort/src/backend.js';
import type { HeadCheckpoint } from '../src/checkpoint.js';
import { shardedHeadTrainer } from '../src/sharded-trainer.js';

const [C, B, D, STEPS] = [100_000, 256, 512, 5].map((v, i) => Number(process.argv[2 + i] ?? v)) as [number, number, number, number];
const LR = 0.1;
const MU = 0.9;

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

const checkpoint: HeadCheckpoint = {
  format: 'marginkit-head',
  version: 1,
  config: {
    margin: { type: 'arcface', m: 0.5 },
    numClasses: C,
    embeddingSize: D,
    subCenters: 1,
    scale: 64,
    reduction: 'mean',
    ignoreIndex: -1,
    epsilon: 2 ** -23,
    normEpsilon: 1e-12,
  },
  classRange: [0, C],
  centers: random(C * D, 1),
  state: {},
  random: [0, 0, 0, 0],
};
const batches = Array.from({ length: STEPS + 2 }, (_, s) => ({
  x: random(B * D, 100 + s),
  y: Int32Array.from(random(B, 200 + s), (v) => Math.floor((v + 0.5) * C) % C),
}));

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

/** A configuration: one step on batch i, and its cleanup. */
interface Runner {
  readonly name: string;
  step(x: Float32Array, y: Int32Array): Promise<unknown>;
  close(): Promise<void>;
}

function oneProcess(threads: number, classChunk: number): Runner {
  const backend = ortBackend(ort, { sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 }, validate: 'shapes' });
  const step = chunkedMarginSoftmaxStep(backend, { margin: arcface({ m: 0.5 }), scale: 64, classChunk, ignoreIndex: -1 });
  const centers = checkpoint.centers.slice();
  const velocity = new Float32Array(centers.length);
  return {
    name: `one process, ${threads} thread${threads > 1 ? 's' : ''}, chunks of ${classChunk}`,
    async step(x, y) {
      const chunks = [];
      for (let c = 0; c < C; c += classChunk)
        chunks.push(backend.tensor(centers.subarray(c * D, Math.min(c + classChunk, C) * D), [Math.min(classChunk, C - c), D]));
      await step(backend.tensor(x, [B, D]), chunks, y, {
        onCentersGradient: (k, g) => {
          const from = k * classChunk * D;
          for (let i = 0; i < g.length; i++) {
            const v = MU * velocity[from + i]! + g[i]!;
            velocity[from + i] = v;
            centers[from + i]! -= LR * v;
          }
        },
      });
      for (const t of chunks) backend.disposeTensor?.(t);
    },
    close: () => backend.dispose(),
  };
}

async function sharded(shards: number, threads: number): Promise<Runner> {
  const trainer = await shardedHeadTrainer({ checkpoint, shards, threadsPerShard: threads, learningRate: LR, momentum: MU });
  return { name: `sharded: ${shards} workers × ${threads} thread`, step: (x, y) => trainer.step(x, y), close: () => trainer.terminate() };
}

// The configurations take their steps in turns (A B C A B C ...), so that the load of a shared
// machine falls on all of them alike; the first two rounds compile and are not counted.
const half = Math.ceil(C / 2);
const runners = [oneProcess(2, half), await sharded(2, 1), oneProcess(1, half)];
const times = runners.map(() => [] as number[]);
try {
  for (const [i, { x, y }] of batches.entries()) {
    for (const [r, runner] of runners.entries()) {
      const t0 = performance.now();
      await runner.step(x, y);
      if (i >= 2) times[r]!.push(performance.now() - t0);
    }
  }
} finally {
  for (const r of runners) await r.close();
}
console.log(
  `ArcFace step, C = ${C}, B = ${B}, D = ${D}, onnxruntime-node ${ort.env.versions.common}, ${availableParallelism()} cores, ${STEPS} steps after 2 warm-up, in turns`,
);
for (const [r, runner] of runners.entries()) {
  console.log(`${runner.name.padEnd(40)} median ${median(times[r]!).toFixed(0).padStart(6)} ms   (${times[r]!.map((t) => t.toFixed(0)).join(', ')})`);
}
const ratios = times[1]!.map((t, i) => t / times[0]![i]!);
console.log(`sharded / one process with 2 threads, per round: median ${median(ratios).toFixed(2)} (${ratios.map((q) => q.toFixed(2)).join(', ')})`);
