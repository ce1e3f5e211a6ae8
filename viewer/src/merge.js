/**
 * Fewer draw calls per tile: merge the sibling meshes of a loaded tile that look the same.
 *
 * A glTF loader makes one three.js mesh per glTF primitive, and one primitive per material. Design
 * tiles (an IFC model has one primitive per building part: the FZK-Haus is 108 primitives with only
 * 8 distinct colours) would cost a draw call per part and per eye, more than the whole VR budget
 * (100 per eye). Meshes with the same parent, the same local transform, an equal material (by
 * value, not by object) and the same vertex layout become one mesh. Picking keeps working because
 * feature ids are a vertex attribute (`_feature_id_0`) indexing one property table per glTF: the
 * merged geometry keeps the attribute and gets a fresh `MeshFeatures` reader.
 */
import { mergeGeometries } from 'three/addons/utils/BufferGeometryUtils.js';

/**
 * A key equal for materials that draw the same: type, colours, PBR factors, blending, sides.
 * Materials with textures only match themselves (their images are not compared).
 * @param {import('three').Material} m
 * @returns {string}
 */
export function materialKey(m) {
  for (const value of Object.values(m)) if (value && value.isTexture) return `uuid:${m.uuid}`;
  const hex = (c) => (c && c.isColor ? c.getHexString() : '');
  return [
    m.type,
    hex(m.color),
    hex(m.emissive),
    m.opacity,
    m.transparent,
    m.side,
    m.vertexColors,
    m.flatShading,
    m.metalness,
    m.roughness,
    m.alphaTest,
    m.depthWrite,
    m.blending,
    m.wireframe,
  ].join('|');
}

/**
 * A key equal for geometries that `mergeGeometries` can join: indexed or not, and per attribute
 * its name, array type, item size and normalisation.
 * @param {import('three').BufferGeometry} g
 * @returns {string|null} null when the geometry must stay alone (morph targets, groups)
 */
export function layoutKey(g) {
  if (Object.keys(g.morphAttributes).length > 0 || g.groups.length > 0) return null;
  const attrs = Object.entries(g.attributes)
    .map(([name, a]) => `${name}:${a.array.constructor.name}:${a.itemSize}:${a.normalized}:${a.gpuType ?? ''}`)
    .sort();
  return `${g.index ? 'i' : 'n'}|${attrs.join(',')}`;
}

/**
 * The feature-id layout of a mesh: merging is safe only when every feature id set reads a vertex
 * attribute (textures and implicit ids depend on the vertex order of one primitive).
 * @param {import('three').Mesh} mesh
 * @returns {string|null} '' without mesh features, a key when mergeable, null when not
 */
function featuresKey(mesh) {
  const mf = mesh.userData.meshFeatures;
  if (!mf) return '';
  const sets = mf.getFeatureInfo();
  if (!sets.every((s) => typeof s.attribute === 'number')) return null;
  return JSON.stringify(sets.map((s) => [s.attribute, s.propertyTable, s.nullFeatureId, s.label]));
}

/**
 * Merge mergeable sibling meshes under `root` in place.
 *
 * Only meshes that carry attribute feature ids (or no feature data and no name, which picking
 * would show) are merged, so a foreign tileset's named meshes keep their identity.
 * @param {import('three').Object3D} root a tile's glTF scene
 * @returns {{before: number, after: number}} mesh counts, for statistics
 */
export function mergeTileMeshes(root) {
  /** @type {Map<string, import('three').Mesh[]>} */
  const groups = new Map();
  let before = 0;
  root.traverse((o) => {
    if (!o.isMesh) return;
    before++;
    if (o.isInstancedMesh || o.isSkinnedMesh || Array.isArray(o.material) || o.children.length > 0) return;
    const layout = layoutKey(o.geometry);
    const features = featuresKey(o);
    if (layout === null || features === null || (features === '' && o.name)) return;
    o.updateMatrix();
    const key = [o.parent?.uuid, o.matrix.elements.join(','), materialKey(o.material), layout, features, o.renderOrder].join('#');
    const list = groups.get(key);
    if (list) list.push(o);
    else groups.set(key, [o]);
  });
  let after = before;
  for (const meshes of groups.values()) {
    if (meshes.length < 2) continue;
    const metadata = meshes[0].userData.structuralMetadata;
    // Feature ids index the glb's property tables, shared by its primitives; never mix two.
    if (!meshes.every((m) => m.userData.structuralMetadata === metadata)) continue;
    const geometry = mergeGeometries(meshes.map((m) => m.geometry), false);
    if (!geometry) continue;
    const [first] = meshes;
    // Not first.clone(): Object3D.copy deep-copies userData through JSON, and ours holds readers.
    const merged = new first.constructor(geometry, first.material);
    merged.name = first.name;
    merged.position.copy(first.position);
    merged.quaternion.copy(first.quaternion);
    merged.scale.copy(first.scale);
    merged.renderOrder = first.renderOrder;
    merged.frustumCulled = first.frustumCulled;
    merged.castShadow = first.castShadow;
    merged.receiveShadow = first.receiveShadow;
    merged.userData = { ...first.userData };
    const mf = first.userData.meshFeatures;
    if (mf) merged.userData.meshFeatures = new mf.constructor(geometry, mf.getTextures(), mf.data);
    first.parent.add(merged);
    for (const m of meshes) {
      m.parent.remove(m);
      m.geometry.dispose();
    }
    after -= meshes.length - 1;
  }
  return { before, after };
}
