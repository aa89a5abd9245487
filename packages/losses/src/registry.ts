import { type Backend, InvalidArgumentError, type Registry, RegistryError, createRegistry, readOptions } from '@marginkit/core';
import type { HeadCheckpoint } from './checkpoint.js';
import { type HeadConfig, type HeadOptions, MarginHead } from './head.js';
import { adacosFrom } from './margins/adacos.js';
import { adafaceFrom } from './margins/adaface.js';
import { curricularfaceFrom } from './margins/curricularface.js';
import { elasticfaceFrom } from './margins/elasticface.js';
import { magfaceFrom } from './margins/magface.js';

/**
 * The catalogue's margin types, as they appear in configs.
 *
 * @example
 * ```ts
 * import { CATALOGUE_TYPES, createLossRegistry } from '@marginkit/losses';
 * const registry = createLossRegistry();
 * console.log(CATALOGUE_TYPES.every((t) => registry.has(t))); // true
 * ```
 */
export const CATALOGUE_TYPES = ['adacos', 'adaface', 'curricularface', 'elasticface', 'magface'] as const;

/**
 * Registers the catalogue's margins on a registry — `adaface`, `magface`, `curricularface`,
 * `adacos`, `elasticface` — so that JSON configs can name them. Explicit: nothing registers on
 * import, and a registry that already has one of the names throws.
 *
 * @param registry - a core registry (`createRegistry()`).
 * @returns the same registry.
 *
 * @example
 * ```ts
 * import { createRegistry } from '@marginkit/core';
 * import { registerCatalogue } from '@marginkit/losses';
 * const registry = registerCatalogue(createRegistry());
 * console.log(registry.margin({ type: 'adaface', m: 0.4 }).type); // 'adaface'
 * ```
 */
export function registerCatalogue(registry: Registry): Registry {
  return registry
    .registerMargin('adacos', (p) => adacosFrom(p))
    .registerMargin('adaface', (p) => adafaceFrom(p))
    .registerMargin('curricularface', (p) => curricularfaceFrom(p))
    .registerMargin('elasticface', (p) => elasticfaceFrom(p))
    .registerMargin('magface', (p) => magfaceFrom(p));
}

/**
 * A new registry with core's margins and the catalogue's: what {@link createHead} uses by default.
 *
 * @returns the registry.
 *
 * @example
 * ```ts
 * import { createLossRegistry } from '@marginkit/losses';
 * console.log(createLossRegistry().types()); // ['adacos', 'adaface', 'arcface', 'combined', 'compose', 'cosface', 'curricularface', 'elasticface', 'magface', 'none', 'sphereface']
 * ```
 */
export function createLossRegistry(): Registry {
  return registerCatalogue(createRegistry());
}

/** A head as JSON: {@link HeadConfig} with optional fields, plus initialisation. */
export type HeadSpec = Pick<HeadConfig, 'margin' | 'numClasses' | 'embeddingSize'> &
  Partial<Pick<HeadConfig, 'subCenters' | 'scale' | 'reduction' | 'ignoreIndex' | 'epsilon' | 'normEpsilon'>> &
  Pick<HeadOptions, 'init' | 'seed'>;

/**
 * Builds a head from a JSON config — any margin the registry knows, core's or the catalogue's,
 * with sub-centres if asked: `{ margin: { type: 'adaface' }, numClasses: 1000, embeddingSize: 512 }`.
 * MagFace's λ_g is checked against its bound for the scale (by the margin, as in every loss).
 *
 * @param backend - the backend.
 * @param spec - the config; see {@link HeadSpec}.
 * @param registry - where margin types are looked up; default {@link createLossRegistry}().
 * @returns the head.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { createHead } from '@marginkit/losses';
 * const head = createHead(tfjsBackend(tf), { margin: { type: 'curricularface', m: 0.5 }, numClasses: 5, embeddingSize: 4 });
 * console.log(head.config.margin); // { type: 'curricularface', m: 0.5, momentum: 0.01 }
 * ```
 */
export function createHead<T, S extends T = T>(backend: Backend<T, S>, spec: HeadSpec, registry: Registry = createLossRegistry()): MarginHead<T, S> {
  const o = readOptions('spec', spec, [
    'margin',
    'numClasses',
    'embeddingSize',
    'subCenters',
    'scale',
    'reduction',
    'ignoreIndex',
    'epsilon',
    'normEpsilon',
    'init',
    'seed',
  ]);
  const config = o['margin'];
  if (typeof config !== 'object' || config === null) throw new RegistryError('spec.margin', 'expected a margin config such as { type: "arcface", m: 0.5 }');
  const { margin: _, ...rest } = o;
  const margin = registry.margin(config);
  return new MarginHead(backend, { ...(rest as Omit<HeadOptions, 'margin'> & Pick<HeadOptions, 'numClasses' | 'embeddingSize'>), margin });
}

/**
 * Builds the head a checkpoint was saved from and loads it: centres, state and generator.
 *
 * @param backend - the backend.
 * @param checkpoint - a checkpoint of all classes (merge shards first).
 * @param registry - where margin types are looked up; default {@link createLossRegistry}().
 * @returns the restored head.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { tfjsBackend } from '@marginkit/backend-tfjs';
 * import { AdaFaceLoss, loadHead } from '@marginkit/losses';
 * const backend = tfjsBackend(tf);
 * const head = new AdaFaceLoss(backend, { numClasses: 5, embeddingSize: 4 });
 * const copy = loadHead(backend, await head.save());
 * console.log(copy.margin.type); // 'adaface'
 * ```
 */
export function loadHead<T, S extends T = T>(backend: Backend<T, S>, checkpoint: HeadCheckpoint, registry: Registry = createLossRegistry()): MarginHead<T, S> {
  if (typeof checkpoint !== 'object' || checkpoint === null || typeof checkpoint.config !== 'object') {
    throw new InvalidArgumentError('checkpoint', 'expected a checkpoint from head.save() or decodeCheckpoint()');
  }
  const { margin, numClasses, embeddingSize, subCenters, scale, reduction, ignoreIndex, epsilon, normEpsilon } = checkpoint.config;
  const head = createHead(backend, { margin, numClasses, embeddingSize, subCenters, scale, reduction, ignoreIndex, epsilon, normEpsilon }, registry);
  head.load(checkpoint);
  return head;
}
