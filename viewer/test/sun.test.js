import { describe, expect, it } from 'vitest';
import { refraction, solarCoordinates, sunDirectionEnu, sunDirectionWorld, sunPosition, sunTimes } from '../src/sun.js';

const HAMBURG = { lat: 53.5511, lon: 9.9937 };
const minutesBetween = (a, b) => Math.abs(a.getTime() - b.getTime()) / 60000;

describe('sunPosition', () => {
  it('matches the SPA paper test case (Reda & Andreas 2004, NREL/TP-560-34302, Table A5.1)', () => {
    // 2003-10-17 12:30:30 local time at UTC-7, Golden CO: topocentric zenith 50.11162, azimuth 194.34024.
    const p = sunPosition(new Date(Date.UTC(2003, 9, 17, 19, 30, 30)), 39.742476, -105.1786);
    expect(p.zenith).toBeCloseTo(50.11162, 1);
    expect(Math.abs(p.zenith - 50.11162)).toBeLessThan(0.02);
    expect(Math.abs(p.azimuth - 194.34024)).toBeLessThan(0.02);
  });

  it('gives the solstice noon elevation in Hamburg (90 - lat + 23.44 plus refraction)', () => {
    const { noon } = sunTimes(new Date(Date.UTC(2024, 5, 21)), HAMBURG.lat, HAMBURG.lon);
    const p = sunPosition(noon, HAMBURG.lat, HAMBURG.lon);
    expect(Math.abs(p.elevation - (90 - HAMBURG.lat + 23.4373) - refraction(59.886))).toBeLessThan(0.02);
    expect(Math.abs(p.azimuth - 180)).toBeLessThan(0.1);
  });

  it('puts the morning sun in the east and the evening sun in the west', () => {
    const morning = sunPosition(new Date(Date.UTC(2024, 2, 20, 6, 0)), HAMBURG.lat, HAMBURG.lon);
    const evening = sunPosition(new Date(Date.UTC(2024, 2, 20, 17, 0)), HAMBURG.lat, HAMBURG.lon);
    expect(morning.azimuth).toBeGreaterThan(90);
    expect(morning.azimuth).toBeLessThan(120);
    expect(evening.azimuth).toBeGreaterThan(240);
    expect(evening.azimuth).toBeLessThan(270);
    const night = sunPosition(new Date(Date.UTC(2024, 2, 20, 23, 0)), HAMBURG.lat, HAMBURG.lon);
    expect(night.elevation).toBeLessThan(-10);
  });
});

describe('solarCoordinates', () => {
  it('has the known declination at the solstices', () => {
    expect(solarCoordinates(new Date(Date.UTC(2024, 5, 20, 20, 51))).declination).toBeCloseTo(23.44, 2);
    expect(solarCoordinates(new Date(Date.UTC(2024, 11, 21, 9, 21))).declination).toBeCloseTo(-23.44, 2);
  });

  it('has the published equation-of-time extremes (about -14.2 min in February, +16.4 min in November)', () => {
    expect(solarCoordinates(new Date(Date.UTC(2024, 1, 11, 12))).equationOfTime).toBeCloseTo(-14.2, 0);
    expect(solarCoordinates(new Date(Date.UTC(2024, 10, 3, 12))).equationOfTime).toBeCloseTo(16.4, 0);
  });
});

describe('sunTimes', () => {
  it('gives Hamburg solstice sunrise and sunset as published (04:51 and 21:53 CEST)', () => {
    const t = sunTimes(new Date(Date.UTC(2024, 5, 21)), HAMBURG.lat, HAMBURG.lon);
    expect(minutesBetween(t.sunrise, new Date(Date.UTC(2024, 5, 21, 2, 51)))).toBeLessThan(3);
    expect(minutesBetween(t.sunset, new Date(Date.UTC(2024, 5, 21, 19, 53)))).toBeLessThan(3);
  });

  it('puts the sun on the horizon (-0.833 deg apparent) at sunrise', () => {
    const t = sunTimes(new Date(Date.UTC(2024, 8, 1)), HAMBURG.lat, HAMBURG.lon);
    const p = sunPosition(t.sunrise, HAMBURG.lat, HAMBURG.lon);
    // -0.833 is the geometric altitude of the upper limb; refraction lifts the apparent centre to about -0.27.
    expect(Math.abs(p.elevation - (-0.833 + refraction(-0.833)))).toBeLessThan(0.05);
  });

  it('returns null in polar night', () => {
    const t = sunTimes(new Date(Date.UTC(2024, 11, 21)), 80, 15);
    expect(t.sunrise).toBeNull();
    expect(t.sunset).toBeNull();
  });
});

describe('sun directions', () => {
  it('is a unit vector pointing up at the zenith and north at azimuth 0', () => {
    const up = sunDirectionEnu(0, 90);
    expect(up[2]).toBeCloseTo(1, 9);
    const north = sunDirectionEnu(0, 0);
    expect(north[1]).toBeCloseTo(1, 9);
    const east = sunDirectionEnu(90, 0);
    expect(east[0]).toBeCloseTo(1, 9);
  });

  it('maps to world axes +X west, +Y up, +Z north', () => {
    const d = sunDirectionWorld(new Date(Date.UTC(2024, 2, 20, 6, 0)), HAMBURG.lat, HAMBURG.lon);
    expect(Math.hypot(...d)).toBeCloseTo(1, 9);
    expect(d[0]).toBeLessThan(-0.5); // morning sun in the east = -X
  });
});
