/**
 * Fewer draw calls per tile: merge the sibling meshes of a loaded tile that look the same.
 *
 * A glTF loader makes one three.js mesh per glTF primitive, and one primitive per material. Design
 * tiles (an IFC model has one primitive per building part: the FZK-Haus is 108 primitives with only
 * 8 distinct colours) would cost a draw call per part and per eye, more than the whole VR budget
 * (100 per eye); city tiles have one primitive with vertex colours, one draw call per tile. Meshes with the same parent, the same local transform and the same vertex layout
 * become one mesh when their materials are equal by value; untextured materials that differ only in
 * colour merge too, the colour moving into a vertex colour attribute. Picking keeps working because
 * feature ids are a vertex attribute (`_feature_id_0`) indexing one property table per glTF: the
 * merged geometry keeps the attribute and gets a fresh `MeshFeatures` reader.
 */
import { BufferAttribute, Color } from 'three';
import { mergeGeometries } from 'three/addons/utils/BufferGeometryUtils.js';

/** @param {import('three').Material} m @returns {boolean} whether any map is set */
function textured(m) {
  return Object.values(m).some((value) => value && value.isTexture);
}

/**
 * A key equal for materials that draw the same: type, colours, PBR factors, blending, sides.
 * Materials with textures only match themselves (their images are not compared).
 * @param {import('three').Material} m
 * @param {boolean} [anyColour] leave the base colour out (it goes into vertex colours)
 * @returns {string}
 */
export function materialKey(m, anyColour = false) {
  if (textured(m)) return `uuid:${m.uuid}`;
  const hex = (c) => (c && c.isColor ? c.getHexString() : '');
  return [
    anyColour ? 'tint' : '',
    m.type,
    anyColour ? '' : hex(m.color),
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
    // A plain colour can become a vertex colour when the mesh has none of its own.
    const tint = !textured(o.material) && !o.material.vertexColors && !o.geometry.getAttribute('color') && Boolean(o.material.color);
    const key = [o.parent?.uuid, o.matrix.elements.join(','), materialKey(o.material, tint), layout, features, o.renderOrder].join('#');
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
    const [first] = meshes;
    const colours = new Set(meshes.map((m) => m.material.color?.getHex()));
    const tinted = colours.size > 1;
    if (tinted) meshes.forEach((m) => m.geometry.setAttribute('color', colourAttribute(m.material.color, m.geometry)));
    const geometry = mergeGeometries(meshes.map((m) => m.geometry), false);
    if (!geometry) {
      if (tinted) meshes.forEach((m) => m.geometry.deleteAttribute('color'));
      continue;
    }
    let material = first.material;
    if (tinted) {
      // three.js multiplies the base colour by the vertex colour: white keeps each part's own.
      material = first.material.clone();
      material.color = new Color(1, 1, 1);
      material.vertexColors = true;
    }
    // Not first.clone(): Object3D.copy deep-copies userData through JSON, and ours holds readers.
    const merged = new first.constructor(geometry, material);
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

/**
 * A constant vertex colour for a geometry (linear RGB, like glTF's COLOR_0).
 * @param {Color} colour
 * @param {import('three').BufferGeometry} geometry
 * @returns {BufferAttribute} (n, 3) normalised uint16: exact enough for any 8-bit sRGB colour
 */
function colourAttribute(colour, geometry) {
  const n = geometry.getAttribute('position').count;
  const rgb = [colour.r, colour.g, colour.b].map((c) => Math.round(Math.min(1, Math.max(0, c)) * 65535));
  const array = new Uint16Array(n * 3);
  for (let i = 0; i < n * 3; i += 3) array.set(rgb, i);
  return new BufferAttribute(array, 3, true);
}
