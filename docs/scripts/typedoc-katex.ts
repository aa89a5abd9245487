/**
 * A typedoc plugin: `$…$` and `$$…$$` in guides and comments are typeset with KaTeX when the
 * site is built (server-side: the pages carry the rendered HTML and MathML, no script), and
 * KaTeX's stylesheet and fonts are copied into the site. A TeX error fails the build.
 *
 * Loaded by docs/typedoc.json (`plugin`); typedoc runs under tsx so that it can import this file.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import markdownItKatex from '@vscode/markdown-it-katex';
import { Application, JSX, RendererEvent } from 'typedoc';

/** Where the stylesheet goes, relative to the site's root. */
const KATEX_CSS = 'assets/katex/katex.min.css';

/** KaTeX's dist/ folder (its stylesheet and fonts). */
function katexDist(): string {
  return dirname(createRequire(import.meta.url).resolve('katex/dist/katex.min.css'));
}

/** Copies KaTeX's stylesheet and its woff2 fonts (what every browser that runs the site uses) into `out`. */
function copyKatexAssets(out: string): void {
  const dist = katexDist();
  mkdirSync(join(out, 'fonts'), { recursive: true });
  copyFileSync(join(dist, 'katex.min.css'), join(out, 'katex.min.css'));
  for (const font of readdirSync(join(dist, 'fonts')).filter((f) => f.endsWith('.woff2'))) {
    copyFileSync(join(dist, 'fonts', font), join(out, 'fonts', font));
  }
}

/** The plugin's entry point, called by typedoc. */
export function load(app: Application): void {
  // The package is CommonJS with `exports.default`: an ES import sees the module object.
  const katex = markdownItKatex.default;
  // Set once the options are read (bootstrapping resets them after loading plugins).
  app.on(Application.EVENT_BOOTSTRAP_END, () => {
    app.options.setValue('markdownItLoader', (parser: Parameters<typeof katex>[0]) => {
      parser.use(katex, { throwOnError: true });
    });
  });
  app.renderer.hooks.on('head.end', (context) => JSX.createElement('link', { rel: 'stylesheet', href: context.relativeURL(KATEX_CSS) }));
  app.renderer.on(RendererEvent.END, (event) => copyKatexAssets(join(event.outputDirectory, dirname(KATEX_CSS))));
}
