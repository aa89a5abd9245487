/**
 * Escaping and number formatting for the report. Every number the report prints goes through
 * one of these: a non-finite value prints as an em dash, never as 'NaN' or 'Infinity'.
 */

/** The placeholder printed for a missing or non-finite number. */
export const DASH = '—';

/** Escapes text for HTML and SVG, in element content and in attribute values (quotes too). */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A finite number, not NaN, not ±Infinity, not a non-number. */
export function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** `v.toFixed(digits)` without a '-0.0'. */
function fixed(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return /^-0(?:\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** A number with `digits` decimals, or '—'. */
export function num(v: number | null | undefined, digits: number): string {
  return finite(v) ? fixed(v, digits) : DASH;
}

/** A rate 0..1 as a percentage with `digits` decimals ('93.1%'), or '—'. */
export function pct(v: number | null | undefined, digits = 1): string {
  return finite(v) ? `${fixed(100 * v, digits)}%` : DASH;
}

/** A rate 0..1 as a bare percentage number ('93.1'), or '—'. */
export function pctNumber(v: number | null | undefined, digits = 1): string {
  return finite(v) ? fixed(100 * v, digits) : DASH;
}

/** A general number for settings and tick labels: integers as they are, others to 4 significant digits. */
export function general(v: number): string {
  if (!finite(v)) return DASH;
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const abs = Math.abs(v);
  if (abs >= 1e-3 && abs < 1e6) return String(+v.toPrecision(4));
  return v.toExponential(2).replace('e+', 'e');
}

/** A count with thousands separators: '1,800,000' (plain digits below 10,000); '—' when not a finite number. */
export function count(v: number): string {
  if (!finite(v)) return DASH;
  const s = String(Math.round(Math.abs(v)));
  const grouped = Math.abs(v) < 1e4 ? s : s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return v < 0 ? `-${grouped}` : grouped;
}

/** A duration: '0.31 s', '12.3 s', '4 min 05 s', '1 h 02 min'; '—' when non-finite or negative. */
export function duration(seconds: number): string {
  if (!finite(seconds) || seconds < 0) return DASH;
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  if (total < 3600) return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, '0')} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

/** A power of ten as '10⁻³' ('1' for 10⁰, '10' for 10¹). */
export function powerOfTen(v: number): string {
  if (!finite(v) || v <= 0) return DASH;
  const e = Math.round(Math.log10(v));
  if (e === 0) return '1';
  if (e === 1) return '10';
  return `10${String(e)
    .split('')
    .map((c) => SUPERSCRIPT[c] ?? c)
    .join('')}`;
}

/** A positive number as '6.7 × 10⁻⁵' (plain below 10⁴ and from 0.01). */
export function scientific(v: number): string {
  if (!finite(v)) return DASH;
  if (v === 0 || (Math.abs(v) >= 0.01 && Math.abs(v) < 1e4)) return general(v);
  const e = Math.floor(Math.log10(Math.abs(v)));
  const mantissa = v / 10 ** e;
  return `${+mantissa.toFixed(1)} × ${powerOfTen(10 ** e)}`;
}

/** An ISO date as 'YYYY-MM-DD HH:MM UTC' when it parses, else the text as given. */
export function dateText(iso: string): string {
  const t = Date.parse(iso);
  if (!finite(t)) return iso;
  const d = new Date(t).toISOString();
  return `${d.slice(0, 10)} ${d.slice(11, 16)} UTC`;
}

/** Shortens text to `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

/** A string safe for an id attribute (and a CSS selector): lowercase letters, digits and dashes. */
export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'x'
  );
}

/** Coordinates for SVG attributes: one decimal, and never 'NaN' (non-finite becomes 0). */
export function c1(v: number): string {
  return finite(v) ? fixed(v, 1) : '0';
}
