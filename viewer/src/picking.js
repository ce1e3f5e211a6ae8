/**
 * Picking: ray -> tile mesh -> feature id (EXT_mesh_features) -> attribute row
 * (EXT_structural_metadata property table), plus the highlight of the picked feature.
 */
import { Raycaster, Triangle, Vector2, Vector3 } from 'three';

const _tri = new Triangle();
const _a = new Vector3();
const _b = new Vector3();
const _c = new Vector3();

/**
 * Barycentric coordinate of a hit inside its triangle (three.js fills `hit.barycoord` in recent
 * versions; older ones do not, so compute it when missing).
 * @param {object} hit a three.js intersection with `face`
 * @returns {Vector3}
 */
function barycoordOf(hit) {
  if (hit.barycoord) return hit.barycoord;
  const pos = hit.object.geometry.getAttribute('position');
  _a.fromBufferAttribute(pos, hit.face.a);
  _b.fromBufferAttribute(pos, hit.face.b);
  _c.fromBufferAttribute(pos, hit.face.c);
  const local = hit.object.worldToLocal(hit.point.clone());
  return _tri.set(_a, _b, _c).getBarycoord(local, new Vector3());
}

/**
 * Read the feature and its attributes for a raycast hit.
 * @param {object} hit three.js intersection on a tile mesh
 * @returns {{featureId: number|null, properties: Record<string, any>, className: string|null,
 *   object: import('three').Mesh, point: Vector3, highlight: {value: number}|null}}
 */
export function featureAtHit(hit) {
  const mesh = hit.object;
  const { meshFeatures, structuralMetadata } = mesh.userData;
  let featureId = null;
  let properties = {};
  let className = null;
  if (meshFeatures) {
    const ids = meshFeatures.getFeatures(hit.faceIndex, barycoordOf(hit));
    const info = meshFeatures.getFeatureInfo();
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === null || ids[i] === undefined) continue;
      featureId = ids[i];
      const table = info[i]?.propertyTable;
      if (structuralMetadata && table !== null && table !== undefined) {
        properties = { ...structuralMetadata.getPropertyTableData(table, featureId) };
        className = structuralMetadata.getPropertyTableInfo([table])[0]?.className ?? null;
      }
      break;
    }
  }
  if (featureId === null && mesh.name) properties = { name: mesh.name };
  return { featureId, properties, className, object: mesh, point: hit.point.clone(), highlight: mesh.userData.highlight ?? null };
}

/**
 * Keeps the current selection and its highlight.
 */
export class Picker {
  constructor() {
    this.raycaster = new Raycaster();
    this.raycaster.firstHitOnly = true;
    /** @type {ReturnType<typeof featureAtHit>|null} */
    this.selected = null;
  }

  /**
   * First tile-mesh hit along a ray.
   * @param {import('three').Ray} ray world-space ray
   * @param {import('three').Object3D[]} roots tile groups to test
   * @returns {object|null} three.js intersection
   */
  intersectRay(ray, roots) {
    this.raycaster.ray.copy(ray);
    this.raycaster.far = Infinity;
    const hits = this.raycaster.intersectObjects(roots, true).filter((h) => h.object.isMesh && h.object.visible);
    return hits[0] ?? null;
  }

  /**
   * First hit under a screen position.
   * @param {number} ndcX -1..1
   * @param {number} ndcY -1..1
   * @param {import('three').Camera} camera
   * @param {import('three').Object3D[]} roots
   * @returns {object|null}
   */
  intersectScreen(ndcX, ndcY, camera, roots) {
    this.raycaster.setFromCamera(new Vector2(ndcX, ndcY), camera);
    return this.intersectRay(this.raycaster.ray, roots);
  }

  /**
   * Select the feature under a hit (or clear with null) and move the highlight to it.
   * @param {object|null} hit
   * @returns {ReturnType<typeof featureAtHit>|null}
   */
  select(hit) {
    if (this.selected?.highlight) this.selected.highlight.value = -1;
    this.selected = hit ? featureAtHit(hit) : null;
    if (this.selected?.highlight) this.selected.highlight.value = this.selected.featureId ?? 0;
    return this.selected;
  }
}
