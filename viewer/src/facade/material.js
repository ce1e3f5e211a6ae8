/**
 * The procedural facade: storeys and windows drawn on city tiles' walls by a small patch of the tile
 * material's shader, from the facade coordinates the builder writes (TEXCOORD_0: metres along each
 * wall and up, twin/mesh/model.py) and each building's class and storey height (classify.js, from the
 * tile's property table, put into a 2-byte vertex attribute when the tile loads). No texture to
 * download, one material per tile as before: colours, picking, highlight and variants are untouched,
 * and on a Quest it costs a few ALU operations per wall fragment.
 *
 * Hooked into the tiles' material in tiles.js (`prepareTileScene`).
 */
import { BufferAttribute, Color, Vector4 } from 'three';
import { FACADE_CLASSES, FACADE_STYLES, facadeParams } from './classify.js';

/**
 * Uniforms shared by every facade material: the style table, the glass colour and a switch
 * (`facadeOn.value = 0` draws plain walls, e.g. for a screenshot without facades).
 */
export const FACADE_UNIFORMS = {
  facadeStyles: { value: FACADE_STYLES.map((s) => new Vector4(...s)) },
  facadeGlass: { value: new Color(0.16, 0.2, 0.25) },
  facadeOn: { value: 1 },
};

/** Storey heights travel in decimetres in an unsigned byte (at most 25.5 m). */
const STOREY_UNIT = 0.1;

/**
 * The per-vertex facade attribute of a tile mesh: [class index, storey height in decimetres], 2 bytes
 * per vertex, one property-table lookup per building.
 * @param {import('three').BufferAttribute} featureIds the `_feature_id_0` attribute
 * @param {(id: number) => Record<string, any>} rowOf the property table row of a feature id
 * @returns {BufferAttribute}
 */
export function facadeAttribute(featureIds, rowOf) {
  const out = new Uint8Array(featureIds.count * 2);
  const cache = new Map();
  for (let i = 0; i < featureIds.count; i++) {
    const id = Math.round(featureIds.getX(i));
    let params = cache.get(id);
    if (!params) {
      const [cls, storey] = facadeParams(rowOf(id) ?? {});
      params = [cls, Math.min(255, Math.round(storey / STOREY_UNIT))];
      cache.set(id, params);
    }
    out[2 * i] = params[0];
    out[2 * i + 1] = params[1];
  }
  return new BufferAttribute(out, 2);
}

const VERTEX_HEAD = `
attribute vec2 facade;
varying vec2 vFacadeUv;
varying vec2 vFacade;
varying float vFacadeWall;`;

const VERTEX_BODY = `
vFacadeUv = uv;
vFacade = vec2(facade.x, facade.y * ${STOREY_UNIT.toFixed(2)});
vFacadeWall = step(abs(normal.y), 0.5);`;

const FRAGMENT_HEAD = `
uniform vec4 facadeStyles[${FACADE_CLASSES.length}];
uniform vec3 facadeGlass;
uniform float facadeOn;
varying vec2 vFacadeUv;
varying vec2 vFacade;
varying float vFacadeWall;`;

// Windows as a grid of rectangles per storey (anti-aliased with the screen-space derivatives); far away,
// where a window is under two pixels, the grid fades into its average tone so walls do not shimmer.
const FRAGMENT_BODY = `
float facadeMask = 0.0;
if (facadeOn > 0.5 && vFacadeWall > 0.5) {
  int cls = int(vFacade.x + 0.5);
  vec4 st = facadeStyles[cls];
  float storey = max(vFacade.y, 2.0);
  vec2 g = vec2(vFacadeUv.x / st.x, vFacadeUv.y / storey);
  float level = floor(g.y);
  if (cls == 1 && level < 0.5) st = vec4(st.x, 0.86, 0.7, 0.1);
  vec2 cell = fract(g);
  vec2 w = max(fwidth(g), vec2(1e-4));
  float hx = 0.5 * st.y;
  float mx = smoothstep(0.5 - hx - w.x, 0.5 - hx, cell.x) * (1.0 - smoothstep(0.5 + hx, 0.5 + hx + w.x, cell.x));
  float my = smoothstep(st.w - w.y, st.w, cell.y) * (1.0 - smoothstep(st.w + st.z, st.w + st.z + w.y, cell.y));
  float on = (cls == 4) ? step(level, 0.5) : step(0.0, level);
  float fade = 1.0 - smoothstep(0.2, 0.45, max(w.x, w.y));
  facadeMask = mix(st.y * st.z * on, mx * my * on, fade);
  float band = (1.0 - smoothstep(0.0, w.y + 0.015, cell.y)) * step(0.5, level) * fade;
  diffuseColor.rgb *= 1.0 - 0.1 * band;
  diffuseColor.rgb = mix(diffuseColor.rgb, facadeGlass, 0.88 * facadeMask);
}`;

/**
 * Whether a tile mesh can carry the facade: facade coordinates, feature ids and a property table.
 * @param {import('three').Mesh} mesh
 * @returns {boolean}
 */
export function hasFacadeData(mesh) {
  const g = mesh.geometry;
  return Boolean(g?.getAttribute('uv') && g.getAttribute('_feature_id_0') && mesh.userData.structuralMetadata && mesh.userData.meshFeatures);
}

/**
 * Add the facade to a tile mesh's (already cloned, e.g. highlightable) material: the vertex attribute
 * goes on the geometry, the shader patch runs after the material's own `onBeforeCompile`. Meshes
 * without facade data (designs, foreign tilesets) keep their material as it is.
 * @param {import('three').Material} material
 * @param {import('three').Mesh} mesh
 * @returns {import('three').Material} the same material
 */
export function withFacade(material, mesh) {
  if (!hasFacadeData(mesh)) return material;
  const { meshFeatures, structuralMetadata } = mesh.userData;
  const table = meshFeatures.getFeatureInfo()[0]?.propertyTable;
  if (table === null || table === undefined) return material;
  if (!mesh.geometry.getAttribute('facade')) {
    const rowOf = (id) => structuralMetadata.getPropertyTableData(table, id);
    mesh.geometry.setAttribute('facade', facadeAttribute(mesh.geometry.getAttribute('_feature_id_0'), rowOf));
  }
  const before = material.onBeforeCompile;
  const key = material.customProgramCacheKey;
  material.onBeforeCompile = (shader, renderer) => {
    before?.call(material, shader, renderer);
    Object.assign(shader.uniforms, FACADE_UNIFORMS);
    shader.vertexShader = shader.vertexShader
      .replace('#include <common>', `#include <common>${VERTEX_HEAD}`)
      .replace('#include <begin_vertex>', `#include <begin_vertex>${VERTEX_BODY}`);
    shader.fragmentShader = shader.fragmentShader
      .replace('#include <common>', `#include <common>${FRAGMENT_HEAD}`)
      .replace('#include <color_fragment>', `#include <color_fragment>${FRAGMENT_BODY}`)
      .replace('#include <roughnessmap_fragment>', '#include <roughnessmap_fragment>\nroughnessFactor = mix(roughnessFactor, 0.3, facadeMask);');
  };
  material.customProgramCacheKey = () => `${key ? key.call(material) : ''}|twin-facade`;
  material.userData.facade = FACADE_UNIFORMS;
  material.needsUpdate = true;
  return material;
}
