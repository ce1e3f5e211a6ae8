/**
 * Street context layer: roads, areas and trees from scene.json `layers` (ids "roads", "areas", "trees"),
 * each an ADD-refined tileset placed like the buildings (same origin), with a toggle in the panel. Picking
 * a road, an area or a tree shows its OSM tags like a building's attributes: roads and areas carry
 * EXT_mesh_features per vertex (the picker reads them as for buildings); trees are instances
 * (EXT_mesh_gpu_instancing), whose feature id is the instance attribute `_FEATURE_ID_0`.
 */
import { createTiles } from '../tiles.js';
import { featureAtHit } from '../picking.js';
import { t } from '../ui/i18n.js';

/** Context layer ids, in drawing order. */
export const CONTEXT_LAYERS = ['areas', 'roads', 'trees'];

/**
 * The tileset URL of a context layer, resolved against the scene's tileset (null when the scene has none).
 * @param {object} sceneObj normalised scene (api.js)
 * @param {string} id 'roads' | 'areas' | 'trees'
 * @returns {string|null}
 */
export function contextUrl(sceneObj, id) {
  const layer = (sceneObj.layers ?? []).find((l) => l.id === id);
  if (!layer?.tileset) return null;
  return layer.tileset_url ?? new URL(layer.tileset, sceneObj.tileset).href;
}

/**
 * The OSM tags of a picked context feature, flattened for the attribute panel.
 * @param {Record<string, any>} properties the property table row (id, kind, tags as JSON, width)
 * @returns {Record<string, any>}
 */
export function contextProperties(properties) {
  const { tags, width, ...rest } = properties;
  let parsed = {};
  try {
    parsed = tags ? JSON.parse(tags) : {};
  } catch {
    parsed = { tags };
  }
  const out = { ...parsed, ...rest };
  if (typeof width === 'number' && width > 0) out.width = width;
  return out;
}

/** A hit on an instanced tree: its row of the tile's property table. */
function instanceFeature(hit) {
  const mesh = hit.object;
  const ids = mesh.geometry.getAttribute('_FEATURE_ID_0');
  let metadata = null;
  for (let o = mesh; o && !metadata; o = o.parent) metadata = o.userData?.structuralMetadata ?? null;
  const featureId = ids && hit.instanceId !== undefined ? Math.round(ids.getX(hit.instanceId)) : null;
  const properties = metadata && featureId !== null ? { ...metadata.getPropertyTableData(0, featureId) } : {};
  return { featureId, properties, className: 'tree', object: mesh, point: hit.point.clone(), highlight: null };
}

export class ContextLayer {
  constructor() {
    this.name = 'context';
    /** @type {Map<string, import('3d-tiles-renderer').TilesRenderer>} by layer id */
    this.tiles = new Map();
    /** @type {Map<string, boolean>} the toggles' state, kept across scenes */
    this.shown = new Map(CONTEXT_LAYERS.map((id) => [id, true]));
  }

  init(ctx) {
    this.ctx = ctx;
    this.box = document.createElement('fieldset');
    this.box.id = 'context-layers';
    this.box.hidden = true;
    const legend = document.createElement('legend');
    legend.dataset.i18n = 'layers.label';
    legend.textContent = t('layers.label');
    this.box.append(legend);
    // In the toolbar, like the Navigation fieldset: a bare child of #ui is fixed at the corner, over the scene
    // list. It goes on the first row, after the compare controls: at 1280 px the toolbar then keeps to two rows.
    const root = ctx.ui?.root;
    const toolbar = root?.querySelector('#toolbar');
    const after = toolbar?.querySelector('#split-wrap');
    if (after) after.after(this.box);
    else (toolbar ?? root ?? document.body).append(this.box);
  }

  dispose() {
    this._clear();
    this.box?.remove();
  }

  onSceneOpened(sceneObj) {
    this._clear();
    this.scene = sceneObj;
    const { renderer, camera, world, host } = this.ctx;
    for (const id of CONTEXT_LAYERS) {
      const url = contextUrl(sceneObj, id);
      if (!url) continue;
      const tiles = createTiles(url, { renderer, camera, origin: sceneObj.origin ?? null });
      tiles.group.name = `context:${id}`;
      tiles.group.visible = this.shown.get(id);
      world.add(tiles.group);
      this.tiles.set(id, tiles);
      host.emit('onTiles', tiles);
    }
    this._toggles();
  }

  update() {
    const { camera, renderer } = this.ctx;
    for (const tiles of this.tiles.values()) {
      if (!tiles.group.visible) continue;
      if (!renderer.xr.isPresenting) tiles.setResolutionFromRenderer(camera, renderer);
      tiles.update();
    }
  }

  /** Show or hide a context layer. @param {string} id @param {boolean} on */
  setVisible(id, on) {
    this.shown.set(id, on);
    const tiles = this.tiles.get(id);
    if (tiles) tiles.group.visible = on;
    const input = this.box?.querySelector(`input[value="${id}"]`);
    if (input) input.checked = on;
  }

  /** Load summary per layer for tests: {id: {url, models, errors, rootLoaded, loadProgress, visible}}. */
  info() {
    const out = {};
    for (const [id, t] of this.tiles) {
      out[id] = { url: t.rootURL, models: t.stats.models, errors: t.stats.errors, rootLoaded: t.stats.rootLoaded, loadProgress: t.loadProgress, visible: t.group.visible };
    }
    return out;
  }

  /** The nearest context hit under a ray's raycaster (after the picking layer set it up), or null. */
  pick(raycaster) {
    const roots = [...this.tiles.values()].filter((t) => t.group.visible).map((t) => t.group);
    const hits = raycaster.intersectObjects(roots, true).filter((h) => h.object.isMesh && h.object.visible);
    return hits[0] ?? null;
  }

  onPick(hit) {
    const picking = this.ctx.host.get('picking');
    if (!picking || this.ctx.sceneInfo.mode === 'measure' || !this.tiles.size) return;
    const mine = this.pick(picking.picker.raycaster);
    // A building in front of the road (or tree) wins; the sky or the ground behind it does not.
    if (!mine || (hit && hit.distance <= mine.distance)) return;
    const feature = mine.object.isInstancedMesh ? instanceFeature(mine) : featureAtHit(mine);
    feature.properties = contextProperties(feature.properties);
    picking.picker.select(null);
    picking.picker.selected = feature;
    this.ctx.ui.showAttributes(feature);
  }

  _toggles() {
    this.box.querySelectorAll('label').forEach((l) => l.remove());
    for (const id of this.tiles.keys()) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = id;
      input.checked = this.shown.get(id);
      input.addEventListener('change', () => this.setVisible(id, input.checked));
      const name = document.createElement('span');
      name.dataset.i18n = `layers.${id}`;
      name.textContent = t(`layers.${id}`);
      label.append(input, ' ', name);
      this.box.append(label);
    }
    this.box.hidden = this.tiles.size === 0;
  }

  _clear() {
    for (const tiles of this.tiles.values()) {
      this.ctx.world.remove(tiles.group);
      tiles.dispose();
    }
    this.tiles.clear();
  }
}
