/**
 * Scene and variants layer: opens a scene, keeps its VariantManager (variants.js) in
 * `sceneInfo.variants`, frames the camera when the first tileset loads, and ties the variant
 * controls (panel, keys V and C) to it.
 */
import { Sphere } from 'three';
import { boundsCenter } from '../geo.js';
import { createTiles, tilesBounds } from '../tiles.js';
import { t } from '../ui/i18n.js';
import { BASE, VariantManager } from '../variants.js';

const RAD = 180 / Math.PI;
/** Hamburg, for tilesets that are not georeferenced. */
export const FALLBACK_GEO = { lat: 53.5511, lon: 9.9937 };

/** Where the sun is computed: scene origin, scene bounds, the tileset's own georeference, or Hamburg. */
export function geoFor(sceneObj, tiles) {
  if (sceneObj.origin) return { lat: sceneObj.origin.lat, lon: sceneObj.origin.lon };
  if (sceneObj.bounds) return boundsCenter(sceneObj.bounds);
  const s = new Sphere();
  if (tiles.getBoundingSphere(s) && s.center.length() > 6e6) {
    // A georeferenced tileset without scene metadata: take its centre on the ellipsoid.
    const cart = {};
    tiles.ellipsoid.getPositionToCartographic(s.center, cart);
    return { lat: cart.lat * RAD, lon: cart.lon * RAD };
  }
  return FALLBACK_GEO;
}

export class VariantsLayer {
  constructor() {
    this.name = 'variants';
  }

  init(ctx) {
    this.ctx = ctx;
    const variants = () => ctx.sceneInfo.variants;
    Object.assign(ctx.handlers, {
      onScene: (id) => this.open(ctx.sceneInfo.scenes.find((s) => s.id === id)),
      onVariant: (key) => variants()?.show(key),
      onCompare: (key) => variants()?.setCompare(key),
      onToggle: () => variants()?.toggle(),
      onSwipe: (on) => variants()?.setSwipe(on),
      onSplit: (x) => variants() && (variants().split = x),
    });
  }

  dispose() {
    this.ctx.sceneInfo.variants?.dispose();
    this.ctx.sceneInfo.variants = null;
  }

  /** @returns {string} what the UI calls a variant (or the existing state) */
  title(key) {
    if (key === BASE) return t('variant.existing');
    return this.ctx.sceneInfo.scene?.variants.find((v) => v.id === key)?.title ?? key;
  }

  /**
   * Show a scene: its existing state, or the variant `?variant=<id>` asks for (the planner's preview link).
   * @param {object|undefined} sceneObj normalised scene (api.js)
   */
  open(sceneObj) {
    if (!sceneObj) return;
    const { sceneInfo: info, ui, host, params } = this.ctx;
    info.variants?.dispose();
    host.emit('onSceneOpened', sceneObj);
    info.scene = sceneObj;
    info.framed = false;
    info.bounds = null;
    info.variants = new VariantManager(sceneObj, (url) => this._makeTiles(url), this.ctx.world);
    info.variants.onChange(() => {
      ui.refresh();
      host.emit('onVariantChanged', info.variants.active);
    });
    ui.setScenes(info.scenes, sceneObj);
    ui.setVariants(info.variants);
    const wanted = params.get('variant');
    if (wanted && sceneObj.variants.some((v) => v.id === wanted)) info.variants.show(wanted);
    document.title = `${sceneObj.title} – ${t('app.title')}`;
  }

  _makeTiles(url) {
    const { renderer, camera, sceneInfo: info, ui, host } = this.ctx;
    const tiles = createTiles(url, { renderer, camera, origin: info.scene?.origin ?? null });
    tiles.addEventListener('load-root-tileset', () => {
      // The first tileset of the scene to load frames it (the existing state, or the variant opened by URL).
      if (info.framed || ![...(info.variants?.tiles.values() ?? [])].includes(tiles)) return;
      this._frame(tiles);
    });
    tiles.addEventListener('load-error', (e) => ui.setStatus(t('status.error', { what: e.url ?? url })));
    host.emit('onTiles', tiles);
    return tiles;
  }

  _frame(tiles) {
    const { nav, world, sceneInfo: info, host } = this.ctx;
    info.geo = geoFor(info.scene, tiles);
    world.updateMatrixWorld(true);
    info.bounds = tilesBounds(tiles, world);
    nav.groundY = info.bounds.box.min.y;
    if (!host.get('xr')?.xr.session) nav.frame(info.bounds.sphere);
    info.framed = true;
    host.emit('onSceneLoaded', { scene: info.scene, bounds: info.bounds, geo: info.geo, tiles });
  }

  onKey(e) {
    const variants = this.ctx.sceneInfo.variants;
    if (e.key === 'v' || e.key === 'V') variants?.next(e.shiftKey ? -1 : 1);
    else if (e.key === 'c' || e.key === 'C') variants?.toggle();
  }
}
