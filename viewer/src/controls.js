/**
 * Desktop and touch navigation: map-like orbit/pan/zoom (three's MapControls) and a walk mode at
 * eye height (WASD/arrow keys, drag to look; on touch one finger looks, two fingers walk). The walker
 * stands on the ground under it: `groundAt(x, z)` (the terrain layer sets it, ground.js) where there is
 * terrain, else the scene's flat ground `groundY`.
 */
import { Euler, Vector3 } from 'three';
import { MapControls } from 'three/addons/controls/MapControls.js';
import { eyeY } from './ground.js';

/** Eye height above the ground in walk mode, metres. */
export const EYE_HEIGHT = 1.7;
const WALK_SPEED = 4; // m/s, a brisk walk; Shift runs at 3x

export class Navigation {
  /**
   * @param {import('three').PerspectiveCamera} camera
   * @param {HTMLElement} element the canvas
   */
  constructor(camera, element) {
    this.camera = camera;
    this.element = element;
    this.map = new MapControls(camera, element);
    this.map.enableDamping = false;
    this.map.maxPolarAngle = Math.PI / 2 - 0.02; // never look from below the ground
    this.mode = 'orbit';
    this.groundY = 0;
    /** @type {((x: number, z: number) => number|null)|null} the ground's height under a scene point */
    this.groundAt = null;
    this._sinceGround = 0;
    this.keys = new Set();
    this._euler = new Euler(0, 0, 0, 'YXZ');
    this._drag = null;
    this._touches = new Map();
    this._onKey = (e) => this._key(e);
    window.addEventListener('keydown', this._onKey);
    window.addEventListener('keyup', this._onKey);
    element.addEventListener('pointerdown', (e) => this._pointer(e));
    element.addEventListener('pointermove', (e) => this._pointer(e));
    window.addEventListener('pointerup', (e) => this._pointer(e));
  }

  /**
   * Frame a bounding sphere from the south-east, looking down at 40 degrees.
   * @param {import('three').Sphere} sphere world-space
   */
  frame(sphere) {
    const r = Math.max(sphere.radius, 5);
    const dist = r / Math.sin(((this.camera.fov / 2) * Math.PI) / 180);
    // World +X is west and +Z north: south-east is (-x, -z).
    const dir = new Vector3(-0.55, 0.75, -0.75).normalize();
    this.camera.position.copy(sphere.center).addScaledVector(dir, dist);
    this.camera.near = Math.max(0.1, dist / 2000);
    this.camera.far = dist * 20;
    this.camera.updateProjectionMatrix();
    this.map.target.copy(sphere.center);
    this.map.maxDistance = dist * 5;
    this.map.update();
  }

  /**
   * Switch between 'orbit' and 'walk'.
   * @param {'orbit'|'walk'} mode
   */
  setMode(mode) {
    if (mode === this.mode) return;
    this.mode = mode;
    this.map.enabled = mode === 'orbit';
    if (mode === 'walk') {
      // Drop to eye height where the camera looks at the ground, facing the same way.
      const target = this.map.target;
      this.camera.position.set(target.x, this.eyeY(target.x, target.z), target.z);
      this._euler.setFromQuaternion(this.camera.quaternion);
      this._euler.x = 0;
      this._euler.z = 0;
      this.camera.quaternion.setFromEuler(this._euler);
      this.camera.near = 0.1;
      this.camera.updateProjectionMatrix();
    } else {
      const ahead = new Vector3(0, 0, -1).applyQuaternion(this.camera.quaternion).setY(0).normalize();
      this.map.target.copy(this.camera.position).addScaledVector(ahead, 30).setY(this.groundY);
      this.camera.position.add(new Vector3(0, 60, 0)).addScaledVector(ahead, -40);
      this.map.update();
    }
  }

  _key(e) {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    const code = e.code;
    if (e.type === 'keydown') this.keys.add(code);
    else this.keys.delete(code);
  }

  _pointer(e) {
    if (this.mode !== 'walk') return;
    if (e.pointerType === 'touch') {
      if (e.type === 'pointerdown') this._touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
      else if (e.type === 'pointerup') this._touches.delete(e.pointerId);
      else if (this._touches.has(e.pointerId)) {
        const last = this._touches.get(e.pointerId);
        const dx = e.clientX - last.x;
        const dy = e.clientY - last.y;
        this._touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
        if (this._touches.size >= 2) this._moveBy(0, dy * 0.05 / this._touches.size);
        else this._look(dx, dy);
      }
      return;
    }
    if (e.type === 'pointerdown') this._drag = { x: e.clientX, y: e.clientY };
    else if (e.type === 'pointerup') this._drag = null;
    else if (this._drag) {
      this._look(e.clientX - this._drag.x, e.clientY - this._drag.y);
      this._drag = { x: e.clientX, y: e.clientY };
    }
  }

  _look(dx, dy) {
    this._euler.setFromQuaternion(this.camera.quaternion);
    this._euler.y -= dx * 0.004;
    this._euler.x = Math.max(-1.4, Math.min(1.4, this._euler.x - dy * 0.004));
    this.camera.quaternion.setFromEuler(this._euler);
  }

  _moveBy(right, forward) {
    const f = new Vector3(0, 0, -1).applyQuaternion(this.camera.quaternion).setY(0).normalize();
    const r = new Vector3().crossVectors(f, this.camera.up).normalize();
    this.camera.position.addScaledVector(f, forward).addScaledVector(r, right);
    this.camera.position.y = this.eyeY(this.camera.position.x, this.camera.position.z);
    this._sinceGround = 0;
  }

  /**
   * The walker's eye height at a scene point: the ground there (terrain) or the flat ground, plus EYE_HEIGHT.
   * @param {number} x
   * @param {number} z
   * @returns {number}
   */
  eyeY(x, z) {
    return eyeY(this.groundAt?.(x, z) ?? null, this.groundY, EYE_HEIGHT);
  }

  /**
   * Advance keyboard movement.
   * @param {number} dt seconds since the last frame
   */
  update(dt) {
    const k = this.keys;
    if (this.mode === 'walk') {
      const speed = WALK_SPEED * (k.has('ShiftLeft') || k.has('ShiftRight') ? 3 : 1) * dt;
      const fwd = (k.has('KeyW') || k.has('ArrowUp') ? 1 : 0) - (k.has('KeyS') || k.has('ArrowDown') ? 1 : 0);
      const side = (k.has('KeyD') ? 1 : 0) - (k.has('KeyA') ? 1 : 0);
      const turn = (k.has('ArrowLeft') ? 1 : 0) - (k.has('ArrowRight') ? 1 : 0);
      if (turn) this._look(-turn * dt * 400, 0);
      if (fwd || side) this._moveBy(side * speed, fwd * speed);
      // Standing still, the ground may still change under the walker (finer terrain tiles arriving).
      this._sinceGround += dt;
      if (this._sinceGround > 0.2) {
        this._sinceGround = 0;
        this.camera.position.y = this.eyeY(this.camera.position.x, this.camera.position.z);
      }
    } else if (this.mode === 'orbit') {
      // Arrow keys pan the map (MapControls listens only when `listenToKeyEvents` is called).
      const pan = new Vector3(
        (k.has('ArrowLeft') || k.has('KeyA') ? 1 : 0) - (k.has('ArrowRight') || k.has('KeyD') ? 1 : 0),
        0,
        (k.has('ArrowUp') || k.has('KeyW') ? 1 : 0) - (k.has('ArrowDown') || k.has('KeyS') ? 1 : 0),
      );
      if (pan.lengthSq()) {
        const dist = this.camera.position.distanceTo(this.map.target);
        const f = new Vector3(0, 0, -1).applyQuaternion(this.camera.quaternion).setY(0).normalize();
        const r = new Vector3().crossVectors(f, this.camera.up).normalize();
        const delta = f.multiplyScalar(pan.z).addScaledVector(r, -pan.x).multiplyScalar(dist * dt * 0.8);
        this.camera.position.add(delta);
        this.map.target.add(delta);
      }
      this.map.update();
    }
  }
}
