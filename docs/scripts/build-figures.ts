/**
 * Writes the guides' figures (see ../src/figures.ts) to docs/figures/, from the library's code,
 * before typedoc builds the site (the `docs` script). The folder is not committed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCFACE_FALLBACKS, BUILT_IN_MARGINS, targetLogitSvg, unitCircleSvg } from '../src/figures.js';
import { arcface, cosface } from '@marginkit/core';

const out = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'figures');
mkdirSync(out, { recursive: true });
const figures: Record<string, string> = {
  'target-logits.svg': targetLogitSvg(BUILT_IN_MARGINS, 'Target logit of each built-in margin'),
  'arcface-fallbacks.svg': targetLogitSvg(ARCFACE_FALLBACKS, 'ArcFace m = 0.5: the fallback past θ_y = π − m', [-1.6, 1]),
  'unit-circle-arcface.svg': unitCircleSvg({ name: 'ArcFace m = 0.5', margin: arcface({ m: 0.5 }) }),
  'unit-circle-cosface.svg': unitCircleSvg({ name: 'CosFace m = 0.35', margin: cosface({ m: 0.35 }) }),
};
for (const [name, svg] of Object.entries(figures)) writeFileSync(join(out, name), svg);
console.log(`wrote ${Object.keys(figures).length} figures to ${out}`);
