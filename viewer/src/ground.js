/**
 * The ground under a point: a ray straight down onto the terrain tiles, in the world group's local (scene)
 * coordinates, for walking at eye height (desktop walk mode, VR street level) and for things standing on
 * the ground (sensor stations). Where no terrain is loaded under the point the answer is null, and the
 * caller falls back to the scene's flat ground.
 */
import { Raycaster, Vector3 } from 'three';

const _origin = new Vector3();
const _down = new Vector3();
const _top = new Vector3();

export class GroundProbe {
  /**
   * @param {import('three').Object3D} world the group the scene lives in (moved and scaled in XR)
   * @param {() => import('three').Object3D[]} roots what the ground is (the visible terrain tiles' groups)
   */
  constructor(world, roots) {
    this.world = world;
    this.roots = roots;
    this.raycaster = new Raycaster();
    this.raycaster.firstHitOnly = true;
    /** Rays start this high above the scene's z = 0 (local metres): above any terrain a city has. */
    this.top = 10000;
  }

  /**
   * Height of the ground at a scene point.
   * @param {number} x world-local x
   * @param {number} z world-local z
   * @returns {number|null} world-local y of the ground, or null where no ground is loaded under it
   */
  heightAt(x, z) {
    const roots = this.roots().filter((r) => r.visible);
    if (!roots.length) return null;
    const world = this.world;
    world.updateMatrixWorld();
    _origin.set(x, this.top, z);
    world.localToWorld(_origin);
    _top.set(x, this.top - 1, z);
    world.localToWorld(_top);
    _down.subVectors(_top, _origin).normalize();
    this.raycaster.set(_origin, _down);
    this.raycaster.far = Infinity;
    const hits = this.raycaster.intersectObjects(roots, true).filter((h) => h.object.isMesh && visibleChain(h.object));
    if (!hits.length) return null;
    return world.worldToLocal(hits[0].point.clone()).y;
  }
}

/** Whether an object and all its parents are visible. */
function visibleChain(object) {
  for (let o = object; o; o = o.parent) if (!o.visible) return false;
  return true;
}

/**
 * The eye's height for a walker: the ground under it (or the flat fallback) plus the eye height.
 * @param {number|null} ground the ground's height there, null where unknown
 * @param {number} fallback the scene's flat ground
 * @param {number} eye eye height above the ground (m)
 * @returns {number}
 */
export function eyeY(ground, fallback, eye) {
  return (ground ?? fallback) + eye;
}
