import { describe, expect, it } from 'vitest';
import { legend, NO_DATA, niceMax, rampColour, RAMP, toHex } from '../src/sensors/ramp.js';
import { addDays, dayRange, daySteps, lastFullDay, localDate, localMidnight, SPEEDS, STEP, TimeStepper, zoneOffset } from '../src/sensors/time.js';

const TZ = 'Europe/Berlin';

describe('local days', () => {
  it('finds local midnight in Berlin, winter and summer', () => {
    expect(localMidnight('2023-03-23', TZ)).toBe(Date.UTC(2023, 2, 22, 23) / 1000);
    expect(localMidnight('2023-07-01', TZ)).toBe(Date.UTC(2023, 5, 30, 22) / 1000);
    expect(zoneOffset(Date.UTC(2023, 0, 1) / 1000, TZ)).toBe(3600);
    expect(() => localMidnight('23.03.2023', TZ)).toThrow(RangeError);
  });

  it('has 92, 96 and 100 steps around the clock changes', () => {
    expect(daySteps(dayRange('2023-03-26', TZ))).toHaveLength(92);
    expect(daySteps(dayRange('2023-03-23', TZ))).toHaveLength(96);
    expect(daySteps(dayRange('2023-10-29', TZ))).toHaveLength(100);
    expect(daySteps(dayRange('2023-03-23', TZ))[1] - daySteps(dayRange('2023-03-23', TZ))[0]).toBe(STEP);
  });

  it('takes the last full day of the data', () => {
    // Hamburg's recording: 22 March 00:00 to 24 March 00:00 local (23:00 UTC).
    const range = { start: localMidnight('2023-03-22', TZ), end: localMidnight('2023-03-24', TZ) };
    expect(lastFullDay(range, TZ)).toBe('2023-03-23');
    // Ending in the middle of the 24th: still the 23rd.
    expect(lastFullDay({ ...range, end: range.end + 5 * 3600 }, TZ)).toBe('2023-03-23');
    // Less than a day: that day.
    expect(lastFullDay({ start: range.start + 3600, end: range.start + 7200 }, TZ)).toBe('2023-03-22');
    expect(lastFullDay(null, TZ)).toBeNull();
    expect(localDate(range.start, TZ)).toBe('2023-03-22');
    expect(addDays('2023-03-01', -1)).toBe('2023-02-28');
  });
});

describe('TimeStepper', () => {
  const steps = daySteps(dayRange('2023-03-23', TZ));

  it('steps, wraps around the day and reports changes', () => {
    const seen = [];
    const s = new TimeStepper(steps, { onChange: (i) => seen.push(i) });
    s.step(1);
    s.step(-2);
    expect(s.index).toBe(95);
    s.set(500);
    expect(s.index).toBe(95);
    s.set(-3);
    expect(s.index).toBe(0);
    expect(seen).toEqual([1, 95, 0]);
    expect(s.time).toBe(steps[0]);
  });

  it('plays at its speed and pauses', () => {
    const s = new TimeStepper(steps, { speed: 4 });
    expect(s.tick(1)).toBe(false); // paused
    s.play();
    s.tick(0.1);
    expect(s.index).toBe(0);
    s.tick(0.2); // 0.3 s at 4 steps/s: one step
    expect(s.index).toBe(1);
    s.tick(1);
    expect(s.index).toBe(5);
    s.pause();
    s.tick(10);
    expect(s.index).toBe(5);
    expect(s.toggle()).toBe(true);
  });

  it('cycles speeds, jumps to an instant and keeps the index on a new day', () => {
    const s = new TimeStepper(steps, { speed: SPEEDS[0] });
    expect(s.faster()).toBe(SPEEDS[1]);
    expect(s.faster()).toBe(SPEEDS[2]);
    expect(s.faster()).toBe(SPEEDS[0]);
    s.setTime(steps[10] + 60);
    expect(s.index).toBe(10);
    s.setTime(steps[95] + 10_000);
    expect(s.index).toBe(95);
    s.set(40);
    s.setSteps(daySteps(dayRange('2023-03-22', TZ)));
    expect(s.index).toBe(40);
  });
});

describe('colour ramp', () => {
  it('runs from the first stop to the last, grey without a count', () => {
    expect(rampColour(0, 100)).toEqual(RAMP[0][1]);
    expect(rampColour(100, 100)).toEqual(RAMP[4][1]);
    expect(rampColour(1e6, 100)).toEqual(RAMP[4][1]);
    expect(rampColour(-5, 100)).toEqual(RAMP[0][1]);
    expect(rampColour(50, 100)).toEqual(RAMP[2][1]);
    expect(rampColour(null, 100)).toEqual(NO_DATA);
    expect(rampColour(Number.NaN, 100)).toEqual(NO_DATA);
    expect(rampColour(3, 0)).toEqual(RAMP[0][1]);
  });

  it('interpolates between stops and grows darker with the count', () => {
    const [a, b] = [rampColour(12.5, 100), rampColour(37.5, 100)];
    expect(a).toEqual(RAMP[0][1].map((c, k) => Math.round((c + RAMP[1][1][k]) / 2)));
    const lum = (c) => c[0] * 0.3 + c[1] * 0.59 + c[2] * 0.11;
    expect(lum(a)).toBeGreaterThan(lum(b));
  });

  it('rounds the top of the ramp and makes a legend', () => {
    expect(niceMax([3, 47, null, 12])).toBe(50);
    expect(niceMax([101])).toBe(200);
    expect(niceMax([])).toBe(1);
    expect(niceMax([0.2])).toBe(1);
    const l = legend(50);
    expect(l.map((e) => e.value)).toEqual([0, 13, 25, 38, 50]);
    expect(l[0].colour).toBe(toHex(RAMP[0][1]));
    expect(toHex([255, 0, 16])).toBe('#ff0010');
  });
});
