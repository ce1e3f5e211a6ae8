/**
 * The stations in 3D: one InstancedMesh per kind (bicycle: a round green post, car: a square purple
 * one), every counted road section in a single mesh with vertex colours (a ribbon along a LineString,
 * a disc around a Point: 95 % of Hamburg's stations give only a Point), and canvas-sprite labels for
 * the nearest few. So the VR frame pays about four draw calls for all stations. Markers and labels keep
 * about the same size on screen whatever the distance, as the participation pins do.
 */
import {
  BoxGeometry,
  BufferAttribute,
  BufferGeometry,
  CylinderGeometry,
  DoubleSide,
  Group,
  InstancedMesh,
  Matrix4,
  Mesh,
  MeshBasicMaterial,
  Quaternion,
  Raycaster,
  Vector3,
} from 'three';
import { drawLabel, labelSprite } from '../participation/markers.js';
import { rampColour, toHex } from './ramp.js';

/** Marker and label colours by kind. */
export const KIND_COLOURS = { bicycle: '#2e7d32', car: '#6a1b9a', other: '#455a64' };
/** Marker height as a share of its distance from the eye (about 1.7 degrees of view). */
const SIZE = 0.03;
const SECTION_WIDTH = 5;
const DISC_RADIUS = 12;
const DISC_SEGMENTS = 18;
const _m = new Matrix4();
const _q = new Quaternion();
const _s = new Vector3();
const _p = new Vector3();

function geometryFor(kind) {
  // A post with its foot on the station: round for bicycles, square for cars.
  // Thin, so that the coloured section under it stays in sight from afar.
  const g = kind === 'car' ? new BoxGeometry(0.22, 1, 0.22) : new CylinderGeometry(0.12, 0.12, 1, 12);
  return g.translate(0, 0.5, 0);
}

/**
 * Triangles of one station's section: a ribbon along `line` (world-local points), or a disc around
 * `centre`. Returns flat (x, y, z) positions, a triangle list.
 * @param {{x: number, y: number, z: number}[]} line two or more points, or one (a disc)
 * @returns {number[]}
 */
export function sectionTriangles(line) {
  const out = [];
  if (line.length === 1) {
    const c = line[0];
    for (let i = 0; i < DISC_SEGMENTS; i++) {
      const a0 = (i / DISC_SEGMENTS) * Math.PI * 2;
      const a1 = ((i + 1) / DISC_SEGMENTS) * Math.PI * 2;
      out.push(c.x, c.y, c.z, c.x + Math.cos(a1) * DISC_RADIUS, c.y, c.z + Math.sin(a1) * DISC_RADIUS);
      out.push(c.x + Math.cos(a0) * DISC_RADIUS, c.y, c.z + Math.sin(a0) * DISC_RADIUS);
    }
    return out;
  }
  const w = SECTION_WIDTH / 2;
  for (let i = 0; i + 1 < line.length; i++) {
    const a = line[i];
    const b = line[i + 1];
    const dx = b.x - a.x;
    const dz = b.z - a.z;
    const len = Math.hypot(dx, dz) || 1;
    const nx = (-dz / len) * w;
    const nz = (dx / len) * w;
    const q = [
      [a.x + nx, a.y, a.z + nz],
      [a.x - nx, a.y, a.z - nz],
      [b.x - nx, b.y, b.z - nz],
      [b.x + nx, b.y, b.z + nz],
    ];
    for (const k of [0, 1, 2, 0, 2, 3]) out.push(...q[k]);
  }
  return out;
}

export class SensorMarkers {
  /**
   * @param {{maxLabels?: number}} [options]
   */
  constructor({ maxLabels = 10 } = {}) {
    this.group = new Group();
    this.group.name = 'sensors';
    this.maxLabels = maxLabels;
    /** @type {{id: string, kind: string, name: string, point: Vector3, line: Vector3[]}[]} */
    this.stations = [];
    /** @type {Record<string, InstancedMesh>} by kind */
    this.meshes = {};
    this.sections = null;
    /** vertex range of each station's section: [first, count] */
    this.ranges = [];
    this.labels = [];
    this.values = [];
    this._raycaster = new Raycaster();
  }

  /**
   * Lay out the stations: each with a world-local `point` (marker foot) and `line` (its section).
   * @param {{id: string, kind: string, name: string, point: Vector3, line: Vector3[]}[]} stations
   */
  setStations(stations) {
    this._clearMeshes();
    this.stations = stations;
    const byKind = {};
    stations.forEach((s, i) => (byKind[s.kind] ??= []).push(i));
    for (const [kind, members] of Object.entries(byKind)) {
      const mesh = new InstancedMesh(geometryFor(kind), new MeshBasicMaterial({ color: KIND_COLOURS[kind] ?? KIND_COLOURS.other }), members.length);
      mesh.name = `sensor-markers:${kind}`;
      mesh.userData.members = members;
      mesh.frustumCulled = false;
      members.forEach((station, i) => mesh.setMatrixAt(i, _m.compose(stations[station].point, _q.identity(), _s.set(3, 3, 3))));
      this.meshes[kind] = mesh;
      this.group.add(mesh);
    }
    const positions = [];
    this.ranges = stations.map((s, i) => {
      const first = positions.length / 3;
      // Stations on one spot (one per direction) each a few centimetres higher: no z-fighting.
      const lift = (i % 8) * 0.04;
      const line = (s.line.length >= 2 ? s.line : [s.point]).map((p) => ({ x: p.x, y: p.y + lift, z: p.z }));
      positions.push(...sectionTriangles(line));
      return [first, positions.length / 3 - first];
    });
    const geometry = new BufferGeometry();
    geometry.setAttribute('position', new BufferAttribute(new Float32Array(positions), 3));
    geometry.setAttribute('color', new BufferAttribute(new Float32Array(positions.length), 3));
    geometry.computeBoundingSphere();
    // Drawn over the ground and the terrain it lies on, under the markers.
    const material = new MeshBasicMaterial({ vertexColors: true, side: DoubleSide, polygonOffset: true, polygonOffsetFactor: -4, polygonOffsetUnits: -4, toneMapped: false });
    this.sections = new Mesh(geometry, material);
    this.sections.name = 'sensor-sections';
    this.sections.renderOrder = 2;
    this.group.add(this.sections);
    this.setValues(stations.map(() => null), 1);
  }

  /**
   * Colour each section by its count.
   * @param {(number|null)[]} values per station, in setStations order
   * @param {number} max top of the ramp
   */
  setValues(values, max) {
    this.values = values;
    if (!this.sections) return;
    const colour = this.sections.geometry.getAttribute('color');
    this.ranges.forEach(([first, count], i) => {
      // Vertex colours are linear; the ramp is sRGB.
      const [r, g, b] = rampColour(values[i], max).map((c) => (c / 255) ** 2.2);
      for (let v = first; v < first + count; v++) colour.setXYZ(v, r, g, b);
    });
    colour.needsUpdate = true;
    this.shownColours = this.ranges.map((_, i) => toHex(rampColour(values[i], max)));
  }

  /**
   * Size markers and place the nearest labels for an eye position (world-local).
   * @param {{x: number, y: number, z: number}} eye
   * @param {(station: object, value: number|null) => string} labelOf
   * @param {number} [maxLabels]
   */
  layout(eye, labelOf, maxLabels = this.maxLabels) {
    const near = this.stations.map((s, i) => ({ i, d: s.point.distanceTo(_p.set(eye.x, eye.y, eye.z)) })).sort((a, b) => a.d - b.d);
    const size = new Map(near.map(({ i, d }) => [i, Math.min(200, Math.max(1.5, d * SIZE))]));
    for (const mesh of Object.values(this.meshes)) {
      mesh.userData.members.forEach((station, k) => {
        const h = size.get(station);
        mesh.setMatrixAt(k, _m.compose(this.stations[station].point, _q.identity(), _s.set(h, h, h)));
      });
      mesh.instanceMatrix.needsUpdate = true;
      mesh.computeBoundingSphere();
    }
    while (this.labels.length < maxLabels) {
      const s = labelSprite();
      s.material.toneMapped = false; // read as drawn, not darkened by the scene's tone mapping
      this.labels.push(s);
      this.group.add(s);
    }
    this.labels.forEach((sprite, k) => {
      const hit = near[k];
      sprite.visible = Boolean(hit) && k < maxLabels;
      if (!sprite.visible) return;
      const station = this.stations[hit.i];
      const h = size.get(hit.i) * 0.8;
      drawLabel(sprite, labelOf(station, this.values[hit.i] ?? null), KIND_COLOURS[station.kind] ?? KIND_COLOURS.other);
      sprite.position.set(station.point.x, station.point.y + size.get(hit.i) * 1.15, station.point.z);
      sprite.scale.set(h * 5.3, h, 1);
    });
  }

  /**
   * The station a ray points at (a marker first, else a section).
   * @param {import('three').Ray} ray world-space ray
   * @returns {number|null} station index
   */
  pick(ray) {
    this._raycaster.ray.copy(ray);
    const hits = this._raycaster.intersectObjects([...Object.values(this.meshes), ...(this.sections ? [this.sections] : [])], false);
    for (const hit of hits) {
      if (hit.object.isInstancedMesh) return hit.object.userData.members[hit.instanceId];
      const v = hit.face?.a;
      const i = this.ranges.findIndex(([first, count]) => v >= first && v < first + count);
      if (i >= 0) return i;
    }
    return null;
  }

  _clearMeshes() {
    for (const mesh of Object.values(this.meshes)) {
      this.group.remove(mesh);
      mesh.geometry.dispose();
      mesh.material.dispose();
      mesh.dispose();
    }
    this.meshes = {};
    if (this.sections) {
      this.group.remove(this.sections);
      this.sections.geometry.dispose();
      this.sections.material.dispose();
      this.sections = null;
    }
  }

  dispose() {
    this._clearMeshes();
    for (const s of this.labels) {
      s.material.map.dispose();
      s.material.dispose();
    }
    this.group.removeFromParent();
  }
}
