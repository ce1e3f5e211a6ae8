/**
 * Table-top miniature: a virtual table in front of the visitor with the district scaled onto it
 * (about 1:500, snapped to a map ratio), and two-handed grabbing to move, rotate and scale it.
 *
 * The miniature is the world group itself, scaled and placed; nothing is copied, so the same
 * tiles (at a coarser level of detail, since they look smaller) serve table-top and street level.
 */
import { BoxGeometry, CylinderGeometry, Group, Matrix4, Mesh, MeshStandardMaterial, Quaternion, Vector3 } from 'three';
import { tabletopScale } from '../geo.js';

/** Table-top size and height, metres. */
export const TABLE_SIZE = 1.2;
export const TABLE_HEIGHT = 0.78;
const SEATED_TABLE_HEIGHT = 0.62;

export class Tabletop {
  /** @param {import('three').Scene} scene */
  constructor(scene) {
    this.table = new Group();
    this.table.name = 'table';
    const top = new Mesh(new BoxGeometry(TABLE_SIZE + 0.1, 0.04, TABLE_SIZE + 0.1), new MeshStandardMaterial({ color: 0x8a6d4b }));
    top.position.y = -0.02;
    top.receiveShadow = true;
    const leg = new Mesh(new CylinderGeometry(0.06, 0.08, 1, 16), new MeshStandardMaterial({ color: 0x555555 }));
    leg.position.y = -0.5;
    this.table.add(top, leg);
    this.table.visible = false;
    scene.add(this.table);
    this.scale = 1;
    /** @type {Map<object, Matrix4>} controllers holding the model, with the world matrix relative to them */
    this._grabs = new Map();
    this._twoHand = null;
  }

  /**
   * Put the world onto the table top.
   * @param {import('three').Object3D} world
   * @param {import('three').Box3} bounds the scene's bounds in world-local (1:1) coordinates
   * @param {{seated?: boolean, position?: Vector3, showTable?: boolean}} [options]
   */
  place(world, bounds, { seated = false, position = null, showTable = true } = {}) {
    const size = bounds.getSize(new Vector3());
    const center = bounds.getCenter(new Vector3());
    this.scale = tabletopScale(Math.max(size.x, size.z), TABLE_SIZE);
    const topPos = position ?? new Vector3(0, seated ? SEATED_TABLE_HEIGHT : TABLE_HEIGHT, -0.7);
    this.table.position.copy(topPos);
    this.table.scale.setScalar(1);
    this.table.children[1].scale.y = topPos.y;
    this.table.children[1].position.y = -topPos.y / 2;
    this.table.visible = showTable;
    world.scale.setScalar(this.scale);
    world.quaternion.identity();
    // The model stands 2 mm above the table top: at 1:2000 the ground plane (5 cm under the
    // buildings at 1:1) would sit 25 µm from the table's surface and fight it for depth.
    const lift = 0.002;
    world.position.set(topPos.x - center.x * this.scale, topPos.y + lift - bounds.min.y * this.scale, topPos.z - center.z * this.scale);
    world.updateMatrixWorld(true);
  }

  hide() {
    this.table.visible = false;
    this._grabs.clear();
    this._twoHand = null;
  }

  /**
   * Start holding the model with a controller (squeeze).
   * @param {import('three').Object3D} controller
   * @param {import('three').Object3D} world
   */
  grab(controller, world) {
    controller.updateMatrixWorld(true);
    const rel = controller.matrixWorld.clone().invert().multiply(world.matrixWorld);
    this._grabs.set(controller, rel);
    this._twoHand = null;
  }

  /** @param {import('three').Object3D} controller */
  release(controller, world) {
    this._grabs.delete(controller);
    this._twoHand = null;
    // Re-anchor the remaining hand so the model does not jump.
    for (const c of this._grabs.keys()) this.grab(c, world);
  }

  /**
   * Apply the grab for this frame: one hand moves and turns the model about the vertical axis,
   * two hands also scale it by the change of the distance between the hands.
   * @param {import('three').Object3D} world
   */
  update(world) {
    const hands = [...this._grabs.keys()];
    if (hands.length === 1) {
      const m = hands[0].matrixWorld.clone().multiply(this._grabs.get(hands[0]));
      const pos = new Vector3();
      const quat = new Quaternion();
      const scl = new Vector3();
      m.decompose(pos, quat, scl);
      // Keep the model level: only the yaw of the hand is applied.
      const yaw = Math.atan2(2 * (quat.w * quat.y + quat.x * quat.z), 1 - 2 * (quat.y * quat.y + quat.x * quat.x));
      world.position.copy(pos);
      world.quaternion.setFromAxisAngle(new Vector3(0, 1, 0), yaw);
    } else if (hands.length === 2) {
      const a = new Vector3().setFromMatrixPosition(hands[0].matrixWorld);
      const b = new Vector3().setFromMatrixPosition(hands[1].matrixWorld);
      const mid = a.clone().add(b).multiplyScalar(0.5);
      const dist = Math.max(a.distanceTo(b), 1e-3);
      const angle = Math.atan2(b.x - a.x, b.z - a.z);
      if (!this._twoHand) {
        this._twoHand = { dist, angle, mid, scale: world.scale.x, position: world.position.clone(), quaternion: world.quaternion.clone() };
      }
      const s0 = this._twoHand;
      const k = dist / s0.dist;
      const turn = new Quaternion().setFromAxisAngle(new Vector3(0, 1, 0), angle - s0.angle);
      this.scale = Math.min(1, Math.max(1e-5, s0.scale * k));
      const applied = this.scale / s0.scale;
      world.scale.setScalar(this.scale);
      world.quaternion.copy(turn).multiply(s0.quaternion);
      world.position.copy(s0.position).sub(s0.mid).multiplyScalar(applied).applyQuaternion(turn).add(mid);
    }
    world.updateMatrixWorld(true);
  }

  /** @returns {boolean} whether a controller holds the model */
  get grabbing() {
    return this._grabs.size > 0;
  }
}
