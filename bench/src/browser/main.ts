/**
 * `npm run bench:browser` (in bench/): serves the browser bench and prints its address; open it in
 * a browser (with WebGPU for the webgpu rows). Stop with Ctrl-C.
 *
 *   node scripts/pnpm.mjs --filter @marginkit/bench bench:browser [port]
 */
import { serveBenchPage } from './serve.js';

const server = await serveBenchPage(Number(process.argv[2] ?? 8123));
console.log(`marginkit bench page: ${server.url}?B=256&C=10000&runs=5`);
console.log('  (query: B, C (comma lists), D, runs, threads (ort-web-wasm), runtimes=tfjs-webgl,tfjs-webgpu,tfjs-cpu,ort-web-webgpu,ort-web-wasm)');
