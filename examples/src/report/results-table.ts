/**
 * The results table (best value per column in bold) and the sentence that says, from the data,
 * whether the margins beat plain softmax on open-set verification.
 */
import { count, duration, esc, finite, general, num, pct, pctNumber, powerOfTen } from './format.js';
import { FAR_TARGETS, tarAt } from './figures.js';
import type { LossRun, ReportData } from './model.js';
import type { LossStyle } from './palette.js';

/** A column: its header, the value compared for "best", which way is better, and how the value prints. */
interface Column {
  readonly key: string;
  readonly head: string;
  readonly title: string;
  readonly better: 'high' | 'low';
  readonly value: (r: LossRun) => number | undefined;
  /** The printed value (what ties are judged on). */
  readonly text: (v: number | undefined) => string;
  /** Extra, not compared (an interval). */
  readonly extra?: (r: LossRun) => string;
}

/** "[41.2–50.3]" percentage interval, or '' when it is not finite. */
function interval(iv: readonly [number, number] | undefined): string {
  if (!iv || !finite(iv[0]) || !finite(iv[1])) return '';
  return `[${pctNumber(iv[0])}–${pctNumber(iv[1])}]`;
}

const tarColumn = (far: number): Column => ({
  key: `tar-${far}`,
  head: `TAR @ FAR=${powerOfTen(far)}<br><span class="unit">[95% interval]</span>`,
  title: `True accept rate at a false accept rate of ${far}, with its 95% interval`,
  better: 'high',
  value: (r) => tarAt(r, far)?.tar,
  text: (v) => pct(v),
  extra: (r) => interval(tarAt(r, far)?.interval),
});

function columns(dims: string): Column[] {
  return [
    {
      key: 'acc-2d',
      head: 'closed-set acc.<br><span class="unit">2-D</span>',
      title: 'Held-out accuracy on the seen classes (nearest centre), 2-D run',
      better: 'high',
      value: (r) => r.picture.accuracy,
      text: (v) => pct(v),
    },
    {
      key: 'acc-hd',
      head: `closed-set acc.<br><span class="unit">${esc(dims)}</span>`,
      title: 'Held-out accuracy on the seen classes (nearest centre), high-dimensional run',
      better: 'high',
      value: (r) => r.verification.accuracy,
      text: (v) => pct(v),
    },
    {
      key: 'ten-fold',
      head: '10-fold verif. acc.<br><span class="unit">mean ± std</span>',
      title: 'Verification accuracy, LFW 10-fold protocol: mean ± standard deviation over folds',
      better: 'high',
      value: (r) => r.verification.tenFold.mean,
      text: (v) => pct(v, 2),
      extra: (r) => (finite(r.verification.tenFold.std) ? `± ${pctNumber(r.verification.tenFold.std, 2)}` : ''),
    },
    {
      key: 'auc',
      head: 'AUC',
      title: 'Area under the ROC of the verification pairs',
      better: 'high',
      value: (r) => r.verification.auc,
      text: (v) => num(v, 4),
    },
    { key: 'eer', head: 'EER', title: 'Equal error rate (lower is better)', better: 'low', value: (r) => r.verification.eer, text: (v) => pct(v, 2) },
    ...FAR_TARGETS.map(tarColumn),
    {
      key: 'time',
      head: 'time',
      title: 'Wall time of both runs (lower is better)',
      better: 'low',
      value: (r) => r.seconds,
      text: (v) => duration(v ?? Number.NaN),
    },
  ];
}

/** Indices of the best runs of a column: the best finite value and every value that prints the same. */
function bestRows(runs: readonly LossRun[], col: Column): Set<number> {
  let best: number | undefined;
  for (const r of runs) {
    const v = col.value(r);
    if (!finite(v) || (col.key === 'time' && v < 0)) continue;
    if (best === undefined || (col.better === 'high' ? v > best : v < best)) best = v;
  }
  const out = new Set<number>();
  if (best === undefined) return out;
  const shown = col.text(best);
  runs.forEach((r, i) => {
    const v = col.value(r);
    if (finite(v) && col.text(v) === shown) out.add(i);
  });
  return out;
}

/** A margin config as 'arcface, m=0.5' (plain softmax: 'softmax with bias'). */
export function marginText(run: LossRun): string {
  if (run.margin === null) return 'plain softmax, with bias';
  const { type, ...params } = run.margin;
  const value = (v: unknown): string => (typeof v === 'number' ? general(v) : typeof v === 'string' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
  const parts = Object.entries(params).map(([k, v]) => `${k}=${value(v)}`);
  const scale = finite(run.scale) ? [`s=${general(run.scale)}`] : [];
  return [String(type), ...parts, ...scale].join(', ');
}

/** The embedding dimensions of the verification runs as a header text: '128-D' or 'high-D'. */
export function dimsText(runs: readonly LossRun[]): string {
  const dims = [...new Set(runs.map((r) => r.verification.dim).filter(finite))];
  return dims.length === 1 ? `${general(dims[0]!)}-D` : 'high-D';
}

/** The results table. */
export function resultsTableHtml(data: ReportData, styles: readonly LossStyle[]): string {
  const cols = columns(dimsText(data.runs));
  const best = cols.map((c) => bestRows(data.runs, c));
  const head = `<tr><th scope="col" class="loss">loss</th>${cols.map((c) => `<th scope="col" title="${esc(c.title)}">${c.head}</th>`).join('')}</tr>`;
  const rows = data.runs.map((run, i) => {
    const style = styles[i]!;
    const cells = cols.map((c, j) => {
      const text = esc(c.text(c.value(run)));
      const shown = best[j]!.has(i) ? `<strong>${text}</strong>` : text;
      const extra = c.extra?.(run);
      return `<td data-col="${c.key}">${shown}${extra ? ` <span class="ci">${esc(extra)}</span>` : ''}</td>`;
    });
    const swatch = `<span class="swatch" style="background:${style.colour}"></span>`;
    return `<tr data-run="${esc(run.key)}"><th scope="row" class="loss">${swatch}${esc(run.label)}<span class="config">${esc(marginText(run))}</span></th>${cells.join('')}</tr>`;
  });
  return `<table class="results"><thead>${head}</thead><tbody>${rows.join('\n')}</tbody></table>`;
}

/** The best runs of a metric among `runs` (ties: equal as printed). */
function bestOf(
  runs: readonly LossRun[],
  value: (r: LossRun) => number | undefined,
  text: (v: number) => string,
): { runs: LossRun[]; value: number } | undefined {
  let best: number | undefined;
  for (const r of runs) {
    const v = value(r);
    if (finite(v) && (best === undefined || v > best)) best = v;
  }
  if (best === undefined) return undefined;
  const shown = text(best);
  return { runs: runs.filter((r) => finite(value(r)) && text(value(r)!) === shown), value: best };
}

const isSoftmax = (r: LossRun) => r.margin === null;
/** A margin loss proper: normalised with a margin (not plain softmax, not the no-margin 'none'). */
const isMargin = (r: LossRun) => r.margin !== null && r.margin.type !== 'none';

function softmaxName(r: LossRun): string {
  return /softmax/i.test(r.label) ? r.label : `plain softmax (${r.label})`;
}

function names(runs: readonly LossRun[]): string {
  const n = runs.map((r) => (isSoftmax(r) ? softmaxName(r) : r.label));
  return n.length <= 2 ? n.join(' and ') : `${n.slice(0, -1).join(', ')} and ${n[n.length - 1]}`;
}

interface Metric {
  readonly name: string;
  readonly value: (r: LossRun) => number | undefined;
  readonly text: (v: number) => string;
}

/** One sentence: who is best on a metric, and what plain softmax (or the best margin, if softmax is best) gets. */
function metricSentence(data: ReportData, m: Metric, lead: string): string {
  const best = bestOf(data.runs, m.value, m.text);
  if (!best) return `No run has a finite ${m.name}.`;
  const soft = bestOf(data.runs.filter(isSoftmax), m.value, m.text);
  const margin = bestOf(data.runs.filter(isMargin), m.value, m.text);
  const have = best.runs.length > 1 ? 'have' : 'has';
  if (best.runs.some(isSoftmax)) {
    const others = margin ? `; the best margin loss, ${names(margin.runs)}, ${margin.runs.length > 1 ? 'have' : 'has'} ${m.text(margin.value)}` : '';
    return `${lead}${names(best.runs)} ${have} the highest ${m.name} (${m.text(best.value)})${others}.`;
  }
  const ref = soft ? `; plain softmax ${m.text(soft.value)}` : '';
  return `${lead}${names(best.runs)} ${have} the highest ${m.name} (${m.text(best.value)})${ref}.`;
}

/** Whether the best margin loss beats the best plain-softmax run on a metric (strictly, as printed); undefined when either is missing. */
function beats(data: ReportData, m: Metric): boolean | undefined {
  const soft = bestOf(data.runs.filter(isSoftmax), m.value, m.text);
  const margin = bestOf(data.runs.filter(isMargin), m.value, m.text);
  if (!soft || !margin) return undefined;
  return margin.value > soft.value && m.text(margin.value) !== m.text(soft.value);
}

/** The honest sentence(s) about open-set verification: TAR@FAR=1e-3 and AUC, margins against plain softmax. */
export function verdictText(data: ReportData): string {
  const tar: Metric = { name: `TAR@FAR=${powerOfTen(1e-3)}`, value: (r) => tarAt(r, 1e-3)?.tar, text: (v) => pct(v) };
  const auc: Metric = { name: 'AUC', value: (r) => r.verification.auc, text: (v) => num(v, 4) };
  const parts = [metricSentence(data, tar, 'On this data, '), metricSentence(data, auc, 'By AUC, ')];
  const hasSoft = data.runs.some(isSoftmax);
  const hasMargin = data.runs.some(isMargin);
  if (!hasSoft) parts.push('There is no plain-softmax run to compare the margins with.');
  else if (!hasMargin) parts.push('No margin loss ran, so there is nothing to compare plain softmax with.');
  else {
    const onTar = beats(data, tar);
    const onAuc = beats(data, auc);
    if (onTar === undefined || onAuc === undefined) {
      parts.push('Some of these numbers are missing, so the comparison with plain softmax is incomplete.');
    } else if (onTar && onAuc) {
      parts.push('So here the best margin loss beats plain softmax on open-set verification, on both TAR@FAR=10⁻³ and AUC.');
      const m = bestOf(data.runs.filter(isMargin), tar.value, tar.text)!.runs[0]!;
      const s = bestOf(data.runs.filter(isSoftmax), tar.value, tar.text)!.runs[0]!;
      const a = tarAt(m, 1e-3)?.interval;
      const b = tarAt(s, 1e-3)?.interval;
      if (a && b && [...a, ...b].every(finite) && a[0] <= b[1] && b[0] <= a[1]) {
        parts.push(`But the 95% intervals of TAR@FAR=10⁻³ overlap (${m.label} ${interval(a)}%, ${softmaxName(s)} ${interval(b)}%), so that gap may be noise.`);
      }
    } else if (!onTar && !onAuc) {
      parts.push('So on this data the margins did not beat plain softmax on open-set verification.');
    } else {
      parts.push(`The evidence is mixed: the best margin loss beats plain softmax on ${onTar ? tar.name : 'AUC'} but not on ${onTar ? 'AUC' : tar.name}.`);
    }
    const margins = data.runs.filter(isMargin);
    if (margins.length > 1 && (onTar || onAuc)) {
      const soft = (m: Metric) => bestOf(data.runs.filter(isSoftmax), m.value, m.text)!.value;
      const better = (m: Metric) => margins.filter((r) => finite(m.value(r)) && m.value(r)! > soft(m) && m.text(m.value(r)!) !== m.text(soft(m))).length;
      parts.push(`Of the ${margins.length} margin losses, ${better(tar)} beat plain softmax on ${tar.name} and ${better(auc)} on AUC.`);
    }
  }
  const impostors = data.runs[0]?.verification.pairs.impostor;
  if (finite(impostors) && impostors > 0 && impostors * 1e-3 < 10) {
    parts.push(
      `With ${count(impostors)} impostor pairs, FAR=10⁻³ means ${impostors * 1e-3 < 1 ? 'less than one' : `about ${Math.round(impostors * 1e-3)}`} false accept${impostors * 1e-3 < 1.5 ? '' : 's'}: TAR@FAR=10⁻³ is noisy here.`,
    );
  }
  return parts.join(' ');
}
