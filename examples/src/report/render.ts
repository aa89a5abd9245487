/**
 * The demo's report: one self-contained HTML file (inline SVG and CSS; no scripts, no network, no
 * external fonts or images). Deterministic: the same data gives the same bytes.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { renderReport } from './report/render.js';
 * writeFileSync('demo-output/report.html', renderReport(data));
 * ```
 */
import { count, dateText, duration, esc, finite, general, pct, scientific } from './format.js';
import { type LegendItem, lossFigure, rocFigure, targetLogitFigure, thetaFigure } from './figures.js';
import type { ReportData } from './model.js';
import { classColour, lossStyles } from './palette.js';
import { JITTER, MAX_POINTS, angleStats, circlePanelSvg, rawPanelSvg, samplePoints } from './picture.js';
import { dimsText, marginText, resultsTableHtml, verdictText } from './results-table.js';

/** The ids of the report's figures, in page order. */
export const FIGURE_IDS = ['fig-picture', 'fig-target-logit', 'fig-theta', 'fig-roc', 'fig-results', 'fig-loss'] as const;

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1b1b1b; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", sans-serif; }
header, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
h1 { font-size: 28px; line-height: 1.2; margin: 0 0 6px; }
h2 { font-size: 21px; margin: 36px 0 10px; }
h3 { font-size: 15px; margin: 0 0 6px; }
p { margin: 0 0 10px; max-width: 82ch; }
a { color: #0b5cad; }
.meta { color: #555; margin-bottom: 14px; }
.intro { font-size: 15.5px; }
.summary { background: #fff; border-left: 4px solid #0b5cad; padding: 10px 14px; border-radius: 4px; max-width: none; }
.settings { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 2px 22px; margin: 8px 0 14px; padding: 10px 14px; background: #fff; border-radius: 6px; font-size: 13.5px; }
.settings div { display: flex; gap: 12px; align-items: baseline; justify-content: space-between; border-bottom: 1px solid #eee; padding: 2px 0; min-width: 0; }
.settings div.wide { grid-column: 1 / -1; justify-content: flex-start; }
.settings div.wide dd { text-align: left; }
.settings dt { color: #555; flex: 0 0 auto; white-space: nowrap; }
.settings dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; text-align: right; min-width: 0; overflow-wrap: anywhere; }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 0; margin: 8px 0 0; list-style: none; font-size: 14px; }
nav li::before { content: "§ "; color: #888; }
figure { margin: 0 0 8px; background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); padding: 16px 18px; overflow-x: auto; }
figcaption { font-size: 14px; color: #333; margin: 0 0 12px; max-width: 100ch; }
figcaption strong { color: #111; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-family: inherit; }
svg .halo { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; list-style: none; padding: 0; margin: 6px 0 10px; font-size: 13.5px; }
.legend li { display: inline-flex; align-items: center; gap: 6px; }
.legend svg { display: inline-block; }
.legend .unseen { color: #666; }
.dot { display: inline-block; width: 11px; height: 11px; border-radius: 50%; }
.dot.hollow { border: 1.5px dashed #888; }
.picture-row { display: grid; grid-template-columns: 360px 400px minmax(200px, 1fr); gap: 14px; align-items: start; padding: 12px 0; border-top: 1px solid #eee; }
.run-info { font-size: 13px; min-width: 0; }
.run-info dl { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; }
.run-info dt { color: #555; }
.run-info dd { margin: 0; font-variant-numeric: tabular-nums; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 10px 14px; }
.grid svg { width: 100%; max-width: 360px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 7px; vertical-align: -1px; }
table.results { border-collapse: collapse; width: 100%; font-size: 13.5px; font-variant-numeric: tabular-nums; }
table.results th, table.results td { padding: 6px 8px; border-bottom: 1px solid #e5e5e5; text-align: right; vertical-align: top; white-space: nowrap; }
table.results thead th { font-weight: 600; color: #333; border-bottom: 2px solid #bbb; vertical-align: bottom; line-height: 1.25; }
table.results th.loss { text-align: left; white-space: normal; min-width: 170px; }
table.results tbody th { font-weight: 600; }
table.results .config { display: block; font-weight: 400; font-size: 12px; color: #666; }
table.results strong { font-weight: 700; color: #000; }
.unit, .ci { font-weight: 400; color: #666; font-size: 12px; }
.verdict { margin-top: 14px; font-size: 15px; max-width: none; }
footer { color: #666; font-size: 13px; padding-top: 24px; padding-bottom: 32px; }
@media (max-width: 1100px) { .picture-row { grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); } }
`;

/** A legend of line samples. */
function lineLegend(items: readonly LegendItem[]): string {
  const li = items.map((it) => {
    const sample =
      it.kind === 'fill'
        ? `<rect x="1" y="1" width="26" height="10" fill="${esc(it.colour)}" fill-opacity="0.3" stroke="${esc(it.colour)}" stroke-width="1.5"${it.dash ? ` stroke-dasharray="${esc(it.dash)}"` : ''}/>`
        : `<line x1="1" x2="27" y1="6" y2="6" stroke="${esc(it.colour)}" stroke-width="2.5"${it.dash ? ` stroke-dasharray="${esc(it.dash)}"` : ''}/>`;
    return `<li><svg width="28" height="12" viewBox="0 0 28 12" aria-hidden="true">${sample}</svg>${esc(it.name)}</li>`;
  });
  return `<ul class="legend">${li.join('')}</ul>`;
}

/** The class legend: every class name with its colour; unseen classes marked (they have no points). */
function classLegend(data: ReportData): string {
  const seen = new Set(data.seenClasses);
  const unseen = new Set(data.unseenClasses);
  const li = data.classNames.map((name, i) => {
    if (seen.has(i)) return `<li data-class="${i}"><span class="dot" style="background:${classColour(i)}"></span>${esc(name)}</li>`;
    const note = unseen.has(i) ? 'unseen: only in verification pairs' : 'not used';
    return `<li class="unseen" data-class="${i}"><span class="dot hollow"></span>${esc(name)} <em>(${note})</em></li>`;
  });
  return `<ul class="legend classes" aria-label="class colours">${li.join('')}</ul>`;
}

function classList(data: ReportData, indices: readonly number[]): string {
  const n = indices.map((i) => data.classNames[i] ?? `class ${i}`);
  return n.length ? n.join(', ') : 'none';
}

function settingValue(v: string | number | boolean): string {
  return typeof v === 'number' ? general(v) : String(v);
}

function header(data: ReportData): string {
  const seen = data.seenClasses.length;
  const unseen = data.unseenClasses.length;
  const pairs = data.runs[0]?.verification.pairs;
  const dims = dimsText(data.runs);
  // Short settings in a grid; long ones (a sentence) each on a full row, after them.
  const entries = Object.entries(data.settings).map(([k, v]) => [k, settingValue(v)] as const);
  const wide = (k: string, v: string) => k.length + v.length > 30;
  const settings = [...entries.filter(([k, v]) => !wide(k, v)), ...entries.filter(([k, v]) => wide(k, v))]
    .map(([k, v]) => `<div${wide(k, v) ? ' class="wide"' : ''}><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`)
    .join('');
  const pairText =
    pairs && finite(pairs.genuine) && finite(pairs.impostor)
      ? ` The verification pairs (${count(pairs.genuine)} genuine, ${count(pairs.impostor)} impostor) are drawn from held-out images of all ${data.classNames.length} classes.`
      : '';
  return `<header>
<h1>${esc(data.title)}</h1>
<p class="meta">${esc(dateText(data.date))} · ${data.runs.length} loss${data.runs.length === 1 ? '' : 'es'} · total time ${esc(duration(data.totalSeconds))}</p>
<p class="intro">Each loss trains the same network on the same data twice: once with a <strong>2-D embedding</strong>, so the features can be drawn as in the margin papers' figures, and once with a <strong>${esc(dims)} embedding</strong> for verification. <strong>Plain softmax</strong> (a linear layer with a bias, on unnormalised features) only needs each class on the right side of a decision boundary. The <strong>margin losses</strong> normalise features and class centres, so a class is a direction and only the angle θ between a feature and its centre counts, and they make the target logit harder to earn (cos θ − m for CosFace, cos(θ + m) for ArcFace, …), which should pull each class into a tighter cone with wider gaps between classes. Training sees only the <strong>${seen} seen classes</strong> (${esc(classList(data, data.seenClasses))}); the <strong>${unseen} unseen class${unseen === 1 ? '' : 'es'}</strong> (${esc(classList(data, data.unseenClasses))}) appear only in the verification pairs, so <strong>verification is open-set</strong>: it asks whether the embedding separates classes it never trained on, as a face-recognition model must.${esc(pairText)}</p>
<p class="summary"><strong>Result:</strong> ${esc(verdictText(data))}</p>
<dl class="settings">${settings}</dl>
<nav aria-label="contents"><ol>
<li><a href="#fig-picture">The paper's picture</a></li><li><a href="#fig-target-logit">Target logit vs θ</a></li><li><a href="#fig-theta">θ<sub>y</sub> on held-out data</a></li><li><a href="#fig-roc">ROC</a></li><li><a href="#fig-results">Results table</a></li><li><a href="#fig-loss">Training loss</a></li>
</ol></nav>
</header>`;
}

function pictureSection(data: ReportData): string {
  const styles = lossStyles(data.runs);
  const rows = data.runs.map((run, k) => {
    const sample = samplePoints(run);
    const acc = pct(run.picture.accuracy);
    const raw = rawPanelSvg(run, data.seenClasses, data.classNames, sample, acc);
    const circle = circlePanelSvg(run, data.seenClasses, data.classNames, sample, acc);
    const stats = angleStats(run, data.seenClasses);
    const shown =
      sample.indices.length === sample.usable
        ? `all ${count(sample.usable)}`
        : `${count(sample.indices.length)} of ${count(sample.usable)} (evenly spaced subsample)`;
    const skipped = sample.total - sample.usable;
    const items: [string, string][] = [
      ['loss', marginText(run)],
      ['accuracy', `${acc} (2-D), ${pct(run.verification.accuracy)} (${dimsText([run])})`],
      ['mean θ', finite(stats.meanOwnDeg) ? `${stats.meanOwnDeg.toFixed(1)}° to the own centre (2-D)` : '—'],
      ['centres', finite(stats.minCentreGapDeg) ? `closest two ${stats.minCentreGapDeg.toFixed(1)}° apart` : '—'],
      ['points', `${shown}${skipped > 0 ? `; ${count(skipped)} non-finite or zero skipped` : ''}`],
      ['arrows', finite(raw.arrowScale) ? `left panel: ×${general(+raw.arrowScale.toPrecision(3))} their length` : '—'],
    ];
    const info = items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('');
    return `<div class="picture-row" id="picture-${k + 1}" data-run="${esc(run.key)}">${raw.svg}${circle}<div class="run-info"><h3><span class="swatch" style="background:${styles[k]!.colour}"></span>${esc(run.label)}</h3><dl>${info}</dl></div></div>`;
  });
  const ideal =
    data.seenClasses.length > 1 ? ` (${data.seenClasses.length} evenly spread centres would be ${(360 / data.seenClasses.length).toFixed(0)}° apart)` : '';
  return `<section>
<h2>1. The paper's picture: 2-D features of held-out images</h2>
<figure id="fig-picture">
<figcaption><strong>What to look at:</strong> each row is one loss trained with a 2-D embedding. <strong>Left:</strong> the raw features of held-out images of the seen classes, coloured by class, with each class centre (the weight row of the last layer) drawn as an arrow from the origin; arrows are rescaled together to fit the panel, so their directions and relative lengths are exact but not their length against the points. <strong>Right:</strong> the same features divided by their length, on the unit circle (radius 1 ± ${JITTER} jitter, deterministic, so dense arcs show), with the centre directions. With a margin, each class should sit in a narrow arc around its own arrow, with empty gaps between classes${esc(ideal)}; plain softmax typically spreads classes radially, and its arcs touch or overlap. Each panel draws at most ${MAX_POINTS} points; runs with more are subsampled evenly (the row says how many).${classLegend(data)}</figcaption>
${rows.join('\n')}
</figure>
</section>`;
}

/** Which target curves rise above cos θ somewhere (by more than 1e-4: float32 curves equal to cos θ are not above it), as a sentence. */
function belowText(data: ReportData): string {
  const above = data.targetCurves.filter((c) =>
    c.thetaDeg.some((t, i) => finite(t) && finite(c.target[i]) && c.target[i]! > Math.cos((t * Math.PI) / 180) + 1e-4),
  );
  const penalty = 'at the same angle the loss sees a lower target logit, so training must shrink θ to reach the same loss';
  if (!data.targetCurves.length) return 'No margin ran, so only the reference is drawn.';
  if (!above.length) return `Every margin curve lies on or below it: ${penalty}.`;
  return `Below it, a margin penalises the target (${penalty}); ${above.map((c) => c.label).join(', ')} ${above.length > 1 ? 'rise' : 'rises'} above it somewhere, easing the target there.`;
}

/** Renders the report. */
export function renderReport(data: ReportData): string {
  const styles = lossStyles(data.runs);
  const target = targetLogitFigure(data, styles);
  const theta = thetaFigure(data, styles);
  const runLegend = lineLegend(data.runs.map((r, k) => ({ name: r.label, colour: styles[k]!.colour, dash: styles[k]!.dash })));
  const pairs = data.runs[0]?.verification.pairs;
  const impostors = pairs && finite(pairs.impostor) && pairs.impostor > 0 ? pairs.impostor : undefined;
  const dims = dimsText(data.runs);
  const lossPanels = lossFigure(data, styles);
  const body = `${header(data)}
<main>
${pictureSection(data)}
<section>
<h2>2. The margins: target logit against θ</h2>
<figure id="fig-target-logit">
<figcaption><strong>What to look at:</strong> the logit a sample gets for its own class as a function of the angle θ between its feature and its class centre, before the scale s. The grey dashed line is cos θ, no margin. ${esc(belowText(data))} (CosFace shifts the curve down by m, ArcFace shifts it right by m in angle, SphereFace multiplies the angle.)</figcaption>
${lineLegend(target.legend)}
${target.svg}
</figure>
</section>
<section>
<h2>3. Angle to the own class centre on held-out data (${esc(dims)} runs)</h2>
<figure id="fig-theta">
<figcaption><strong>What to look at:</strong> for each loss, the distribution of θ<sub>y</sub>, the angle in degrees between a held-out (seen-class) embedding and its class centre. All panels share the bins (2° wide, 0–${theta.top}°) and the y scale, so heights compare across panels. A margin should move the mass to the left (smaller angles) and make it narrower. ${theta.softmaxLabel ? `The grey dashed outline in every panel is ${esc(theta.softmaxLabel)}, for reference. ` : ''}The dashed vertical line marks the median, also given under each panel's title.</figcaption>
${lineLegend([...data.runs.map((r, k) => ({ name: r.label, colour: styles[k]!.colour, dash: styles[k]!.dash, kind: 'fill' as const })), ...(theta.softmaxLabel ? [{ name: `${theta.softmaxLabel} (reference outline)`, colour: '#9a9a9a', dash: '3 2' }] : [])])}
<div class="grid">${theta.panels.join('\n')}</div>
</figure>
</section>
<section>
<h2>4. Open-set verification: ROC</h2>
<figure id="fig-roc">
<figcaption><strong>What to look at:</strong> true accept rate (genuine pairs accepted) against false accept rate (impostor pairs accepted) on a log axis, FAR from 10⁻⁴ to 1, on the open-set verification pairs (seen and unseen classes). Higher is better; the left part matters most for face verification. Dashed lines mark FAR = 10⁻³ and 10⁻², and the dots are each loss's TAR there (the numbers are in the table).${impostors ? ` With ${count(impostors)} impostor pairs the smallest measurable FAR is ${esc(scientific(1 / impostors))}${impostors < 1e4 ? '; left of that the curve is interpolated, not measured' : ', so the whole axis is measured'}.` : ''}</figcaption>
${runLegend}
${rocFigure(data, styles)}
</figure>
</section>
<section>
<h2>5. Results</h2>
<figure id="fig-results">
<figcaption><strong>What to read:</strong> one row per loss. Closed-set accuracy is nearest-centre classification of held-out images of the seen classes (2-D run and ${esc(dims)} run). The rest is open-set verification with the ${esc(dims)} embeddings: 10-fold accuracy (LFW protocol, mean ± standard deviation over folds), area under the ROC, equal error rate, and TAR at FAR 10⁻³ and 10⁻² with 95% intervals. Time is the wall time of both runs. <strong>Bold</strong> is the best value of each column (highest, or lowest for EER and time); ties as printed are all bold.</figcaption>
${resultsTableHtml(data, styles)}
<p class="verdict" id="verdict">${esc(verdictText(data))}</p>
</figure>
</section>
<section>
<h2>6. Training loss</h2>
<figure id="fig-loss">
<figcaption><strong>What to look at:</strong> the shape of each curve, not its height. Each loss has its own panel and its own y scale (from 0): solid is the ${esc(dims)} run, dashed the 2-D run. Margin losses are on another scale by design: the margin lowers the target logit and the scale s multiplies all logits, so their loss stays higher than plain softmax's even when they separate classes better. Compare accuracy, angles and TAR instead; the subtitle gives first → last epoch.</figcaption>
<ul class="legend"><li><svg width="28" height="12" viewBox="0 0 28 12" aria-hidden="true"><line x1="1" x2="27" y1="6" y2="6" stroke="#444" stroke-width="2.5"/></svg>${esc(dims)} run</li><li><svg width="28" height="12" viewBox="0 0 28 12" aria-hidden="true"><line x1="1" x2="27" y1="6" y2="6" stroke="#444" stroke-width="2" stroke-dasharray="5 3"/></svg>2-D run</li></ul>
<div class="grid">${lossPanels.join('\n')}</div>
</figure>
</section>
</main>
<footer>Generated by the marginkit demo (examples/src/report/render.ts). Self-contained: inline SVG and CSS, no scripts, no network requests.</footer>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(data.title)}</title>
<link rel="icon" href="data:,">
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
