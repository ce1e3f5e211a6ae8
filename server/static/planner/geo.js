// Plane geometry for the placement map: WGS 84 degrees <-> local east/north metres, and a design's
// footprint from its upload bounds and anchor. No DOM here.
//
// The map projects around its view centre (an equirectangular tangent plane): over the few hundred
// metres a planner looks at, the distortion is below a centimetre per hundred metres, far under what a
// mouse can point at. The exact placement (UTM, meridian convergence) is the builder's job; its
// placement report is drawn next to this preview of it.

/** Metres per degree of latitude on the WGS 84 sphere of equal area (good to 0.5 % at any latitude). */
export const M_PER_DEG = (Math.PI / 180) * 6371008.8;

/**
 * East/north metres of (lon, lat) from a centre.
 * @param {number} lon @param {number} lat degrees
 * @param {{lon: number, lat: number}} centre degrees
 * @returns {[number, number]} [east, north] metres
 */
export function toMetres(lon, lat, centre) {
  const k = Math.cos((centre.lat * Math.PI) / 180);
  return [(lon - centre.lon) * M_PER_DEG * k, (lat - centre.lat) * M_PER_DEG];
}

/**
 * Degrees of a point east/north metres from a centre (the inverse of {@link toMetres}).
 * @param {number} east @param {number} north metres
 * @param {{lon: number, lat: number}} centre degrees
 * @returns {{lon: number, lat: number}}
 */
export function toDegrees(east, north, centre) {
  const k = Math.cos((centre.lat * Math.PI) / 180);
  return { lon: centre.lon + east / (M_PER_DEG * k), lat: centre.lat + north / M_PER_DEG };
}

/**
 * Turn a design-local vector (x east, y north when heading is 0) by a heading clockwise from north.
 * @param {number} x @param {number} y local metres
 * @param {number} heading degrees clockwise from true north of the design's +Y axis
 * @returns {[number, number]} [east, north]
 */
export function rotate(x, y, heading) {
  const h = (heading * Math.PI) / 180;
  const c = Math.cos(h);
  const s = Math.sin(h);
  // +Y turns to (sin h, cos h) and +X to (cos h, -sin h): clockwise seen from above.
  return [x * c + y * s, -x * s + y * c];
}

/**
 * The design's bounding rectangle on the ground, as placed by an anchor.
 * @param {number[][]} bounds (2, 3) min and max corner of the design in its local frame (upload info)
 * @param {{heading: number, scale: number}} anchor
 * @param {[number, number]} pivot the local point at the anchor's position (see {@link placedRings})
 * @returns {[number, number][]} 4 corners, [east, north] metres from the anchor point, counter-clockwise
 */
export function footprint(bounds, anchor, pivot = [0, 0]) {
  const [[x0, y0], [x1, y1]] = bounds;
  return placedRings([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], anchor, pivot)[0];
}

/**
 * The design's real footprint on the ground, as placed by an anchor.
 * @param {number[][][]} rings outer rings of [x, y] in the design's local frame (upload info `footprint`)
 * @param {{heading: number, scale: number}} anchor
 * @param {[number, number]} pivot the local point at the anchor's position: [0, 0] (the origin) or the
 *   footprint's centre
 * @returns {[number, number][][]} rings of [east, north] metres from the anchor point
 */
export function placedRings(rings, anchor, pivot = [0, 0]) {
  const s = anchor.scale || 1;
  return rings.map((ring) => ring.map(([x, y]) => rotate((x - pivot[0]) * s, (y - pivot[1]) * s, anchor.heading || 0)));
}

/**
 * Heading (degrees clockwise from north, in [0, 360)) of the direction east/north.
 * @param {number} east @param {number} north
 * @returns {number}
 */
export function headingOf(east, north) {
  return normaliseHeading((Math.atan2(east, north) * 180) / Math.PI);
}

/** @param {number} h degrees @returns {number} the same direction in [0, 360), 0.1° steps */
export function normaliseHeading(h) {
  const r = Math.round((((h % 360) + 360) % 360) * 10) / 10;
  return r === 360 ? 0 : r;
}

/**
 * Is a point inside a polygon (even-odd rule)?
 * @param {[number, number]} p @param {[number, number][]} ring
 * @returns {boolean}
 */
export function inside(p, ring) {
  let hit = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

/**
 * The outer rings of a GeoJSON Polygon or MultiPolygon, in degrees.
 * @param {object} geometry
 * @returns {number[][][]} rings of [lon, lat]
 */
export function outerRings(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return geometry.coordinates.slice(0, 1);
  if (geometry.type === 'MultiPolygon') return geometry.coordinates.map((p) => p[0]);
  return [];
}

/** @param {number} v degrees @returns {number} rounded to 7 decimals (about 1 cm) */
export function roundDeg(v) {
  return Math.round(v * 1e7) / 1e7;
}
