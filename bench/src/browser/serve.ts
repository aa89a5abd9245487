/**
 * Serves the browser bench: bundles `page.ts` with esbuild, and serves it with onnxruntime-web's
 * wasm files under /ort/, cross-origin isolated (so onnxruntime-web's wasm may use threads).
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

/** A running bench page server. */
export interface BenchPageServer {
  /** The page's address, e.g. `http://127.0.0.1:8123/` (add `?B=…&C=…&runtimes=…&runs=…`). */
  readonly url: string;
  close(): Promise<void>;
}

/** Bundles the page and serves it on 127.0.0.1:`port` (0: any free port). */
export async function serveBenchPage(port = 0): Promise<BenchPageServer> {
  const bundle = await build({
    entryPoints: [new URL('./page.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@marginkit/source'],
    logLevel: 'silent',
    // @marginkit/core/testing (the seeded inputs) also holds Node-only helpers the page never calls.
    external: ['node:*'],
  });
  const js = bundle.outputFiles[0]!.text;
  const html = '<!doctype html><meta charset="utf-8"><title>marginkit bench</title><script type="module" src="/page.js"></script>';
  const ortDist = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-web')), '..', 'dist');
  const server: Server = createServer((req, res) => {
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    const path = (req.url ?? '/').split('?')[0];
    const ortFile = /^\/ort\/(ort-wasm-[a-z.-]+\.(?:wasm|mjs))$/.exec(path ?? '')?.[1];
    if (path === '/page.js') res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end(js);
    else if (path === '/') res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(html);
    else if (ortFile && existsSync(join(ortDist, ortFile))) {
      const type = ortFile.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
      res.writeHead(200, { ...headers, 'Content-Type': type }).end(readFileSync(join(ortDist, ortFile)));
    } else if (path === '/favicon.ico') res.writeHead(204, headers).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
