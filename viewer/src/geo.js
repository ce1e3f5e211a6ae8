/**
 * Pure coordinate helpers (no three.js): WGS84 geodetic <-> ECEF, local ENU frames, and the
 * mapping between ENU and the viewer's world axes.
 *
 * World axes follow 3d-tiles-renderer's ReorientationPlugin, which puts the scene origin at
 * (0, 0, 0) with +X west, +Y up and +Z north. Every conversion between ENU and world goes
 * through `enuToWorld` / `worldToEnu` so the convention lives in one place.
 */

/** WGS84 semi-major axis in metres. */
export const WGS84_A = 6378137.0;
/** WGS84 flattening. */
export const WGS84_F = 1 / 298.257223563;
/** WGS84 first eccentricity squared. */
export const WGS84_E2 = WGS84_F * (2 - WGS84_F);

const DEG = Math.PI / 180;

/**
 * Geodetic (degrees, metres above the ellipsoid) to ECEF metres.
 * @param {number} lon longitude in degrees
 * @param {number} lat latitude in degrees
 * @param {number} [height=0] ellipsoidal height in metres
 * @returns {[number, number, number]} ECEF x, y, z
 */
export function geodeticToEcef(lon, lat, height = 0) {
  const phi = lat * DEG;
  const lam = lon * DEG;
  const sinPhi = Math.sin(phi);
  const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * sinPhi * sinPhi);
  const r = (n + height) * Math.cos(phi);
  return [r * Math.cos(lam), r * Math.sin(lam), (n * (1 - WGS84_E2) + height) * sinPhi];
}

/**
 * ECEF metres to geodetic, by Bowring's iteration (converges to < 1 mm in a few steps near the surface).
 * @param {number} x
 * @param {number} y
 * @param {number} z
 * @returns {{lon: number, lat: number, height: number}} degrees and metres
 */
export function ecefToGeodetic(x, y, z) {
  const p = Math.hypot(x, y);
  const lon = Math.atan2(y, x);
  // Start from the spherical latitude corrected for flattening, then refine.
  let lat = Math.atan2(z, p * (1 - WGS84_E2));
  let height = 0;
  for (let i = 0; i < 6; i++) {
    const sinLat = Math.sin(lat);
    const n = WGS84_A / Math.sqrt(1 - WGS84_E2 * sinLat * sinLat);
    height = p / Math.cos(lat) - n;
    lat = Math.atan2(z, p * (1 - (WGS84_E2 * n) / (n + height)));
  }
  return { lon: lon / DEG, lat: lat / DEG, height };
}

/**
 * Rotation from local ENU to ECEF at a point: the columns are east, north and up unit vectors.
 * @param {number} lon degrees
 * @param {number} lat degrees
 * @returns {number[][]} 3 x 3 matrix, rows-of-rows, `m[row][col]`
 */
export function enuRotation(lon, lat) {
  const sl = Math.sin(lon * DEG);
  const cl = Math.cos(lon * DEG);
  const sp = Math.sin(lat * DEG);
  const cp = Math.cos(lat * DEG);
  return [
    [-sl, -sp * cl, cp * cl],
    [cl, -sp * sl, cp * sl],
    [0, cp, sp],
  ];
}

/**
 * The 4 x 4 ENU -> ECEF transform at an origin, column-major as in tileset.json `transform`.
 * @param {number} lon degrees
 * @param {number} lat degrees
 * @param {number} [height=0] metres
 * @returns {number[]} 16 numbers, column-major
 */
export function enuToEcefTransform(lon, lat, height = 0) {
  const r = enuRotation(lon, lat);
  const o = geodeticToEcef(lon, lat, height);
  return [
    r[0][0], r[1][0], r[2][0], 0,
    r[0][1], r[1][1], r[2][1], 0,
    r[0][2], r[1][2], r[2][2], 0,
    o[0], o[1], o[2], 1,
  ];
}

/**
 * ECEF point to local ENU metres relative to an origin.
 * @param {{lon: number, lat: number, height?: number}} origin degrees, metres
 * @param {[number, number, number]} ecef point
 * @returns {[number, number, number]} east, north, up
 */
export function ecefToEnu(origin, ecef) {
  const o = geodeticToEcef(origin.lon, origin.lat, origin.height ?? 0);
  const r = enuRotation(origin.lon, origin.lat);
  const d = [ecef[0] - o[0], ecef[1] - o[1], ecef[2] - o[2]];
  // ENU = R^T d
  return [0, 1, 2].map((c) => r[0][c] * d[0] + r[1][c] * d[1] + r[2][c] * d[2]);
}

/**
 * Local ENU metres relative to an origin back to geodetic degrees.
 * @param {{lon: number, lat: number, height?: number}} origin
 * @param {[number, number, number]} enu east, north, up
 * @returns {{lon: number, lat: number, height: number}}
 */
export function enuToGeodetic(origin, enu) {
  const o = geodeticToEcef(origin.lon, origin.lat, origin.height ?? 0);
  const r = enuRotation(origin.lon, origin.lat);
  const x = o[0] + r[0][0] * enu[0] + r[0][1] * enu[1] + r[0][2] * enu[2];
  const y = o[1] + r[1][0] * enu[0] + r[1][1] * enu[1] + r[1][2] * enu[2];
  const z = o[2] + r[2][0] * enu[0] + r[2][1] * enu[1] + r[2][2] * enu[2];
  return ecefToGeodetic(x, y, z);
}

/**
 * ENU (east, north, up) to viewer world axes (+X west, +Y up, +Z north).
 * @param {[number, number, number]} enu
 * @returns {[number, number, number]} world x, y, z
 */
export function enuToWorld(enu) {
  return [-enu[0], enu[2], enu[1]];
}

/**
 * Viewer world axes back to ENU.
 * @param {[number, number, number]} world
 * @returns {[number, number, number]} east, north, up
 */
export function worldToEnu(world) {
  return [-world[0], world[2], world[1]];
}

/**
 * Great-circle distance on the WGS84 mean sphere (haversine), good to ~0.5 % for district scales.
 * @returns {number} metres
 */
export function haversineDistance(lon1, lat1, lon2, lat2) {
  const R = 6371008.8;
  const dLat = (lat2 - lat1) * DEG;
  const dLon = (lon2 - lon1) * DEG;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * DEG) * Math.cos(lat2 * DEG) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

/**
 * Centre of a [west, south, east, north] box in degrees.
 * @param {number[]} bounds
 * @returns {{lon: number, lat: number}}
 */
export function boundsCenter(bounds) {
  return { lon: (bounds[0] + bounds[2]) / 2, lat: (bounds[1] + bounds[3]) / 2 };
}

/**
 * Split a 3D segment into its total, horizontal and vertical (height) lengths.
 * @param {[number, number, number]} a world point (Y up)
 * @param {[number, number, number]} b world point (Y up)
 * @returns {{distance: number, horizontal: number, height: number}} metres; height is b minus a
 */
export function segmentMeasures(a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const dz = b[2] - a[2];
  return { distance: Math.hypot(dx, dy, dz), horizontal: Math.hypot(dx, dz), height: dy };
}

/**
 * Uniform scale that fits a horizontal extent onto a table of a given size, snapped to a
 * "nice" map ratio (1:100, 1:200, 1:250, 1:500, 1:1000, ... ) so the visitor reads a real scale.
 * @param {number} extent metres across the scene
 * @param {number} tableSize metres across the table top
 * @returns {number} scale factor, e.g. 1/500
 */
export function tabletopScale(extent, tableSize) {
  const needed = Math.max(1, extent / Math.max(tableSize, 1e-6));
  const steps = [1, 2, 2.5, 5];
  for (let decade = 1; decade < 1e7; decade *= 10) {
    for (const s of steps) {
      if (s * decade >= needed) return 1 / (s * decade);
    }
  }
  return 1 / 1e7;
}

/**
 * Format a length for display with a sensible precision.
 * @param {number} metres
 * @param {string} [locale='en']
 * @returns {string}
 */
export function formatLength(metres, locale = 'en') {
  const abs = Math.abs(metres);
  if (abs >= 1000) {
    return `${(metres / 1000).toLocaleString(locale, { maximumFractionDigits: 2 })} km`;
  }
  return `${metres.toLocaleString(locale, { maximumFractionDigits: abs < 10 ? 2 : 1 })} m`;
}
