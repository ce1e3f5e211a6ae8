import { describe, expect, it } from 'vitest';
import {
  boundsCenter,
  ecefToEnu,
  ecefToGeodetic,
  enuToEcefTransform,
  enuToGeodetic,
  enuToWorld,
  formatLength,
  geodeticToEcef,
  haversineDistance,
  segmentMeasures,
  tabletopScale,
  worldToEnu,
} from '../src/geo.js';

describe('geodetic <-> ECEF', () => {
  it('puts (0, 0, 0) on the equator at the semi-major axis', () => {
    const [x, y, z] = geodeticToEcef(0, 0, 0);
    expect(x).toBeCloseTo(6378137, 6);
    expect(y).toBeCloseTo(0, 6);
    expect(z).toBeCloseTo(0, 6);
  });

  it('puts the north pole at the semi-minor axis', () => {
    expect(geodeticToEcef(0, 90, 0)[2]).toBeCloseTo(6356752.314245, 3);
  });

  it('round-trips Hamburg to the millimetre', () => {
    const p = geodeticToEcef(9.9937, 53.5511, 42.5);
    // Reference from pyproj (EPSG:4979 -> EPSG:4978).
    expect(p[0]).toBeCloseTo(3739924.9658, 3);
    expect(p[1]).toBeCloseTo(659025.6738, 3);
    expect(p[2]).toBeCloseTo(5107252.5002, 3);
    const g = ecefToGeodetic(...p);
    expect(g.lon).toBeCloseTo(9.9937, 9);
    expect(g.lat).toBeCloseTo(53.5511, 9);
    expect(g.height).toBeCloseTo(42.5, 3);
  });
});

describe('local ENU', () => {
  const origin = { lon: 9.956, lat: 53.576, height: 10 };

  it('maps the origin to (0, 0, 0) and 100 m east back and forth', () => {
    expect(ecefToEnu(origin, geodeticToEcef(origin.lon, origin.lat, origin.height)).map((v) => Math.abs(v) < 1e-6)).toEqual([true, true, true]);
    const g = enuToGeodetic(origin, [100, 0, 0]);
    const back = ecefToEnu(origin, geodeticToEcef(g.lon, g.lat, g.height));
    expect(back[0]).toBeCloseTo(100, 6);
    expect(back[1]).toBeCloseTo(0, 6);
    expect(back[2]).toBeCloseTo(0, 6);
  });

  it('builds a column-major transform whose last column is the origin in ECEF', () => {
    const m = enuToEcefTransform(origin.lon, origin.lat, origin.height);
    const o = geodeticToEcef(origin.lon, origin.lat, origin.height);
    expect(m.slice(12, 15)).toEqual(o);
    // The up column equals the ellipsoid normal.
    const up = m.slice(8, 11);
    expect(Math.hypot(...up)).toBeCloseTo(1, 12);
    expect(up[2]).toBeCloseTo(Math.sin((origin.lat * Math.PI) / 180), 12);
  });

  it('agrees with the haversine distance for 1 km north', () => {
    const g = enuToGeodetic(origin, [0, 1000, 0]);
    expect(haversineDistance(origin.lon, origin.lat, g.lon, g.lat)).toBeCloseTo(1000, -1);
  });
});

describe('world axes', () => {
  it('uses +X west, +Y up, +Z north and inverts', () => {
    expect(enuToWorld([1, 2, 3])).toEqual([-1, 3, 2]);
    expect(worldToEnu(enuToWorld([1, 2, 3]))).toEqual([1, 2, 3]);
  });
});

describe('measures and scales', () => {
  it('splits a segment into distance, horizontal and height', () => {
    const m = segmentMeasures([0, 0, 0], [3, 12, 4]);
    expect(m.distance).toBeCloseTo(13, 12);
    expect(m.horizontal).toBeCloseTo(5, 12);
    expect(m.height).toBe(12);
  });

  it('snaps the table-top scale to a nice ratio', () => {
    expect(tabletopScale(600, 1.2)).toBeCloseTo(1 / 500, 12);
    expect(tabletopScale(1300, 1.2)).toBeCloseTo(1 / 2000, 12);
    expect(tabletopScale(50, 1.2)).toBeCloseTo(1 / 50, 12);
    expect(tabletopScale(0.5, 1.2)).toBe(1);
  });

  it('centres bounds and formats lengths', () => {
    expect(boundsCenter([9.9, 53.5, 10.1, 53.7])).toEqual({ lon: 10, lat: 53.6 });
    expect(formatLength(12.345)).toBe('12.3 m');
    expect(formatLength(1234.5)).toBe('1.23 km');
    expect(formatLength(1.5, 'de')).toBe('1,5 m');
  });
});
