/**
 * Time for the sensors layer: local days in the source's time zone (a day is 23–25 h around the clock
 * change) and the stepper that replays one day in 15-minute steps (play, pause, speed, jump). No three.js,
 * no DOM: the panel and the XR strip drive a `TimeStepper`, the layer reads its `index`.
 */

/** One step of the replay: the counts' 15-minute interval, in seconds. */
export const STEP = 900;
/** Replay speeds in steps per second (1: a quarter hour a second; 16: a day in six seconds). */
export const SPEEDS = [1, 4, 16];

const DAY = 86_400;
const partsCache = new Map();

function formatter(tz) {
  if (!partsCache.has(tz)) {
    partsCache.set(
      tz,
      new Intl.DateTimeFormat('en-GB', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }),
    );
  }
  return partsCache.get(tz);
}

/**
 * The wall-clock fields of an instant in a time zone.
 * @param {number} ts UNIX seconds
 * @param {string} tz IANA time zone
 * @returns {{year: number, month: number, day: number, hour: number, minute: number, second: number}}
 */
export function zonedParts(ts, tz) {
  const out = {};
  for (const p of formatter(tz).formatToParts(new Date(ts * 1000))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/**
 * How far a time zone is ahead of UTC at an instant, in seconds (3600 for Berlin in winter).
 * @param {number} ts UNIX seconds
 * @param {string} tz
 */
export function zoneOffset(ts, tz) {
  const p = zonedParts(ts, tz);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / 1000 - Math.floor(ts);
}

/**
 * The local date (YYYY-MM-DD) of an instant.
 * @param {number} ts UNIX seconds
 * @param {string} tz
 */
export function localDate(ts, tz) {
  const p = zonedParts(ts, tz);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/**
 * Local midnight of a date, as UNIX seconds.
 * @param {string} date YYYY-MM-DD
 * @param {string} tz
 */
export function localMidnight(date, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date ?? '');
  if (!m) throw new RangeError(`not a date (YYYY-MM-DD): ${date}`);
  const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 1000;
  // Two rounds: the offset at the guess, then at the corrected instant (clock changes happen at night).
  let ts = utc - zoneOffset(utc, tz);
  ts = utc - zoneOffset(ts, tz);
  return ts;
}

/**
 * The date `days` after `date` (negative: before).
 * @param {string} date YYYY-MM-DD
 * @param {number} days
 */
export function addDays(date, days) {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * A local day as a half-open range of UNIX seconds.
 * @param {string} date YYYY-MM-DD
 * @param {string} tz
 * @returns {{date: string, start: number, end: number}}
 */
export function dayRange(date, tz) {
  return { date, start: localMidnight(date, tz), end: localMidnight(addDays(date, 1), tz) };
}

/**
 * The last local day the data covers completely (the day before the data's end, unless it ends at
 * midnight); the data's only day when it covers less than one.
 * @param {{start: number, end: number}} range the status's `time_range` (UNIX s)
 * @param {string} tz
 * @returns {string|null} YYYY-MM-DD
 */
export function lastFullDay(range, tz) {
  if (!range) return null;
  let date = localDate(range.end - 1, tz);
  if (dayRange(date, tz).end > range.end) date = addDays(date, -1);
  if (dayRange(date, tz).start < range.start) date = localDate(range.start, tz);
  return date;
}

/**
 * The steps of a day: the start of each 15-minute interval.
 * @param {{start: number, end: number}} day
 * @returns {number[]} UNIX seconds
 */
export function daySteps(day) {
  const out = [];
  for (let ts = day.start; ts < day.end; ts += STEP) out.push(ts);
  return out;
}

/** Replays a list of steps: an index, playing or paused, a speed in steps per second; wraps at the end. */
export class TimeStepper {
  /**
   * @param {number[]} steps UNIX seconds of each step
   * @param {{speed?: number, onChange?: (index: number) => void}} [options]
   */
  constructor(steps = [], { speed = SPEEDS[1], onChange = null } = {}) {
    this.steps = steps;
    this.index = 0;
    this.playing = false;
    this.speed = speed;
    this.onChange = onChange;
    this._carry = 0;
  }

  /** @returns {number|null} the current step's start (UNIX s) */
  get time() {
    return this.steps.length ? this.steps[this.index] : null;
  }

  /**
   * New steps (another day); keeps the same time of day where it can.
   * @param {number[]} steps
   * @param {number} [index] where to stand, default the same index (clamped)
   */
  setSteps(steps, index = this.index) {
    this.steps = steps;
    this._carry = 0;
    this.set(index);
  }

  /**
   * Stand on a step (clamped to the day).
   * @param {number} index
   */
  set(index) {
    const n = this.steps.length;
    const next = n ? Math.max(0, Math.min(n - 1, Math.round(index))) : 0;
    const changed = next !== this.index;
    this.index = next;
    if (changed || !n) this.onChange?.(this.index);
    return this.index;
  }

  /**
   * Stand on the step holding an instant (the last step when it is after the day).
   * @param {number} ts UNIX seconds
   */
  setTime(ts) {
    let i = this.steps.findIndex((s) => s > ts) - 1;
    if (i === -2) i = this.steps.length - 1;
    return this.set(Math.max(0, i));
  }

  /**
   * Move by whole steps, wrapping around the day.
   * @param {number} delta
   */
  step(delta) {
    const n = this.steps.length;
    if (!n) return 0;
    return this.set((((this.index + delta) % n) + n) % n);
  }

  play() {
    this.playing = true;
  }

  pause() {
    this.playing = false;
    this._carry = 0;
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
    return this.playing;
  }

  /** The next speed of SPEEDS (wrapping). */
  faster() {
    const i = SPEEDS.indexOf(this.speed);
    this.speed = SPEEDS[(i + 1) % SPEEDS.length];
    return this.speed;
  }

  /**
   * Advance by elapsed time while playing.
   * @param {number} dt seconds
   * @returns {boolean} whether the step changed
   */
  tick(dt) {
    if (!this.playing || !this.steps.length) return false;
    this._carry += dt * this.speed;
    const whole = Math.floor(this._carry);
    if (!whole) return false;
    this._carry -= whole;
    const before = this.index;
    this.step(whole);
    return this.index !== before;
  }
}
