import { describe, expect, it } from 'vitest';
import type { LossRun, ReportData } from './model.js';
import { MAX_POINTS, samplePoints } from './picture.js';
import { FIGURE_IDS, renderReport } from './render.js';
import { syntheticReportData } from './synthetic-data.js';

/** The same run with some numbers replaced (the table's inputs). */
interface Patch {
  readonly label?: string;
  readonly acc2d?: number;
  readonly accHd?: number;
  readonly tenFold?: number;
  readonly auc?: number;
  readonly eer?: number;
  readonly tar3?: number;
  readonly tar2?: number;
  readonly seconds?: number;
}

function patch(run: LossRun, p: Patch): LossRun {
  const v = run.verification;
  const tar = (far: number, t: number | undefined) => {
    const old = v.tarAtFar.find((x) => x.far === far)!;
    return t === undefined ? old : { far, tar: t, interval: [t - 0.02, t + 0.02] as const };
  };
  return {
    ...run,
    label: p.label ?? run.label,
    seconds: p.seconds ?? run.seconds,
    picture: { ...run.picture, accuracy: p.acc2d ?? run.picture.accuracy },
    verification: {
      ...v,
      accuracy: p.accHd ?? v.accuracy,
      tenFold: { mean: p.tenFold ?? v.tenFold.mean, std: v.tenFold.std },
      auc: p.auc ?? v.auc,
      eer: p.eer ?? v.eer,
      tarAtFar: [tar(1e-3, p.tar3), tar(1e-2, p.tar2)],
    },
  };
}

function withRuns(data: ReportData, patches: readonly Patch[]): ReportData {
  return { ...data, runs: data.runs.map((r, i) => patch(r, patches[i] ?? {})) };
}

/** Runs 0 softmax, 1 CosFace, 2 ArcFace with known numbers: every column has a clear best. */
const KNOWN: readonly Patch[] = [
  { acc2d: 0.7, accHd: 0.9, tenFold: 0.95, auc: 0.97, eer: 0.08, tar3: 0.4, tar2: 0.7, seconds: 5 },
  { acc2d: 0.85, accHd: 0.93, tenFold: 0.97, auc: 0.985, eer: 0.05, tar3: 0.75, tar2: 0.9, seconds: 3 },
  { acc2d: 0.8, accHd: 0.95, tenFold: 0.96, auc: 0.99, eer: 0.04, tar3: 0.8, tar2: 0.88, seconds: 7 },
];

/** The table as { run key → { column → { text, bold } } }. */
function table(html: string): Map<string, Map<string, { text: string; bold: boolean }>> {
  const out = new Map<string, Map<string, { text: string; bold: boolean }>>();
  for (const row of html.matchAll(/<tr data-run="([^"]*)">([\s\S]*?)<\/tr>/g)) {
    const cells = new Map<string, { text: string; bold: boolean }>();
    for (const cell of row[2]!.matchAll(/<td data-col="([^"]+)">([\s\S]*?)<\/td>/g)) {
      cells.set(cell[1]!, { text: cell[2]!.replace(/<[^>]+>/g, ''), bold: cell[2]!.includes('<strong>') });
    }
    out.set(row[1]!, cells);
  }
  return out;
}

const boldRuns = (html: string, col: string) => [...table(html)].filter(([, cells]) => cells.get(col)?.bold).map(([key]) => key);
const verdict = (html: string) => /<p class="verdict" id="verdict">([\s\S]*?)<\/p>/.exec(html)![1]!;
/** Text content, roughly: tags removed. */
const text = (html: string) => html.replace(/<style>[\s\S]*?<\/style>/, '').replace(/<[^>]*>/g, ' ');

/** The opening/closing tags balance (void HTML elements and self-closed SVG elements aside). */
function unbalancedTags(html: string): string[] {
  const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
  const stack: string[] = [];
  const problems: string[] = [];
  const body = html.replace(/<style>[\s\S]*?<\/style>/, '').replace(/<!doctype html>/i, '');
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, , self] = m;
    const tag = name!.toLowerCase();
    if (self || (!close && VOID.has(tag))) continue;
    if (!close) stack.push(tag);
    else if (stack.pop() !== tag) problems.push(`unexpected </${tag}>`);
  }
  return [...problems, ...stack.map((t) => `unclosed <${t}>`)];
}

describe('renderReport', () => {
  const data = syntheticReportData();
  const html = renderReport(data);

  it('is one HTML5 document: doctype, lang, charset, title, balanced tags, unique ids', () => {
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain(`<title>${data.title}</title>`);
    expect(unbalancedTags(html)).toEqual([]);
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has every figure exactly once, each a <figure id> with a <figcaption>', () => {
    for (const id of FIGURE_IDS) expect(html.split(`<figure id="${id}">`).length - 1, id).toBe(1);
    expect(html.split('<figure').length - 1).toBe(FIGURE_IDS.length);
    expect(html.split('<figcaption>').length - 1).toBe(FIGURE_IDS.length);
  });

  it('draws one mark per (sub)sampled point in each scatter panel, at most 1000, the same points in both panels', () => {
    const panels = [...html.matchAll(/<svg [^>]*class="panel"[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(panels).toHaveLength(2 * data.runs.length);
    const sizes = data.runs.map((r) => r.picture.labels.length);
    expect(sizes).toEqual([1600, 800, 800]); // the softmax run is subsampled
    data.runs.forEach((run, k) => {
      const sample = samplePoints(run);
      expect(sample.indices.length).toBe(Math.min(MAX_POINTS, sizes[k]!));
      for (const panel of panels.slice(2 * k, 2 * k + 2)) {
        expect(panel.split('<circle class="pt"').length - 1).toBe(sample.indices.length);
        expect(panel).toContain(`data-points="${sample.indices.length}"`);
        // One arrow per class centre.
        expect(panel.split('<g class="arrow">').length - 1).toBe(data.seenClasses.length);
      }
    });
    // Evenly spaced and deterministic.
    const s = samplePoints(data.runs[0]!);
    expect(s.indices.slice(0, 4)).toEqual([0, 1, 3, 4]);
    expect(samplePoints(data.runs[0]!)).toEqual(s);
  });

  it('has a class legend with every class name', () => {
    const legend = /<ul class="legend classes"[^>]*>([\s\S]*?)<\/ul>/.exec(html)![1]!;
    expect(legend.split('<li').length - 1).toBe(data.classNames.length);
    for (const name of data.classNames) expect(legend).toContain(name);
    for (const i of data.unseenClasses) expect(legend).toMatch(new RegExp(`${data.classNames[i]} <em>\\(unseen`));
  });

  it('is self-contained: no scripts, no http(s) references but the SVG namespace', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<img|<link(?! rel="icon" href="data:,")|@import|url\((?!#)/);
  });

  it("prints no 'NaN', 'undefined' or 'Infinity', even when numbers are missing", () => {
    expect(html).not.toMatch(/NaN|undefined|Infinity/);
    const broken = withRuns(data, [{ auc: Number.NaN, seconds: Number.POSITIVE_INFINITY, tar3: Number.NaN }, { eer: Number.NaN }]);
    const first = broken.runs[0]!;
    const features = Float32Array.from(first.picture.features);
    features[0] = Number.NaN;
    features[3] = Number.POSITIVE_INFINITY;
    const runs = [
      {
        ...first,
        picture: { ...first.picture, features, loss: [Number.NaN, ...first.picture.loss] },
        verification: { ...first.verification, thetaTarget: new Float64Array() },
      },
      ...broken.runs.slice(1),
    ];
    const out = renderReport({ ...broken, runs, totalSeconds: Number.NaN, settings: { ...broken.settings, lr: Number.NaN } });
    expect(out).not.toMatch(/NaN|undefined|Infinity/);
    const t = table(out);
    expect(t.get('softmax')!.get('auc')!.text).toBe('—');
    expect(t.get('softmax')!.get('time')!.text).toBe('—');
    expect(t.get('cosface')!.get('eer')!.text).toBe('—');
    expect(out).toContain('total time —');
    // The two non-finite rows are skipped and said so; the panels still draw 1000 points.
    expect(out).toContain('1000 of 1598 (evenly spaced subsample); 2 non-finite or zero skipped');
  });

  it('escapes text: a label A<b>& shows as A&lt;b&gt;&amp;', () => {
    const evil = renderReport({
      ...withRuns(data, [{}, { label: 'A<b>&' }]),
      title: 'T<i>&',
      classNames: data.classNames.map((n, i) => (i === 0 ? '<T>&"shirt"' : n)),
      settings: { 'a<b': 'x&y' },
    });
    expect(evil).toContain('A&lt;b&gt;&amp;');
    expect(evil).not.toContain('A<b>&');
    expect(evil).toContain('<title>T&lt;i&gt;&amp;</title>');
    expect(evil).toContain('&lt;T&gt;&amp;&quot;shirt&quot;');
    expect(evil).toContain('a&lt;b');
    expect(evil).toContain('x&amp;y');
    expect(unbalancedTags(evil)).toEqual([]);
  });

  it('has a table row per run, in order, with the best value of each column in bold', () => {
    const out = renderReport(withRuns(data, KNOWN));
    const t = table(out);
    expect([...t.keys()]).toEqual(['softmax', 'cosface', 'arcface']);
    expect(t.get('arcface')!.get('tar-0.001')!.text).toBe('80.0% [78.0–82.0]');
    expect(t.get('cosface')!.get('ten-fold')!.text).toMatch(/^97\.00% ± \d+\.\d\d$/);
    const expected: Record<string, string[]> = {
      'acc-2d': ['cosface'],
      'acc-hd': ['arcface'],
      'ten-fold': ['cosface'],
      auc: ['arcface'],
      eer: ['arcface'], // lowest
      'tar-0.001': ['arcface'],
      'tar-0.01': ['cosface'],
      time: ['cosface'], // fastest
    };
    for (const [col, runs] of Object.entries(expected)) expect(boldRuns(out, col), col).toEqual(runs);
    // Values equal as printed are all bold.
    const tie = renderReport(withRuns(data, [KNOWN[0]!, { ...KNOWN[1], acc2d: 0.8501 }, { ...KNOWN[2], acc2d: 0.8504 }]));
    expect(boldRuns(tie, 'acc-2d')).toEqual(['cosface', 'arcface']);
  });

  it('says so when a margin beats plain softmax on open-set verification', () => {
    const v = verdict(renderReport(withRuns(data, KNOWN)));
    expect(v).toContain('On this data, ArcFace m=0.5 has the highest TAR@FAR=10⁻³ (80.0%); plain softmax 40.0%.');
    expect(v).toContain('By AUC, ArcFace m=0.5 has the highest AUC (0.9900); plain softmax 0.9700.');
    expect(v).toContain('So here the best margin loss beats plain softmax on open-set verification, on both TAR@FAR=10⁻³ and AUC.');
    expect(v).toContain('Of the 2 margin losses, 2 beat plain softmax on TAR@FAR=10⁻³ and 2 on AUC.');
    expect(v).not.toContain('overlap');
  });

  it('says so plainly when plain softmax is best', () => {
    const v = verdict(renderReport(withRuns(data, [{ ...KNOWN[0], tar3: 0.9, auc: 0.995 }, KNOWN[1]!, KNOWN[2]!])));
    expect(v).toContain('On this data, Softmax has the highest TAR@FAR=10⁻³ (90.0%); the best margin loss, ArcFace m=0.5, has 80.0%.');
    expect(v).toContain('By AUC, Softmax has the highest AUC (0.9950); the best margin loss, ArcFace m=0.5, has 0.9900.');
    expect(v).toContain('So on this data the margins did not beat plain softmax on open-set verification.');
    expect(v).not.toContain('beats plain softmax');
    expect(v).not.toContain('Of the');
  });

  it('calls a split result mixed, and an overlapping interval possible noise', () => {
    const mixed = verdict(renderReport(withRuns(data, [{ ...KNOWN[0], auc: 0.995 }, KNOWN[1]!, KNOWN[2]!])));
    expect(mixed).toContain('The evidence is mixed: the best margin loss beats plain softmax on TAR@FAR=10⁻³ but not on AUC.');
    const close = verdict(renderReport(withRuns(data, [{ ...KNOWN[0], tar3: 0.78 }, KNOWN[1]!, KNOWN[2]!])));
    expect(close).toContain('So here the best margin loss beats plain softmax');
    expect(close).toContain('Of the 2 margin losses, 1 beat plain softmax on TAR@FAR=10⁻³ and 2 on AUC.');
    expect(close).toContain('the 95% intervals of TAR@FAR=10⁻³ overlap (ArcFace m=0.5 [78.0–82.0]%, Softmax [76.0–80.0]%), so that gap may be noise.');
  });

  it('is deterministic: the same data gives the same bytes', () => {
    expect(renderReport(syntheticReportData())).toBe(html);
    expect(renderReport(syntheticReportData({ seed: 2 }))).not.toBe(html);
  });

  it('shows the settings, the date, the total time and the open-set set-up in the header', () => {
    const header = /<header>([\s\S]*?)<\/header>/.exec(html)![1]!;
    for (const [k, v] of Object.entries(data.settings)) expect(header).toContain(`<dt>${k}</dt><dd>${v}</dd>`);
    expect(header).toContain('2025-01-02 03:04 UTC');
    expect(header).toMatch(/total time \d+\.\d s/);
    expect(text(header)).toContain('8 seen classes');
    expect(text(header)).toContain('2 unseen classes');
    expect(text(header)).toContain('verification is open-set');
  });
});
