import type { Backend } from './backend.js';
import { describe } from './input-checks.js';
import { RegistryError, shorten } from './errors.js';
import { marginSoftmaxLossFrom, marginSoftmaxStepFrom } from './loss.js';
import { LOSS_OPTION_KEYS } from './loss-options.js';
import type { MarginLoss, MarginSoftmaxLossOptions, MarginStep } from './loss-types.js';
import { arcfaceFrom, combinedMarginFrom, cosfaceFrom, noMargin, spherefaceFrom } from './builtin-margins.js';
import { composeMargins } from './compose-margins.js';
import { FORBIDDEN_KEYS } from './margin-options.js';
import type { Margin, MarginConfig } from './margin-types.js';

/** Builds a margin from the parameters of a config (without `type`); `build` builds nested configs. */
export type MarginFactory = (params: Readonly<Record<string, unknown>>, build: (config: unknown, path: string) => Margin) => Margin;

/** A loss config as stored in JSON: the margin config plus the loss options. */
export interface LossConfig {
  /** The margin, e.g. `{ type: 'arcface', m: 0.5 }`. */
  readonly margin: MarginConfig;
  /** The scale s; default 64. */
  readonly scale?: number;
  /** Default `'mean'`. */
  readonly reduction?: MarginSoftmaxLossOptions['reduction'];
  /** acos clamp ε; default 2⁻²³ (`DEFAULT_EPSILON`). */
  readonly epsilon?: number;
  /** L2 normalisation eps; default 1e-12. */
  readonly normEpsilon?: number;
  /** Input checks; default `'full'`. */
  readonly validate?: MarginSoftmaxLossOptions['validate'];
  /** K sub-centres per class; default 1. */
  readonly subCenters?: number;
  /** −1 to ignore rows labelled −1; default none. */
  readonly ignoreIndex?: -1;
}

/**
 * An explicit map from config `type` names to margin factories. Nothing is global: each
 * registry is its own object, and nothing registers itself on import.
 */
export interface Registry {
  /** Adds a margin factory under `type`; throws on a duplicate or forbidden name. Returns the registry. */
  registerMargin(type: string, factory: MarginFactory): Registry;
  /** True when `type` is registered. */
  has(type: string): boolean;
  /** The registered type names, sorted. */
  types(): string[];
  /** Builds a margin from a JSON config such as `{ "type": "arcface", "m": 0.5 }`. */
  margin(config: unknown): Margin;
  /** Builds a loss from a JSON loss config such as `{ "margin": { "type": "cosface" }, "scale": 30 }`. */
  loss<T>(backend: Backend<T>, config: unknown): MarginLoss<T>;
  /** Builds a stateful step ({@link MarginStep}) from a JSON loss config; for margins with state. */
  step<T>(backend: Backend<T>, config: unknown): MarginStep<T>;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/** How deeply margin configs may nest (`compose` inside `compose`), so that no config overflows the stack. */
export const MAX_CONFIG_DEPTH = 32;
/** How many margins one config may build in all, so that no config builds without bound. */
export const MAX_CONFIG_MARGINS = 1000;

function plainObject(path: string, value: unknown): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RegistryError(path, `expected an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new RegistryError(path, 'expected a plain object (a parsed JSON config)');
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) throw new RegistryError(`${path}.${key}`, 'is a forbidden key in a config');
  }
  return value as Readonly<Record<string, unknown>>;
}

/**
 * Creates a registry. By default it knows the built-in margins: `arcface`, `cosface`,
 * `sphereface`, `combined`, `none` and `compose` (`{ type: 'compose', margins: [...] }`).
 *
 * @param options - `builtins: false` for an empty registry.
 * @returns a new registry, independent of every other.
 *
 * @example
 * ```ts
 * import { createRegistry, defineMargin } from '@marginkit/core';
 * const registry = createRegistry().registerMargin('shifted', (p) =>
 *   defineMargin({
 *     type: 'shifted',
 *     params: { m: Number(p['m'] ?? 0.1) },
 *     targetLogit: (c, { ops }, { m }) => ops.sub(c, ops.scalar(m)),
 *   }),
 * );
 * const config = JSON.parse('{ "type": "compose", "margins": [{ "type": "arcface", "m": 0.3 }, { "type": "shifted" }] }');
 * console.log(registry.margin(config).config.type, registry.types()); // 'compose' [...]
 * ```
 */
export function createRegistry(options: { readonly builtins?: boolean } = {}): Registry {
  const factories = new Map<string, MarginFactory>();

  // Depth and size of the config being built: factories call `build` synchronously for nested configs.
  let depth = 0;
  let built = 0;
  const build = (config: unknown, path: string): Margin => {
    if (depth === 0) built = 0;
    if (depth >= MAX_CONFIG_DEPTH) {
      throw new RegistryError(path, `nests margin configs deeper than ${MAX_CONFIG_DEPTH} levels (compose inside compose); flatten it`);
    }
    if (++built > MAX_CONFIG_MARGINS) throw new RegistryError(path, `the config builds more than ${MAX_CONFIG_MARGINS} margins in all`);
    const c = plainObject(path, config);
    const type = c['type'];
    if (typeof type !== 'string') throw new RegistryError(`${path}.type`, `must be a string naming a margin, got ${typeof type}`);
    const factory = factories.get(type);
    if (!factory) {
      throw new RegistryError(
        `${path}.type`,
        `unknown margin type ${shorten(JSON.stringify(type))}; known: ${[...factories.keys()].sort().join(', ') || '(none)'}`,
      );
    }
    const params: Record<string, unknown> = Object.create(null);
    for (const [k, v] of Object.entries(c)) if (k !== 'type') params[k] = v;
    depth++;
    let margin: unknown;
    try {
      margin = factory(params, build);
    } finally {
      depth--;
    }
    if (!isMargin(margin)) {
      throw new RegistryError(
        path,
        `the factory of margin type ${shorten(JSON.stringify(type))} returned ${describe(margin)}, not a margin (expected arcface(), defineMargin(...), ...)`,
      );
    }
    return margin;
  };

  const lossOptions = (config: unknown): Record<string, unknown> => {
    const c = plainObject('config', config);
    for (const key of Object.keys(c)) {
      if (!LOSS_OPTION_KEYS.includes(key))
        throw new RegistryError(`config.${shorten(key)}`, `unknown loss option; expected one of: ${LOSS_OPTION_KEYS.join(', ')}`);
    }
    const { margin: marginConfig, ...rest } = c;
    return { ...rest, margin: build(marginConfig, 'config.margin') };
  };

  const registry: Registry = {
    registerMargin(type, factory) {
      if (typeof type !== 'string' || !NAME.test(type) || FORBIDDEN_KEYS.has(type)) {
        throw new RegistryError('type', `must be a lower-case name like 'my-margin' (letters, digits, dashes), got ${shorten(String(JSON.stringify(type)))}`);
      }
      if (factories.has(type)) throw new RegistryError('type', `${shorten(JSON.stringify(type))} is already registered`);
      if (typeof factory !== 'function') throw new RegistryError('factory', 'must be a function (params) => Margin');
      factories.set(type, factory);
      return registry;
    },
    has: (type) => factories.has(type),
    types: () => [...factories.keys()].sort(),
    margin: (config) => build(config, 'config'),
    loss: (backend, config) => marginSoftmaxLossFrom(backend, lossOptions(config)),
    step: (backend, config) => marginSoftmaxStepFrom(backend, lossOptions(config)),
  };

  return options.builtins === false ? registry : registerBuiltins(registry);
}

/** Registers the built-in margins: arcface, cosface, sphereface, combined, none and compose. */
function registerBuiltins(registry: Registry): Registry {
  return registry
    .registerMargin('arcface', (p) => arcfaceFrom(p))
    .registerMargin('cosface', (p) => cosfaceFrom(p))
    .registerMargin('sphereface', (p) => spherefaceFrom(p))
    .registerMargin('combined', (p) => combinedMarginFrom(p))
    .registerMargin('none', (p) => {
      plainObjectNoKeys('config', p);
      return noMargin();
    })
    .registerMargin('compose', (p, buildNested) => {
      for (const key of Object.keys(p)) if (key !== 'margins') throw new RegistryError(`config.${shorten(key)}`, "unknown key for 'compose'; expected margins");
      const list = p['margins'];
      if (!Array.isArray(list)) throw new RegistryError('config.margins', "must be an array of margin configs for 'compose'");
      if (list.length > MAX_CONFIG_MARGINS) {
        throw new RegistryError('config.margins', `has ${list.length} margins; a config may build at most ${MAX_CONFIG_MARGINS}`);
      }
      return composeMargins(...list.map((m, i) => buildNested(m, `config.margins[${i}]`)));
    });
}

function plainObjectNoKeys(path: string, params: Readonly<Record<string, unknown>>): void {
  const keys = Object.keys(params);
  if (keys.length > 0) throw new RegistryError(`${path}.${shorten(keys[0]!)}`, "unknown key for 'none' (it takes no parameters)");
}

function isMargin(value: unknown): value is Margin {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<Margin>;
  return typeof m.type === 'string' && typeof m.transform === 'function' && typeof m.config === 'object' && m.config !== null;
}
