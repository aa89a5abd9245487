import { existsSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { ortBackend } from '@marginkit/backend-ort';
import { combinedMargin, marginSoftmaxLoss } from '@marginkit/core';
import { compareNormwise, seededRandom } from '@marginkit/core/testing';
import { build } from 'esbuild';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWIFTSHADER_GPU_FLAGS, available, launchChromium } from './chromium.js';
import type { PageFeed, PageLossCase, PageLossResult } from './page.js';

const root = new URL('../../../', import.meta.url);
const losses = JSON.parse(readFileSync(new URL('fixtures/margin-losses.json', root), 'utf8'));
const evalFixtures = JSON.parse(readFileSync(new URL('fixtures/eval.json', root), 'utf8'));

interface MarginConfig {
  readonly type: string;
  readonly m?: number;
  readonly m1?: number;
  readonly fallback?: string;
  readonly gradient?: string;
  readonly lambda?: number;
  readonly featureScale?: string;
  readonly margins?: readonly MarginConfig[];
}

/** A case of fixtures/margin-losses.json: `<margin configuration>/<input set>`, its inputs and float64 results. */
interface LossFixture extends PageLossCase {
  readonly name: string;
  readonly config: { readonly margin: MarginConfig };
  readonly loss: number;
  readonly gradEmbeddings: number[];
  readonly gradCenters: number[];
}
const allCases: readonly LossFixture[] = losses.cases;

/**
 * 1e-4 (normwise relative) everywhere, except on the GPU backends (WebGL, WebGPU) for margins
 * with a non-integer m1: those need acos and cos on tensors, which GLSL and WGSL compute to about
 * 1e-4 relative (SwiftShader here, GPUs alike), so they agree within 1e-3. Integer m1 (ArcFace,
 * SphereFace m = 4, …) use Chebyshev polynomials and meet 1e-4 on the GPU backends too.
 */
function tolerance(backend: string, margin: MarginConfig): number {
  const m1 = margin.type === 'sphereface' ? margin.m : margin.type === 'combined' ? margin.m1 : 1;
  const nonInteger = (m1 !== undefined && !Number.isInteger(m1)) || (margin.margins ?? []).some((m) => tolerance(backend, m) > 1e-4);
  return (backend === 'webgl' || backend === 'webgpu') && nonInteger ? 1e-3 : 1e-4;
}

/** Every loss, d/dembeddings and d/dcenters of the page's results for `cases` that misses its fixture, on a backend. */
function fixtureFailures(cases: readonly LossFixture[], results: readonly PageLossResult[], backend: string): string[] {
  const failures: string[] = [];
  if (results.length !== cases.length) return [`${results.length} results for ${cases.length} cases`];
  cases.forEach((c, i) => {
    const r = results[i]!;
    for (const [what, got, want] of [
      ['loss', [r.loss], [c.loss]],
      ['d/dembeddings', r.gradEmbeddings, c.gradEmbeddings],
      ['d/dcenters', r.gradCenters, c.gradCenters],
    ] as const) {
      const msg = compareNormwise(got, want, tolerance(backend, c.config.margin));
      if (msg) failures.push(`${c.name} ${what}: ${msg}`);
    }
  });
  return failures;
}

/**
 * The cases the GPU runs compute (tfjs WebGL and WebGPU, onnxruntime-web's WebGPU and wasm execution
 * providers): each margin family once — none, CosFace, ArcFace, SphereFace with integer m
 * (Chebyshev polynomials), the combined margin with m1 = 1.2 (acos and cos on tensors) and with
 * m1 = 1, SphereFace with non-integer m and λ, SphereFace's featureScale 'norm', a composition —
 * spread so that every fallback policy and both gradient policies occur, on the two input sets of
 * {@link GPU_INPUT_SETS}.
 *
 * Every case runs on the CPU backends: tfjs cpu below, and in Node tfjs cpu and wasm and
 * onnxruntime-node and onnxruntime-web (the same wasm as here) in the loss-parity suites. A GPU
 * backend differs from those only in how its kernels compute, which the margin family and the
 * inputs decide, not the pairing of policies. On SwiftShader every kernel and every shape is a
 * shader to compile, and the shaders run on the CPU: on a loaded 2-core machine all 148 cases took
 * 87 s on WebGL, 149 s on WebGPU and over 60 s on each onnxruntime-web provider. So the GPU runs
 * take this fixed sample; the test `the GPU sample …` below keeps it complete.
 */
const GPU_SAMPLE = [
  'none/scale-128-sum',
  'cosface,m=0.35,fallback=easy,gradient=exact/edges',
  'arcface,m=0.5,fallback=linear,gradient=straight-through/edges',
  'sphereface,m=4,fallback=psi,gradient=exact/scale-128-sum',
  'combined,m1=1.2,m2=0.3,m3=0.2,fallback=none,gradient=straight-through/edges',
  'combined,m1=1,m2=0.3,m3=0.2,fallback=easy,gradient=exact/scale-128-sum',
  'sphereface,m=1.35,lambda=5,gradient=straight-through/scale-128-sum',
  'sphereface,m=4,featureScale=norm/edges',
  'compose(arcface,m=0.3,fallback=none+cosface,m=0.2)/edges',
] as const;
/**
 * The input sets of {@link GPU_SAMPLE}: edges (zero vectors, c = ±1, scale 64, mean) and
 * scale-128-sum (random inputs, scale 128, reduction 'sum'). random-0 and random-1 are random
 * inputs too, at other sizes: on a GPU backend they would add shapes (shaders to compile), not kernels.
 */
const GPU_INPUT_SETS = ['edges', 'scale-128-sum'];
const inputSet = (c: LossFixture): string => c.name.slice(c.name.lastIndexOf('/') + 1);
const gpuCases = GPU_SAMPLE.map((name) => allCases.find((c) => c.name === name));
const sample = gpuCases.filter((c) => c !== undefined);

/** What a GPU run must see once: each margin type, fallback, gradient policy, option and non-integer m1. */
function features(c: LossFixture): string[] {
  const m = c.config.margin;
  return [
    `margin ${m.type}`,
    ...(m.fallback ? [`fallback ${m.fallback}`] : []),
    `gradient ${m.gradient ?? 'exact'}`,
    ...(m.lambda !== undefined ? ['lambda'] : []),
    ...(m.featureScale ? [`featureScale ${m.featureScale}`] : []),
    ...(tolerance('webgpu', m) > 1e-4 ? ['non-integer m1'] : []),
  ];
}

describe('the GPU sample', () => {
  it('names fixture cases on the GPU input sets, and covers every margin type, fallback, gradient policy, option and non-integer m1 of the fixtures', () => {
    expect(GPU_SAMPLE.filter((_, i) => gpuCases[i] === undefined)).toEqual([]);
    expect([...new Set(sample.map(inputSet))].sort()).toEqual(GPU_INPUT_SETS);
    const covered = new Set(sample.flatMap(features));
    expect([...new Set(allCases.flatMap(features))].filter((f) => !covered.has(f))).toEqual([]);
  });
});

let server: Server;
let browser: Browser;
let page: Page;

describe.runIf(available)('in headless Chromium', () => {
  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [new URL('./page.ts', import.meta.url).pathname],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['@marginkit/source'],
      logLevel: 'silent',
    });
    const js = bundle.outputFiles[0]!.text;
    const html = '<!doctype html><meta charset="utf-8"><title>marginkit</title><script type="module" src="/page.js"></script>';
    const ortDist = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-web')), '..', 'dist');
    server = createServer((req, res) => {
      const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
      const ortFile = /^\/ort\/(ort-wasm-[a-z.-]+\.(?:wasm|mjs))$/.exec(req.url ?? '')?.[1];
      if (req.url === '/page.js') res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end(js);
      else if (req.url === '/') res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(html);
      else if (ortFile && existsSync(join(ortDist, ortFile))) {
        const type = ortFile.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
        res.writeHead(200, { ...headers, 'Content-Type': type }).end(readFileSync(join(ortDist, ortFile)));
      } else if (req.url === '/favicon.ico') res.writeHead(204, headers).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    browser = await launchChromium(SWIFTSHADER_GPU_FLAGS);
    page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') console.warn(`[page] ${m.text()}`);
    });
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page
      .waitForFunction(() => document.title === 'marginkit ready', undefined, { timeout: 60_000 })
      .catch(() => {
        throw new Error(`the page did not load: ${errors.join('; ')}`);
      });
    await page.evaluate((c) => window.marginkit.start(c), sample[0]!);
  }, 180_000); // bundling, Chromium, the page and the runtimes' start-up: 47 s on a 2-core machine at load 12

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  describe.each([
    ['webgl', 'the GPU sample of', GPU_SAMPLE.length],
    ['webgpu', 'the GPU sample of', GPU_SAMPLE.length],
    ['cpu', 'every', allCases.length],
  ] as const)('tfjs %s backend', (name, which, count) => {
    it(`computes ${which} margin × policy loss (${count} cases) and both gradients within 1e-4 of the float64 fixtures (1e-3 for non-integer m1 on the GPU backends), without leaking tensors`, async () => {
      const cases = name === 'cpu' ? allCases : sample;
      const info = await page.evaluate((n) => window.marginkit.setBackend(n), name);
      expect(info.backend).toBe(name);
      expect(info.float32).toBe(true);
      const before = await page.evaluate(() => window.marginkit.memory());
      const results = await page.evaluate((c) => window.marginkit.losses(c), cases);
      expect(fixtureFailures(cases, results, name)).toEqual([]);
      expect(await page.evaluate(() => window.marginkit.memory())).toBe(before);
    }, 120_000); // WebGL on 2 cores: 8 s at load 3, 22 s at load 12, all but 0.7 s compiling shaders; WebGPU 4-8 s
  });

  describe.each(['wasm', 'webgpu'])('backend-ort on onnxruntime-web, %s execution provider', (ep) => {
    it(`traces, differentiates and runs the GPU sample of margin × policy losses (${GPU_SAMPLE.length} cases) within 1e-4 of the float64 fixtures (1e-3 for non-integer m1 on webgpu)`, async () => {
      const results = await page.evaluate(([c, e]) => window.marginkit.ortLosses(c, e), [sample, ep] as const);
      expect(fixtureFailures(sample, results, ep)).toEqual([]);
    });
  });

  it('an exported .onnx gives the same numbers in onnxruntime-node, onnxruntime-web in Node and onnxruntime-web in Chromium', async () => {
    const backend = ortBackend(ortNode);
    const [B, D, C] = [6, 8, 5];
    const x = backend.placeholder('embeddings', [-1, D]);
    const w = backend.placeholder('centers', [C, D]);
    const loss = marginSoftmaxLoss(backend, { margin: combinedMargin({ m1: 1, m2: 0.3, m3: 0.2 }), scale: 32 })(
      x,
      w,
      backend.placeholder('labels', [-1], 'int32'),
    );
    const [dx, dw] = backend.gradients(loss, [x, w]);
    const model = backend.exportOnnx({ loss, dx: dx!, dw: dw! });
    await backend.dispose();
    const rng = seededRandom(5);
    const feeds: Record<string, PageFeed> = {
      embeddings: { type: 'float32', dims: [B, D], data: Array.from({ length: B * D }, () => rng.normal()) },
      centers: { type: 'float32', dims: [C, D], data: Array.from({ length: C * D }, () => rng.normal()) },
      labels: { type: 'int32', dims: [B], data: Array.from({ length: B }, () => rng.int(C)) },
    };
    const runIn = async (ort: typeof ortNode | typeof ortWeb): Promise<Record<string, number[]>> => {
      const session = await ort.InferenceSession.create(model);
      const inputs = Object.fromEntries(
        Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor(f.type, f.type === 'int32' ? Int32Array.from(f.data) : Float32Array.from(f.data), f.dims)]),
      );
      const out = await session.run(inputs);
      await session.release();
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
    };
    const inNode = await runIn(ortNode);
    ortWeb.env.wasm.numThreads = 1;
    const webInNode = await runIn(ortWeb);
    const inChromium = await page.evaluate(([m, f]) => window.marginkit.ortRun(m, f, 'wasm'), [Array.from(model), feeds] as const);
    for (const k of ['loss', 'dx', 'dw']) {
      expect(compareNormwise(webInNode[k]!, inNode[k]!, 1e-5), `${k}: web in Node vs node`).toBeUndefined();
      expect(compareNormwise(inChromium[k]!, inNode[k]!, 1e-5), `${k}: Chromium vs node`).toBeUndefined();
    }
  });

  it('runs @marginkit/eval: AUC, EER and IJB-style TAR@FAR equal scikit-learn and insightface', async () => {
    for (const c of evalFixtures.verification) {
      const r = await page.evaluate(([s, l, f]) => window.marginkit.verification(s, l, f), [c.scores, c.labels, c.fars] as [number[], number[], number[]]);
      expect(Math.abs(r.auc - c.auc)).toBeLessThan(1e-9);
      expect(Math.abs(r.eer - c.eer)).toBeLessThan(1e-9);
      r.tar.forEach((t, i) => {
        expect(Math.abs(t - c.tarNearest[i])).toBeLessThan(1e-9);
      });
    }
  });
});
