/**
 * Moving at street level (1:1) and jumping from the table-top: a parabolic arc with a target
 * marker, teleport, snap turn and a seated mode.
 *
 * We move the world, not the visitor: the XR reference space stays put and the world group is
 * translated and turned so the target lies under the visitor's feet. This also keeps the rendered
 * geometry near the three.js origin (and thus the headset), so float32 vertex maths does not
 * jitter at street level however large the scene is.
 */
import { BufferGeometry, Float32BufferAttribute, Line, LineBasicMaterial, Mesh, MeshBasicMaterial, Quaternion, RingGeometry, Vector3 } from 'three';

/** Extra drop of the world when seated, metres (standing eye ~1.7 m, seated ~1.2 m). */
export const SEATED_OFFSET = 0.5;
const ARC_SPEED = 8;
const GRAVITY = 9.81;
const ARC_STEPS = 40;
const _up = new Vector3(0, 1, 0);

/**
 * Points of a ballistic arc from `origin` along `direction` until it meets the plane y = `floorY`.
 * @param {Vector3} origin
 * @param {Vector3} direction unit vector
 * @param {number} floorY
 * @returns {{points: Vector3[], hit: Vector3|null}}
 */
export function arcPoints(origin, direction, floorY = 0) {
  const v = direction.clone().multiplyScalar(ARC_SPEED);
  const points = [origin.clone()];
  const dt = 0.05;
  for (let i = 1; i <= ARC_STEPS; i++) {
    const t = i * dt;
    const p = origin.clone().addScaledVector(v, t);
    p.y -= 0.5 * GRAVITY * t * t;
    const prev = points[points.length - 1];
    if (p.y <= floorY) {
      const f = (prev.y - floorY) / Math.max(prev.y - p.y, 1e-9);
      const hit = prev.clone().lerp(p, f);
      points.push(hit);
      return { points, hit };
    }
    points.push(p);
  }
  return { points, hit: null };
}

export class Teleport {
  /** @param {import('three').Scene} scene */
  constructor(scene) {
    this.seated = false;
    const geometry = new BufferGeometry();
    geometry.setAttribute('position', new Float32BufferAttribute(new Float32Array((ARC_STEPS + 1) * 3), 3));
    this.arc = new Line(geometry, new LineBasicMaterial({ color: 0x44ccff }));
    this.arc.frustumCulled = false;
    this.marker = new Mesh(new RingGeometry(0.25, 0.32, 32).rotateX(-Math.PI / 2), new MeshBasicMaterial({ color: 0x44ccff }));
    this.arc.visible = this.marker.visible = false;
    scene.add(this.arc, this.marker);
    /** @type {Vector3|null} */
    this.target = null;
  }

  /** Floor height in reference space where the world's ground is (0 standing, lower seated). */
  get floorY() {
    return this.seated ? -SEATED_OFFSET : 0;
  }

  /**
   * Aim the arc from a controller; shows the marker where it meets the ground.
   * @param {import('three').Object3D} controller
   */
  aim(controller) {
    const origin = new Vector3().setFromMatrixPosition(controller.matrixWorld);
    const dir = new Vector3(0, 0, -1).transformDirection(controller.matrixWorld);
    const { points, hit } = arcPoints(origin, dir, this.floorY);
    const attr = this.arc.geometry.getAttribute('position');
    for (let i = 0; i < attr.count; i++) attr.setXYZ(i, ...points[Math.min(i, points.length - 1)].toArray());
    attr.needsUpdate = true;
    this.arc.visible = true;
    this.marker.visible = Boolean(hit);
    if (hit) this.marker.position.copy(hit);
    this.target = hit;
  }

  hide() {
    this.arc.visible = this.marker.visible = false;
    this.target = null;
  }

  /**
   * Move the world so a reference-space point on the ground comes under the visitor's feet.
   * @param {import('three').Object3D} world
   * @param {Vector3} point reference-space point (e.g. the marker)
   * @param {Vector3} head the XR camera position
   */
  teleportTo(world, point, head) {
    world.position.x += head.x - point.x;
    world.position.z += head.z - point.z;
    world.updateMatrixWorld(true);
  }

  /**
   * Turn the world about the vertical axis through the visitor's head.
   * @param {import('three').Object3D} world
   * @param {Vector3} head
   * @param {number} angle radians, positive turns the visitor left
   */
  snapTurn(world, head, angle) {
    // Turning the visitor by +angle is turning the world by -angle about the head.
    const q = new Quaternion().setFromAxisAngle(_up, -angle);
    const pivot = new Vector3(head.x, 0, head.z);
    world.position.sub(pivot).applyQuaternion(q).add(pivot);
    world.quaternion.premultiply(q);
    world.updateMatrixWorld(true);
  }

  /**
   * Leave the table-top: scale the world to 1:1 and put a scene point under the visitor's feet.
   * @param {import('three').Object3D} world
   * @param {Vector3} scenePoint point in world-local (scene, 1:1) coordinates
   * @param {number} groundY the scene's ground level in world-local coordinates
   * @param {Vector3} head the XR camera position
   */
  jumpToStreet(world, scenePoint, groundY, head) {
    // Keep the miniature's heading so the street view faces the way the visitor looked at the model.
    const yawOnly = new Quaternion();
    const e = world.quaternion;
    const yaw = Math.atan2(2 * (e.w * e.y + e.x * e.z), 1 - 2 * (e.y * e.y + e.x * e.x));
    yawOnly.setFromAxisAngle(_up, yaw);
    world.scale.setScalar(1);
    world.quaternion.copy(yawOnly);
    const p = new Vector3(scenePoint.x, groundY, scenePoint.z).applyQuaternion(yawOnly);
    world.position.set(head.x - p.x, this.floorY - p.y, head.z - p.z);
    world.updateMatrixWorld(true);
  }

  /**
   * Toggle the seated mode: the world drops (or rises) by the seated offset at once.
   * @param {import('three').Object3D} world
   * @param {boolean} seated
   * @param {boolean} atStreet whether the world is at 1:1 (the table-top is placed separately)
   */
  setSeated(world, seated, atStreet) {
    if (seated === this.seated) return;
    if (atStreet) world.position.y += seated ? -SEATED_OFFSET : SEATED_OFFSET;
    this.seated = seated;
    world.updateMatrixWorld(true);
  }
}
