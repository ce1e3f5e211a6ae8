/**
 * Terrain layer: the scene's ground from scene.json `layers` (id "terrain"), a REPLACE-refined tileset
 * placed like the buildings (same origin), under them. A variant with designs has a terrain of its own
 * (its sites levelled, every other tile the city's blob); the layer follows the active variant. Where
 * there is terrain, the flat ground plane of the sun layer is hidden (it stays a jump target in XR).
 * `heightAt(x, z)` is the ground under a scene point (ground.js): the desktop walker and the VR visitor
 * stand on it, sensor stations are placed on it.
 */
import { GroundProbe } from '../ground.js';
import { createTiles } from '../tiles.js';
import { BASE } from '../variants.js';

/**
 * The terrain tileset URL for a variant (or the existing state), resolved against the scene's tileset.
 * @param {object} sceneObj normalised scene (api.js)
 * @param {string} key variant id or BASE
 * @returns {string|null}
 */
export function terrainUrl(sceneObj, key = BASE) {
  const owner = key === BASE ? sceneObj : sceneObj.variants.find((v) => v.id === key);
  const layer = (owner?.layers ?? []).find((l) => l.id === 'terrain') ?? (sceneObj.layers ?? []).find((l) => l.id === 'terrain');
  if (!layer?.tileset) return null;
  // Layer paths are relative to the build folder, as the scene's own `tileset` is.
  return layer.tileset_url ?? new URL(layer.tileset, sceneObj.tileset).href;
}

export class TerrainLayer {
  constructor() {
    this.name = 'terrain';
    /** @type {Map<string, import('3d-tiles-renderer').TilesRenderer>} by URL */
    this.tiles = new Map();
    this.current = null;
  }

  init(ctx) {
    this.ctx = ctx;
    this.probe = new GroundProbe(ctx.world, () => (this.current ? [this.current.group] : []));
    if (ctx.nav) ctx.nav.groundAt = (x, z) => this.heightAt(x, z);
  }

  /**
   * The terrain's height under a scene point, or null (no terrain, or none loaded there).
   * @param {number} x world-local x
   * @param {number} z world-local z
   * @returns {number|null}
   */
  heightAt(x, z) {
    return this.current ? this.probe.heightAt(x, z) : null;
  }

  dispose() {
    this._clear();
  }

  onSceneOpened(sceneObj) {
    this._clear();
    this.scene = sceneObj;
    this._show(BASE);
  }

  onVariantChanged(key) {
    if (this.scene) this._show(key);
  }

  update() {
    const { camera, renderer } = this.ctx;
    if (!this.current) return;
    if (!renderer.xr.isPresenting) this.current.setResolutionFromRenderer(camera, renderer);
    this.current.update();
  }

  /** Load summary for tests: {url, models, errors, rootLoaded, loadProgress} or null without terrain. */
  info() {
    const t = this.current;
    return t ? { url: t.rootURL, models: t.stats.models, errors: t.stats.errors, rootLoaded: t.stats.rootLoaded, loadProgress: t.loadProgress } : null;
  }

  _show(key) {
    const url = terrainUrl(this.scene, key);
    const ground = this.ctx.host.get('sun')?.lighting.ground;
    if (ground) ground.visible = !url;
    for (const tiles of this.tiles.values()) tiles.group.visible = tiles.rootURL === url;
    if (!url) {
      this.current = null;
      return;
    }
    if (!this.tiles.has(url)) {
      const { renderer, camera, world, host } = this.ctx;
      const tiles = createTiles(url, { renderer, camera, origin: this.scene.origin ?? null });
      tiles.group.name = `terrain:${key}`;
      world.add(tiles.group);
      this.tiles.set(url, tiles);
      host.emit('onTiles', tiles);
    }
    this.current = this.tiles.get(url);
    this.current.group.visible = true;
  }

  _clear() {
    for (const tiles of this.tiles.values()) {
      this.ctx.world.remove(tiles.group);
      tiles.dispose();
    }
    this.tiles.clear();
    this.current = null;
  }
}
