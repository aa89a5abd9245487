import { BackendError } from '@marginkit/core';
import type { Lowered } from './lower.js';
import { encodeModel } from './onnx.js';
import type { OrtModule, OrtSessionLike } from './ort-module.js';

/** Cache counters, for tests and diagnostics. */
export interface OrtCacheStats {
  /** Sessions created since the backend was made. */
  readonly sessionsCreated: number;
  /** Compilations served from the cache. */
  readonly cacheHits: number;
  /** Sessions alive now. */
  readonly live: number;
}

/** A cached session, with the model it was made from and how many holders use it. @internal */
export interface CacheEntry {
  readonly session: Promise<OrtSessionLike>;
  readonly largeConstants: readonly Uint8Array[];
  readonly bytes: Uint8Array;
  refs: number;
}

/**
 * InferenceSessions by the structural key of the graph they run, least recently used evicted first
 * (never one that is held). @internal
 */
export interface SessionCache {
  /** The session for a lowered graph, from the cache or created now; held until `release`. */
  acquire(lowered: Lowered): CacheEntry;
  /** Drops a hold; sessions leave the cache (and are released) only by eviction and `dispose`. */
  release(entry: CacheEntry): void;
  /** Counters. */
  stats(): OrtCacheStats;
  /** True once `dispose` was called. */
  readonly disposed: boolean;
  /** Releases every session. */
  dispose(): Promise<void>;
}

function sameBytes(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    if (x.length !== y.length) return false;
    for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false;
    return true;
  });
}

/** A session cache creating sessions with `ort` and `sessionOptions`, holding up to `size` idle ones. @internal */
export function createSessionCache(ort: OrtModule, sessionOptions: Record<string, unknown>, size: number): SessionCache {
  const cache = new Map<string, CacheEntry>();
  let sessionsCreated = 0;
  let cacheHits = 0;
  let disposed = false;
  const evict = (): void => {
    for (const [key, entry] of cache) {
      if (cache.size <= size) break;
      if (entry.refs > 0) continue;
      cache.delete(key);
      entry.session.then((s) => s.release()).catch(() => undefined);
    }
  };
  const create = (key: string, lowered: Lowered): CacheEntry => {
    const bytes = encodeModel(lowered.model());
    sessionsCreated++;
    const session = ort.InferenceSession.create(bytes, sessionOptions).catch((e: unknown) => {
      cache.delete(key);
      throw new BackendError('model', `ONNX Runtime could not load the traced model: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    });
    return { session, bytes, refs: 0, largeConstants: lowered.largeConstants };
  };
  return {
    acquire(lowered) {
      // The key spells out small constants and hashes large ones; a hit must also have equal large constants.
      let key = lowered.key;
      let entry = cache.get(key);
      for (let n = 1; entry && !sameBytes(entry.largeConstants, lowered.largeConstants); n++) {
        key = `${lowered.key}\n#${n}`;
        entry = cache.get(key);
      }
      if (entry) {
        cacheHits++;
        cache.delete(key);
        cache.set(key, entry); // most recently used last
      } else {
        entry = create(key, lowered);
        cache.set(key, entry);
        evict();
      }
      entry.refs++;
      return entry;
    },
    release(entry) {
      entry.refs--;
      evict();
    },
    stats: () => ({ sessionsCreated, cacheHits, live: cache.size }),
    get disposed() {
      return disposed;
    },
    async dispose() {
      disposed = true;
      const entries = [...cache.values()];
      cache.clear();
      await Promise.all(entries.map(async (e) => (await e.session.catch(() => undefined))?.release()));
    },
  };
}
