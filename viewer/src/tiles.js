/**
 * TilesRenderer set-up: one function builds a renderer for a tileset URL with the plugins every
 * twin tileset needs, keeps load statistics for the UI and tests, and prepares tile meshes (merged
 * to few draw calls, see `merge.js`) for shadows and per-feature highlighting (see `picking.js`).
 */
import { Box3, Matrix4, Sphere } from 'three';
import { TilesRenderer } from '3d-tiles-renderer';
import { GLTFExtensionsPlugin, ImplicitTilingPlugin, ReorientationPlugin } from '3d-tiles-renderer/plugins';
import { MeshoptDecoder } from 'three/addons/libs/meshopt_decoder.module.js';
import { DRACO_GLTF_CONFIG, DRACOLoader } from 'three/addons/loaders/DRACOLoader.js';
import { mergeTileMeshes } from './merge.js';
import { withFacade } from './facade/material.js';

const DEG = Math.PI / 180;

/**
 * Screen-space error targets (pixels) per mode. City tilesets have coarse parents (merged blocks, REPLACE)
 * whose geometric error says what they get wrong; a larger target keeps them longer. At street level every
 * view is drawn twice at the Quest's resolution, so it accepts twice the desktop's error and refines only
 * the few hundred metres around the visitor. The table-top miniature shrinks a city's errors with it (a
 * 14 km city on a 1.2 m table, where a pixel is some 20 m of city), so it asks for finer blocks than the
 * desktop: at 6 px the 100k-building bench city stayed on its root's 64 blocks (bench/README.md, "Viewer
 * budget at city scale"); a scene of a few tiles loads all of them, as before.
 */
export const ERROR_TARGETS = { desktop: 12, tabletop: 2, street: 24 };

/**
 * The error target of a mode: 'tabletop' or 'street' in XR, any desktop tool ('orbit', 'walk', 'measure').
 * @param {string} mode
 * @returns {number} pixels
 */
export function errorTargetFor(mode) {
  return ERROR_TARGETS[mode] ?? ERROR_TARGETS.desktop;
}

/**
 * One Draco decoder (one worker pool) for every tileset: our tiles are Draco-compressed. The glTF build
 * of three.js's decoder is enough (its URLs are resolved and bundled by Vite); meshopt stays registered
 * for tilesets from other tools.
 */
let draco = null;
function dracoLoader() {
  draco ??= new DRACOLoader().setDecoderPath(DRACO_GLTF_CONFIG);
  return draco;
}

/**
 * Patch a tile material so fragments whose `_feature_id_0` equals the `highlightId` uniform are
 * tinted. The uniform object is shared by every mesh of one tile (feature ids index that tile's
 * property table), so a building split across primitives lights up as one.
 * @param {import('three').Material} material
 * @param {{value: number}} uniform
 * @param {boolean} hasFeatureIds whether the geometry carries `_feature_id_0`
 * @returns {import('three').Material} a patched clone
 */
export function highlightableMaterial(material, uniform, hasFeatureIds) {
  const m = material.clone();
  m.onBeforeCompile = (shader) => {
    shader.uniforms.highlightId = uniform;
    // Meshes without feature ids (foreign sample tilesets) highlight as a whole: id 0 stands for "the mesh".
    const idExpr = hasFeatureIds ? '_feature_id_0' : '0.0';
    shader.vertexShader = shader.vertexShader
      .replace(
        '#include <common>',
        `#include <common>\n${hasFeatureIds ? 'attribute float _feature_id_0;' : ''}\nvarying float vFeatureId;`,
      )
      .replace('#include <begin_vertex>', `#include <begin_vertex>\nvFeatureId = ${idExpr};`);
    shader.fragmentShader = shader.fragmentShader
      .replace('#include <common>', '#include <common>\nuniform float highlightId;\nvarying float vFeatureId;')
      .replace(
        '#include <dithering_fragment>',
        '#include <dithering_fragment>\nif (abs(vFeatureId - highlightId) < 0.5) gl_FragColor.rgb = mix(gl_FragColor.rgb, vec3(1.0, 0.55, 0.1), 0.65);',
      );
  };
  m.customProgramCacheKey = () => `twin-highlight-${hasFeatureIds}`;
  return m;
}

/**
 * TilesRenderer plugin that prepares every tile model before the renderer records its geometries
 * and materials (so the renderer disposes what we made when the tile unloads): merge meshes that
 * draw alike, then make the rest cast shadows and carry the highlight uniform.
 */
export class TwinTilePlugin {
  constructor() {
    this.name = 'TWIN_TILE_PLUGIN';
    /** meshes as loaded and as drawn, summed over every tile loaded so far */
    this.meshes = { loaded: 0, drawn: 0 };
  }

  /** @param {import('three').Object3D} scene @returns {void} */
  processTileModel(scene) {
    const { before, after } = mergeTileMeshes(scene);
    this.meshes.loaded += before;
    this.meshes.drawn += after;
    prepareTileScene(scene);
  }
}

/**
 * Build a TilesRenderer for one tileset.
 * @param {string} url tileset.json URL
 * @param {object} options
 * @param {import('three').WebGLRenderer} options.renderer
 * @param {import('three').Camera} options.camera
 * @param {{lon: number, lat: number, height?: number}|null} [options.origin] scene origin (degrees):
 *   tilesets of one scene are all placed relative to it so variants line up; without it the
 *   tileset is re-centred on its own bounding sphere
 * @param {number} [options.errorTarget] screen-space error in pixels (default: the desktop's)
 * @returns {TilesRenderer} with `stats` ({models, errors, rootLoaded, meshes: {loaded, drawn}})
 */
export function createTiles(url, { renderer, camera, origin = null, errorTarget = ERROR_TARGETS.desktop }) {
  const tiles = new TilesRenderer(url);
  tiles.registerPlugin(new GLTFExtensionsPlugin({ meshoptDecoder: MeshoptDecoder, dracoLoader: dracoLoader(), autoDispose: false }));
  tiles.registerPlugin(new ImplicitTilingPlugin());
  const twin = new TwinTilePlugin();
  tiles.registerPlugin(twin);
  tiles.registerPlugin(
    new ReorientationPlugin(
      origin ? { lat: origin.lat * DEG, lon: origin.lon * DEG, height: origin.height ?? 0, recenter: true } : { recenter: true },
    ),
  );
  tiles.errorTarget = errorTarget;
  tiles.setCamera(camera);
  tiles.setResolutionFromRenderer(camera, renderer);
  tiles.stats = { models: 0, errors: [], rootLoaded: false, meshes: twin.meshes };
  tiles.addEventListener('load-root-tileset', () => (tiles.stats.rootLoaded = true));
  tiles.addEventListener('load-error', (e) => tiles.stats.errors.push(String(e.error?.message ?? e.error ?? e.url)));
  tiles.addEventListener('load-model', () => tiles.stats.models++);
  return tiles;
}

/**
 * Make a freshly loaded tile cast and receive shadows and carry the highlight uniform.
 * @param {import('three').Object3D} scene the tile's glTF scene
 */
export function prepareTileScene(scene) {
  const uniform = { value: -1 };
  scene.userData.highlight = uniform;
  scene.traverse((o) => {
    if (!o.isMesh) return;
    o.castShadow = true;
    o.receiveShadow = true;
    const hasIds = Boolean(o.geometry.getAttribute('_feature_id_0'));
    // City tiles' walls also get the procedural facade (facade/material.js; others are left alone).
    const patch = (mat) => withFacade(highlightableMaterial(mat, uniform, hasIds), o);
    // The loader's materials are replaced (and never drawn): the renderer disposes the clones.
    o.material = Array.isArray(o.material) ? o.material.map(patch) : patch(o.material);
    o.userData.highlight = uniform;
  });
}

/**
 * Bounds of a loaded tileset in the coordinates of `frame` (an ancestor of the tiles group, e.g.
 * the world group), from the root's oriented box so a georeferenced tileset gets a tight box.
 * @param {TilesRenderer} tiles
 * @param {import('three').Object3D|null} [frame] null for three.js world coordinates
 * @returns {{box: Box3, sphere: Sphere}|null}
 */
export function tilesBounds(tiles, frame = null) {
  const obb = new Box3();
  const obbMatrix = new Matrix4();
  if (!tiles.root || !tiles.getOrientedBoundingBox(obb, obbMatrix)) return null;
  tiles.group.updateMatrixWorld(true);
  const toFrame = frame ? frame.matrixWorld.clone().invert() : new Matrix4();
  toFrame.multiply(tiles.group.matrixWorld).multiply(obbMatrix);
  const box = obb.applyMatrix4(toFrame);
  return { box, sphere: box.getBoundingSphere(new Sphere()) };
}

/**
 * Wait until a tileset finished loading what the current camera needs.
 * @param {TilesRenderer} tiles
 * @returns {boolean} true when the root is loaded and nothing is pending
 */
export function tilesSettled(tiles) {
  return tiles.stats.rootLoaded && tiles.loadProgress === 1;
}
