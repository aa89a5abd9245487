/**
 * Looks at the built site the way a reader does: serves docs/site/ on 127.0.0.1, opens pages in
 * headless Chromium (/usr/bin/chromium, `apt-get install chromium`), saves a full-page screenshot
 * of each to reports/docs-site/, and fails when a page logs an error, a request fails (an image,
 * KaTeX's stylesheet or fonts), an image does not load, or the maths is left as TeX.
 *
 *   npx tsx docs/scripts/screenshot-site.ts [page.html ...]   (after the docs build)
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const docs = resolve(fileURLToPath(import.meta.url), '..', '..');
const site = join(docs, 'site');
const out = resolve(docs, '..', 'reports', 'docs-site');
const pages = process.argv.slice(2).length ? process.argv.slice(2) : ['documents/Margins.html', 'documents/Numerics.html', 'documents/Coming_from_Python.html'];
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

const server = createServer((req, res) => {
  if (req.url === '/favicon.ico') return void res.writeHead(204).end();
  const path = normalize(join(site, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
  try {
    if (!path.startsWith(site) || !statSync(path).isFile()) throw new Error('not a file');
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--no-first-run', '--disable-background-networking'] });
const problems: string[] = [];
try {
  mkdirSync(out, { recursive: true });
  for (const page of pages) {
    const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    tab.on('console', (m) => m.type() === 'error' && problems.push(`${page}: console error: ${m.text()}`));
    tab.on('requestfailed', (r) => problems.push(`${page}: request failed: ${r.url()}`));
    tab.on('response', (r) => r.status() >= 400 && problems.push(`${page}: ${r.status()} for ${r.url()}`));
    await tab.goto(base + page, { waitUntil: 'networkidle' });
    await tab.evaluate(() => document.fonts.ready);
    const broken = await tab.$$eval('img', (imgs) => imgs.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.src));
    for (const src of broken) problems.push(`${page}: image did not load: ${src}`);
    // Prose (not code, not typeset maths) still holding $…$.
    const tex = await tab.evaluate(() => {
      const walker = document.createTreeWalker(document.querySelector('.col-content') ?? document.body, NodeFilter.SHOW_TEXT);
      const left: string[] = [];
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.parentElement?.closest('.katex, pre, code') && /\$[^$\s][^$]*\$/.test(n.textContent ?? '')) left.push(n.textContent!.trim());
      }
      return left;
    });
    for (const t of tex) problems.push(`${page}: TeX left unrendered: ${t.slice(0, 80)}`);
    const file = join(out, `${page.replace(/[/.]/g, '_')}.png`);
    await tab.screenshot({ path: file, fullPage: true });
    // And the page in screen-sized tiles, legible at a glance.
    const height = await tab.evaluate(() => document.documentElement.scrollHeight);
    for (let y = 0, i = 0; y < height; y += 900, i++) {
      await tab.screenshot({ path: file.replace(/\.png$/, `.${i}.png`), fullPage: true, clip: { x: 0, y, width: 1280, height: Math.min(900, height - y) } });
    }
    console.log(`${page}: ${await tab.$$eval('.katex', (k) => k.length)} formulas, ${await tab.$$eval('img', (i) => i.length)} images → ${file}`);
    await tab.close();
  }
} finally {
  await browser.close();
  server.close();
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
