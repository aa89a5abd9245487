/**
 * The worker-thread entry of {@link shardedHeadTrainer}: one class shard on a backend of its own
 * (`ortBackend` over the onnxruntime-node module named by the coordinator, `threads` intra-op
 * threads), answering the coordinator's messages one at a time.
 *
 * @packageDocumentation
 */
import { parentPort } from 'node:worker_threads';
import { InternalError } from '@marginkit/core';
import { type OrtModule, ortBackend } from '@marginkit/backend-ort';
import type { OrtTensor } from '@marginkit/backend-ort';
import { ShardHost } from './shard-host.js';
import type { FromShard, ToShard } from './shard-messages.js';

const port = parentPort;
if (port === null) throw new InternalError('shard-worker: run me as a worker thread (shardedHeadTrainer does)');

let host: ShardHost<OrtTensor> | undefined;
let queue: Promise<void> = Promise.resolve();

async function handle(message: ToShard): Promise<FromShard> {
  if (message.kind === 'init') {
    const ort = (await import(message.ort)) as OrtModule & { default?: OrtModule };
    const module = typeof ort.InferenceSession === 'function' || typeof ort.InferenceSession === 'object' ? ort : ort.default!;
    const backend = ortBackend(module, { sessionOptions: { intraOpNumThreads: message.threads, interOpNumThreads: 1 }, validate: 'shapes' });
    host = new ShardHost(backend, message.init);
    return { kind: 'ready' };
  }
  if (host === undefined) throw new InternalError('shard-worker: not initialised');
  switch (message.kind) {
    case 'begin':
      return host.begin({ ...message.step, x: new Float32Array(message.buffer, 0, message.dims[0] * message.dims[1]) }, message.random);
    case 'statistics':
      return host.statistics(message.cosTarget);
    case 'finish':
      return host.finish(message.statistics, message.cosTarget);
    case 'save':
      return host.save();
  }
}

/** The buffers a reply hands over instead of copying: the gradient share and the sampled classes. */
function transferables(reply: FromShard): ArrayBuffer[] {
  if (reply.kind !== 'finished') return [];
  return [reply.gradient.buffer as ArrayBuffer, ...(reply.sampled === undefined ? [] : [reply.sampled.buffer as ArrayBuffer])];
}

port.on('message', (message: ToShard) => {
  queue = queue.then(async () => {
    try {
      const reply = await handle(message);
      port.postMessage(reply, transferables(reply));
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      port.postMessage({ kind: 'error', name: error.name, message: error.message } satisfies FromShard);
    }
  });
});
