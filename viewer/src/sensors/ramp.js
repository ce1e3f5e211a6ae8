/**
 * The sensors layer's colour ramp: counts per 15 minutes from pale yellow (few) over orange to dark red
 * (many), grey for no count, with a legend of rounded steps. Pure functions, shared by the road sections,
 * the legend in the panel and the tests.
 */

/** Ramp stops: share of the maximum → sRGB colour. */
export const RAMP = [
  [0, [255, 245, 190]],
  [0.25, [254, 204, 92]],
  [0.5, [253, 141, 60]],
  [0.75, [227, 26, 28]],
  [1, [128, 0, 38]],
];
/** A section without a count in this step. */
export const NO_DATA = [160, 160, 160];

/**
 * The colour of a count.
 * @param {number|null|undefined} value count in the step (null: none)
 * @param {number} max the count at the top of the ramp
 * @returns {number[]} [r, g, b], 0–255
 */
export function rampColour(value, max) {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_DATA;
  const x = max > 0 ? Math.max(0, Math.min(1, value / max)) : 0;
  for (let i = 1; i < RAMP.length; i++) {
    const [x1, c1] = RAMP[i];
    if (x <= x1) {
      const [x0, c0] = RAMP[i - 1];
      const f = (x - x0) / (x1 - x0);
      return c0.map((c, k) => Math.round(c + (c1[k] - c) * f));
    }
  }
  return RAMP[RAMP.length - 1][1];
}

/**
 * A round number at or above the largest value (1, 2 or 5 times a power of ten), at least 1.
 * @param {Iterable<number|null>} values
 */
export function niceMax(values) {
  let max = 0;
  for (const v of values) if (Number.isFinite(v) && v > max) max = v;
  if (max <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/**
 * Legend entries from 0 to max.
 * @param {number} max
 * @param {number} [n] entries
 * @returns {{value: number, colour: string}[]} colours as CSS hex
 */
export function legend(max, n = 5) {
  return Array.from({ length: n }, (_, i) => {
    const value = Math.round((max * i) / (n - 1));
    return { value, colour: toHex(rampColour(value, max)) };
  });
}

/**
 * @param {number[]} rgb 0–255
 * @returns {string} '#rrggbb'
 */
export function toHex(rgb) {
  return `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}
