/**
 * The demo's HTML report in headless Chromium: the synthetic report (and the demo's own
 * examples/demo-output/report.html when a demo run has written it) loads with no console errors or
 * warnings and no requests besides the page itself, shows every figure at a readable size, and is
 * saved as a full-page screenshot under reports/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIGURE_IDS, renderReport } from '../../../examples/src/report/render.js';
import { syntheticReportData } from '../../../examples/src/report/synthetic-data.js';
import { available, launchChromium } from './chromium.js';

const root = new URL('../../../', import.meta.url);
const reports = fileURLToPath(new URL('reports/', root));
/**
 * The demo's report, if a demo run wrote one: MARGINKIT_DEMO_OUT is the --out of a run (CI runs
 * `npm run demo -- --quick` there and requires the report), MARGINKIT_DEMO_REPORT a report file.
 */
const demoOut = process.env['MARGINKIT_DEMO_OUT'];
const demoReport =
  process.env['MARGINKIT_DEMO_REPORT'] ?? (demoOut ? join(demoOut, 'report.html') : fileURLToPath(new URL('examples/demo-output/report.html', root)));
if (demoOut && !existsSync(demoReport)) throw new Error(`MARGINKIT_DEMO_OUT is set but ${demoReport} does not exist: the demo did not write its report`);

/** The reports to open: the synthetic one always, the demo's when it exists. Path on the server → file, screenshot. */
const cases: { name: string; path: string; screenshot: string }[] = [
  { name: 'the synthetic report', path: '/synthetic.html', screenshot: 'report-screenshot.png' },
  ...(existsSync(demoReport) ? [{ name: "the demo's report.html", path: '/demo.html', screenshot: 'report-demo-screenshot.png' }] : []),
];

let server: Server;
let browser: Browser;
let base: string;
let tmp: string;

describe.runIf(available)('the HTML report in headless Chromium', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'marginkit-report-'));
    const synthetic = join(tmp, 'report.html');
    writeFileSync(synthetic, renderReport(syntheticReportData()));
    const files: Record<string, string> = { '/synthetic.html': synthetic, '/demo.html': demoReport };
    server = createServer((req, res) => {
      const file = files[req.url ?? ''];
      if (file && existsSync(file)) res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(readFileSync(file));
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    mkdirSync(reports, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it.each(cases)('$name loads cleanly, shows every figure at a readable size, and is screenshotted', async ({ path, screenshot }) => {
    // A laptop screen.
    const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    await page.goto(`${base}${path}`, { waitUntil: 'load' });
    await page.waitForTimeout(200);
    expect(problems).toEqual([]);
    // Self-contained: the page is the only request (no fonts, images, favicon, scripts).
    expect(requests).toEqual([`${base}${path}`]);
    expect(await page.locator('script').count()).toBe(0);
    for (const id of FIGURE_IDS) {
      const figure = page.locator(`figure#${id}`);
      expect(await figure.count(), id).toBe(1);
      expect(await figure.locator('figcaption').count(), `${id} has a caption`).toBe(1);
      const box = await figure.boundingBox();
      expect(box, `${id} is rendered`).not.toBeNull();
      expect(box!.width, `${id} width`).toBeGreaterThan(100);
      expect(box!.height, `${id} height`).toBeGreaterThan(100);
    }
    // Readable on a laptop: nothing wider than the window, and no SVG text rendered below 9.5 px.
    const layout = await page.evaluate(() => {
      let smallest = Number.POSITIVE_INFINITY;
      let where = '';
      for (const svg of Array.from(document.querySelectorAll('svg[viewBox]'))) {
        const vb = (svg as SVGSVGElement).viewBox.baseVal;
        const scale = svg.getBoundingClientRect().width / vb.width;
        for (const t of Array.from(svg.querySelectorAll('text'))) {
          const px = Number.parseFloat(getComputedStyle(t).fontSize) * scale;
          if (px < smallest) [smallest, where] = [px, t.textContent ?? ''];
        }
      }
      return { scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth, smallest, where };
    });
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.width);
    expect(layout.smallest, `smallest SVG text: ${JSON.stringify(layout.where)}`).toBeGreaterThanOrEqual(9.5);
    await page.screenshot({ path: join(reports, screenshot), fullPage: true });
    await page.close();
  });
});
