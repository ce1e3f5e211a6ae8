/**
 * Avatars of the other people in a visit: a head with a visor (which way they look), two controllers,
 * a name label, in each person's colour.
 *
 * Cheap on purpose, to keep the XR frame budget: all heads are one InstancedMesh, all visors another,
 * all controllers a third (three draw calls whatever the number of people), unlit materials, and
 * labels (one sprite each) only for the nearest few. Everything lives under the world group, in scene
 * coordinates, so avatars follow table-top and 1:1 like the tiles do. A person's avatar is drawn at
 * their own scale (1 / their world scale): someone at the table-top appears as a normal-sized head above
 * another table-top and as a giant over the street; someone at 1:1 stands in the street, tiny on the table.
 */
import {
  BoxGeometry,
  CanvasTexture,
  Color,
  Group,
  InstancedMesh,
  Matrix4,
  MeshBasicMaterial,
  Quaternion,
  SphereGeometry,
  Sprite,
  SpriteMaterial,
  Vector3,
} from 'three';

/** Most avatars drawn (the server's default visit limit). */
export const CAPACITY = 50;
/** Labels drawn at most, nearest first. */
export const MAX_LABELS = 12;
const HIDDEN = new Matrix4().makeScale(0, 0, 0);
const _m = new Matrix4();
const _p = new Vector3();
const _q = new Quaternion();
const _s = new Vector3();

/**
 * Scene position and rotation of a pose part `[x, y, z, qx, qy, qz, qw]`.
 * @param {number[]} part
 * @returns {{position: Vector3, quaternion: Quaternion}}
 */
export function fromPart(part) {
  return { position: new Vector3(part[0], part[1], part[2]), quaternion: new Quaternion(part[3], part[4], part[5], part[6]) };
}

/**
 * The pose part of an object, in the coordinates of `frame` (the world group).
 * @param {import('three').Object3D} object
 * @param {import('three').Object3D} frame
 * @returns {number[]}
 */
export function partOf(object, frame) {
  object.updateMatrixWorld(true);
  frame.updateMatrixWorld(true);
  _m.copy(frame.matrixWorld).invert().multiply(object.matrixWorld);
  _m.decompose(_p, _q, _s);
  const r = (x) => Math.round(x * 1e4) / 1e4;
  return [r(_p.x), r(_p.y), r(_p.z), r(_q.x), r(_q.y), r(_q.z), r(_q.w)];
}

export class Avatars {
  /** @param {import('three').Object3D} parent the world group */
  constructor(parent, capacity = CAPACITY) {
    this.parent = parent;
    this.capacity = capacity;
    this.group = new Group();
    this.group.name = 'avatars';
    parent.add(this.group);
    const basic = () => new MeshBasicMaterial({ color: 0xffffff });
    this.heads = new InstancedMesh(new SphereGeometry(0.11, 12, 8), basic(), capacity);
    this.visors = new InstancedMesh(new BoxGeometry(0.16, 0.05, 0.04).translate(0, 0.01, -0.1), new MeshBasicMaterial({ color: 0x202020 }), capacity);
    this.hands = new InstancedMesh(new BoxGeometry(0.04, 0.04, 0.12), basic(), capacity * 2);
    for (const mesh of [this.heads, this.visors, this.hands]) {
      mesh.frustumCulled = false; // instances spread over the whole scene; the bounding sphere is the mesh's
      mesh.count = 0;
      this.group.add(mesh);
    }
    /** @type {Map<string, {slot: number, name: string, colour: string, target: object|null, shown: object|null, label: Sprite}>} */
    this.people = new Map();
    this._free = [...Array(capacity).keys()].reverse();
  }

  /**
   * Add or update someone (id, name, colour).
   * @param {{id: string, name: string, colour: string}} person
   */
  upsert(person) {
    let a = this.people.get(person.id);
    if (!a) {
      const slot = this._free.pop();
      if (slot === undefined) return;
      a = { slot, name: '', colour: '', target: null, shown: null, label: null };
      this.people.set(person.id, a);
      this._hide(slot);
    }
    if (a.name !== person.name || a.colour !== person.colour) {
      a.name = person.name;
      a.colour = person.colour;
      const colour = new Color(person.colour);
      this.heads.setColorAt(a.slot, colour);
      this.hands.setColorAt(a.slot * 2, colour);
      this.hands.setColorAt(a.slot * 2 + 1, colour);
      this.heads.instanceColor.needsUpdate = true;
      this.hands.instanceColor.needsUpdate = true;
      a.label?.material.map?.dispose();
      a.label?.material.dispose();
      if (a.label) this.group.remove(a.label);
      a.label = makeLabel(person.name, person.colour);
      this.group.add(a.label);
    }
    this._count();
  }

  /** @param {string} id */
  remove(id) {
    const a = this.people.get(id);
    if (!a) return;
    this._hide(a.slot);
    this._free.push(a.slot);
    a.label.material.map?.dispose();
    a.label.material.dispose();
    this.group.remove(a.label);
    this.people.delete(id);
    this._count();
  }

  /**
   * Where someone is now: their head pose (as received) goes to `target`; update() moves there smoothly.
   * @param {string} id
   * @param {{h: number[], l?: number[], r?: number[], s?: number}} pose
   */
  setPose(id, pose) {
    const a = this.people.get(id);
    if (!a || !pose?.h) return;
    const size = 1 / (pose.s > 0 ? pose.s : 1);
    a.target = { h: fromPart(pose.h), l: pose.l ? fromPart(pose.l) : null, r: pose.r ? fromPart(pose.r) : null, size };
    if (!a.shown) a.shown = cloneTarget(a.target);
  }

  /** @returns {Vector3|null} someone's head in scene coordinates, as drawn */
  positionOf(id) {
    return this.people.get(id)?.shown?.h.position.clone() ?? null;
  }

  /**
   * Move every avatar towards its latest pose and place the labels.
   * @param {number} dt seconds
   * @param {Vector3} [eye] the viewer's position in scene coordinates (nearest labels win)
   */
  update(dt, eye = null) {
    const k = 1 - Math.exp(-dt * 15); // about 70 ms to catch up: poses come at 15 Hz
    const labelled = [];
    for (const a of this.people.values()) {
      if (!a.target) continue;
      const shown = a.shown;
      for (const part of ['h', 'l', 'r']) {
        const to = a.target[part];
        if (!to) {
          shown[part] = null;
          continue;
        }
        if (!shown[part]) shown[part] = { position: to.position.clone(), quaternion: to.quaternion.clone() };
        shown[part].position.lerp(to.position, k);
        shown[part].quaternion.slerp(to.quaternion, k);
      }
      shown.size += (a.target.size - shown.size) * k;
      this._draw(a);
      labelled.push(a);
    }
    if (eye) labelled.sort((x, y) => x.shown.h.position.distanceToSquared(eye) - y.shown.h.position.distanceToSquared(eye));
    labelled.forEach((a, i) => (a.label.visible = i < MAX_LABELS));
    for (const mesh of [this.heads, this.visors, this.hands]) mesh.instanceMatrix.needsUpdate = true;
  }

  _draw(a) {
    const { h, l, r, size } = a.shown;
    _s.setScalar(size);
    _m.compose(h.position, h.quaternion, _s);
    this.heads.setMatrixAt(a.slot, _m);
    this.visors.setMatrixAt(a.slot, _m);
    this.hands.setMatrixAt(a.slot * 2, l ? _m.compose(l.position, l.quaternion, _s) : HIDDEN);
    this.hands.setMatrixAt(a.slot * 2 + 1, r ? _m.compose(r.position, r.quaternion, _s) : HIDDEN);
    a.label.position.copy(h.position).y += 0.28 * size;
    a.label.scale.set(0.5 * size, 0.125 * size, 1);
  }

  _hide(slot) {
    this.heads.setMatrixAt(slot, HIDDEN);
    this.visors.setMatrixAt(slot, HIDDEN);
    this.hands.setMatrixAt(slot * 2, HIDDEN);
    this.hands.setMatrixAt(slot * 2 + 1, HIDDEN);
    for (const mesh of [this.heads, this.visors, this.hands]) mesh.instanceMatrix.needsUpdate = true;
  }

  _count() {
    // Draw up to the highest slot in use (free slots below it hold a zero-scale matrix).
    let top = 0;
    for (const a of this.people.values()) top = Math.max(top, a.slot + 1);
    this.heads.count = this.visors.count = top;
    this.hands.count = top * 2;
  }

  dispose() {
    for (const id of [...this.people.keys()]) this.remove(id);
    for (const mesh of [this.heads, this.visors, this.hands]) {
      mesh.geometry.dispose();
      mesh.material.dispose();
      mesh.dispose();
    }
    this.parent.remove(this.group);
  }
}

function cloneTarget(t) {
  const c = (p) => (p ? { position: p.position.clone(), quaternion: p.quaternion.clone() } : null);
  return { h: c(t.h), l: c(t.l), r: c(t.r), size: t.size };
}

/** A name label: white text on the person's colour, as a sprite (always faces the viewer). */
function makeLabel(name, colour) {
  const canvas = document.createElement('canvas');
  canvas.width = 256;
  canvas.height = 64;
  const g = canvas.getContext('2d');
  if (g) {
    g.fillStyle = colour;
    g.globalAlpha = 0.85;
    g.fillRect(0, 0, 256, 64);
    g.globalAlpha = 1;
    g.fillStyle = '#000';
    g.font = '600 34px system-ui, sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText(name.slice(0, 16), 128, 34);
  }
  const texture = new CanvasTexture(canvas);
  const sprite = new Sprite(new SpriteMaterial({ map: texture, depthTest: true, transparent: true }));
  sprite.visible = false;
  sprite.name = `label:${name}`;
  return sprite;
}
