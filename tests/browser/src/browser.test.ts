import { existsSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compareNormwise } from '@marginkit/core/testing';
import { build } from 'esbuild';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageLossCase } from './page.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  const message = `browser suite: ${CHROMIUM} is missing (apt-get install chromium); these tests need it`;
  if (process.env['MARGINKIT_REQUIRE_BROWSER']) throw new Error(message);
  console.warn(`\n*** ${message}. They are skipped here; CI installs Chromium and runs them. ***\n`);
}

const root = new URL('../../../', import.meta.url);
const losses = JSON.parse(readFileSync(new URL('fixtures/margin-losses.json', root), 'utf8'));
const evalFixtures = JSON.parse(readFileSync(new URL('fixtures/eval.json', root), 'utf8'));

interface MarginConfig {
  readonly type: string;
  readonly m?: number;
  readonly m1?: number;
  readonly margins?: readonly MarginConfig[];
}

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
      conditions: ['source'],
      logLevel: 'silent',
    });
    const js = bundle.outputFiles[0]!.text;
    const html = '<!doctype html><meta charset="utf-8"><title>marginkit</title><script type="module" src="/page.js"></script>';
    server = createServer((req, res) => {
      const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
      if (req.url === '/page.js') res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end(js);
      else if (req.url === '/') res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(html);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // WebGL and WebGPU on SwiftShader (no GPU on these machines).
        '--enable-unsafe-webgpu',
        '--use-gl=angle',
        '--use-angle=swiftshader',
        '--enable-unsafe-swiftshader',
        '--enable-features=Vulkan',
        '--use-vulkan=swiftshader',
        '--use-webgpu-adapter=swiftshader',
      ],
    });
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
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  describe.each(['webgl', 'webgpu', 'cpu'])('tfjs %s backend', (name) => {
    it('computes every margin × policy loss and both gradients within 1e-4 of the float64 fixtures (1e-3 for non-integer m1 on the GPU backends), without leaking tensors', async () => {
      const info = await page.evaluate((n) => window.marginkit.setBackend(n), name);
      expect(info.backend).toBe(name);
      expect(info.float32).toBe(true);
      const before = await page.evaluate(() => window.marginkit.memory());
      const cases: PageLossCase[] = losses.cases;
      const results = await page.evaluate((c) => window.marginkit.losses(c), cases);
      const failures: string[] = [];
      losses.cases.forEach(
        (c: { name: string; config: { margin: MarginConfig }; loss: number; gradEmbeddings: number[]; gradCenters: number[] }, i: number) => {
          const r = results[i]!;
          for (const [what, got, want] of [
            ['loss', [r.loss], [c.loss]],
            ['d/dembeddings', r.gradEmbeddings, c.gradEmbeddings],
            ['d/dcenters', r.gradCenters, c.gradCenters],
          ] as const) {
            const msg = compareNormwise(got, want, tolerance(name, c.config.margin));
            if (msg) failures.push(`${c.name} ${what}: ${msg}`);
          }
        },
      );
      expect(failures).toEqual([]);
      expect(await page.evaluate(() => window.marginkit.memory())).toBe(before);
    });
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
