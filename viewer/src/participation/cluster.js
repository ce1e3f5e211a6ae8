/**
 * Pins near the eye stay single and readable; farther ones are merged into clusters on a grid whose
 * cells double in size with each doubling of the distance (so a district seen from afar shows a few
 * counted markers, a street a few dozen pins). Pure math on plain {x, y, z} points, no three.js.
 */

/** Distance (metres, scene units) within which every pin is shown on its own. */
export const NEAR = 120;

/**
 * Group points for display.
 * @param {{x: number, y: number, z: number}[]} points world-local positions (Y up)
 * @param {{x: number, y: number, z: number}} eye world-local eye position
 * @param {{near?: number}} [options]
 * @returns {{members: number[], x: number, y: number, z: number, distance: number}[]} nearest first
 */
export function cluster(points, eye, { near = NEAR } = {}) {
  const cells = new Map();
  const out = [];
  points.forEach((p, i) => {
    const d = Math.hypot(p.x - eye.x, p.y - eye.y, p.z - eye.z);
    if (d < near) {
      out.push({ members: [i], x: p.x, y: p.y, z: p.z, distance: d });
      return;
    }
    const level = Math.ceil(Math.log2(d / near));
    const size = (near / 4) * 2 ** level;
    const key = `${level}:${Math.floor(p.x / size)}:${Math.floor(p.z / size)}`;
    let c = cells.get(key);
    if (!c) cells.set(key, (c = { members: [], x: 0, y: 0, z: 0 }));
    c.members.push(i);
    c.x += p.x;
    c.y = Math.max(c.y, p.y);
    c.z += p.z;
  });
  for (const c of cells.values()) {
    c.x /= c.members.length;
    c.z /= c.members.length;
    c.distance = Math.hypot(c.x - eye.x, c.y - eye.y, c.z - eye.z);
    out.push(c);
  }
  return out.sort((a, b) => a.distance - b.distance);
}
