/**
 * The pins in 3D: one InstancedMesh for every pin and cluster (a single draw call, coloured by
 * category; clusters larger and blue), and text labels (canvas sprites) for the nearest few only, so a
 * thousand contributions cost the VR frame a handful of draw calls. Markers keep about the same size on
 * screen whatever the distance (and in the table-top miniature).
 */
import {
  CanvasTexture,
  Color,
  ConeGeometry,
  Group,
  InstancedMesh,
  Matrix4,
  MeshBasicMaterial,
  Quaternion,
  Sprite,
  SpriteMaterial,
  Vector3,
} from 'three';
import { cluster, NEAR } from './cluster.js';
import { COLOURS } from './panel.js';

const CLUSTER_COLOUR = '#1565c0';
/** Marker height as a share of its distance from the eye (about 1.5 degrees of view). */
const SIZE = 0.026;
const _m = new Matrix4();
const _q = new Quaternion();
const _s = new Vector3();
const _p = new Vector3();

/** A label: a sprite on a 512×96 canvas texture, hidden until laid out (also the sensors' labels). */
export function labelSprite() {
  const canvas = document.createElement('canvas');
  canvas.width = 512;
  canvas.height = 96;
  const texture = new CanvasTexture(canvas);
  const sprite = new Sprite(new SpriteMaterial({ map: texture, depthTest: false, transparent: true }));
  sprite.renderOrder = 15;
  sprite.center.set(0.5, 0);
  sprite.userData = { canvas, texture, text: null };
  sprite.visible = false;
  return sprite;
}

/** Draw a label's text with a colour bar, only when the text changed. */
export function drawLabel(sprite, text, colour) {
  if (sprite.userData.text === text) return;
  sprite.userData.text = text;
  const { canvas, texture } = sprite.userData;
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = 'rgba(255, 255, 255, 0.94)';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = colour;
  g.fillRect(0, 0, 14, canvas.height);
  g.fillStyle = '#111';
  g.font = '34px sans-serif';
  g.textBaseline = 'middle';
  g.fillText(text, 28, canvas.height / 2, canvas.width - 40);
  texture.needsUpdate = true;
}

export class PinMarkers {
  /**
   * @param {{maxLabels?: number}} [options]
   */
  constructor({ maxLabels = 12 } = {}) {
    this.group = new Group();
    this.group.name = 'pins';
    this.capacity = 0;
    this.mesh = null;
    this.maxLabels = maxLabels;
    this.labels = [];
    /** What each instance shows: {members: number[], ...} from cluster() */
    this.shown = [];
    this.items = [];
    this.points = [];
  }

  /**
   * Set the pins: items with a world-local `point` ({x, y, z}).
   * @param {{point: {x: number, y: number, z: number}, category: string, text: string}[]} items
   */
  setItems(items) {
    this.items = items;
    this.points = items.map((i) => i.point);
    if (items.length > this.capacity) this._grow(Math.max(64, items.length * 2));
  }

  _grow(capacity) {
    if (this.mesh) {
      this.group.remove(this.mesh);
      this.mesh.dispose();
    }
    // A cone with its tip on the contribution's point, pointing down.
    const geometry = new ConeGeometry(0.35, 1, 12).rotateX(Math.PI).translate(0, 0.5, 0);
    this.mesh = new InstancedMesh(geometry, new MeshBasicMaterial({ color: 0xffffff }), capacity);
    this.mesh.name = 'pin-markers';
    this.mesh.count = 0;
    this.mesh.frustumCulled = false;
    this.group.add(this.mesh);
    this.capacity = capacity;
  }

  /**
   * Re-cluster for an eye position (world-local) and lay out markers and labels.
   * @param {{x: number, y: number, z: number}} eye
   * @param {number} [maxLabels]
   */
  layout(eye, maxLabels = this.maxLabels) {
    if (!this.mesh) return;
    this.shown = cluster(this.points, eye, { near: NEAR });
    const colour = new Color();
    this.shown.forEach((c, i) => {
      const single = c.members.length === 1;
      const size = Math.min(400, Math.max(0.6, c.distance * SIZE)) * (single ? 1 : 1.6);
      _m.compose(_p.set(c.x, c.y, c.z), _q.identity(), _s.set(size, size, size));
      this.mesh.setMatrixAt(i, _m);
      colour.set(single ? (COLOURS[this.items[c.members[0]].category] ?? '#999') : CLUSTER_COLOUR);
      this.mesh.setColorAt(i, colour);
      c.size = size;
    });
    this.mesh.count = this.shown.length;
    this.mesh.instanceMatrix.needsUpdate = true;
    if (this.mesh.instanceColor) this.mesh.instanceColor.needsUpdate = true;
    this.mesh.computeBoundingSphere();
    while (this.labels.length < maxLabels) {
      const s = labelSprite();
      this.labels.push(s);
      this.group.add(s);
    }
    this.labels.forEach((sprite, i) => {
      const c = this.shown[i];
      sprite.visible = Boolean(c) && i < maxLabels && c.distance < NEAR * 4;
      if (!sprite.visible) return;
      const single = c.members.length === 1;
      const item = this.items[c.members[0]];
      const text = single ? `${item.label}` : `${c.members.length}`;
      drawLabel(sprite, text, single ? (COLOURS[item.category] ?? '#999') : CLUSTER_COLOUR);
      const h = c.size * 0.9;
      sprite.position.set(c.x, c.y + c.size * 1.1, c.z);
      sprite.scale.set(single ? h * 5.3 : h * 1.6, h, 1);
    });
  }

  /**
   * What a raycast hit on the markers points at.
   * @param {object} hit three.js intersection with `instanceId`
   * @returns {{items: object[], x: number, y: number, z: number}|null}
   */
  at(hit) {
    const c = hit && hit.object === this.mesh ? this.shown[hit.instanceId] : null;
    return c ? { ...c, items: c.members.map((i) => this.items[i]) } : null;
  }

  dispose() {
    this.mesh?.dispose();
    for (const s of this.labels) {
      s.material.map.dispose();
      s.material.dispose();
    }
    this.group.removeFromParent();
  }
}
