/**
 * Variants of one scene: the existing state ("base") and each design variant, each a tileset.
 * Shows one at a time, toggles between two (A/B), or splits the screen (swipe view) by drawing
 * the two tilesets with scissor rectangles. TilesRenderers are created lazily and kept, so a
 * toggle does not reload tiles.
 */

/** Key of the existing state. */
export const BASE = 'base';

/**
 * Metric deltas of a variant against the existing state, in display order.
 * @param {object} scene normalised scene
 * @param {string} key variant id or BASE
 * @returns {{designs: {id: string, title: string, metrics: Record<string, number>}[],
 *   deltas: [string, number][], removed: string[]}}
 */
export function variantMetrics(scene, key) {
  const v = scene.variants.find((x) => x.id === key);
  if (!v) return { designs: [], deltas: [], removed: [] };
  return {
    designs: v.designs ?? [],
    deltas: Object.entries(v.metrics_delta ?? {}),
    removed: v.removed ?? [],
  };
}

export class VariantManager {
  /**
   * @param {object} scene normalised scene (api.js)
   * @param {(url: string) => import('3d-tiles-renderer').TilesRenderer} makeTiles
   * @param {import('three').Object3D} parent the world group the tiles are added to
   */
  constructor(scene, makeTiles, parent) {
    this.scene = scene;
    this.makeTiles = makeTiles;
    this.parent = parent;
    /** @type {Map<string, import('3d-tiles-renderer').TilesRenderer>} */
    this.tiles = new Map();
    this.active = BASE;
    /** @type {string|null} the other side of A/B toggle and swipe */
    this.compare = scene.variants[0]?.id ?? null;
    this.swipe = false;
    /** split position, 0..1 of the canvas width: left shows `active`, right shows `compare` */
    this.split = 0.5;
    this.listeners = new Set();
    this._ensure(BASE);
  }

  /** @returns {string[]} BASE and every variant id */
  keys() {
    return [BASE, ...this.scene.variants.map((v) => v.id)];
  }

  /** Tileset URL of a key. */
  url(key) {
    return key === BASE ? this.scene.tileset : this.scene.variants.find((v) => v.id === key)?.tileset;
  }

  _ensure(key) {
    if (!this.tiles.has(key)) {
      const url = this.url(key);
      if (!url) throw new Error(`unknown variant "${key}" in scene "${this.scene.id}"`);
      const tiles = this.makeTiles(url);
      tiles.group.name = `tiles:${key}`;
      this.parent.add(tiles.group);
      this.tiles.set(key, tiles);
    }
    return this.tiles.get(key);
  }

  /** @returns {import('3d-tiles-renderer').TilesRenderer} the active tileset */
  get current() {
    return this._ensure(this.active);
  }

  /** TilesRenderers drawn now (one, or two in swipe view). */
  visible() {
    const list = [this._ensure(this.active)];
    if (this.swipe && this.compare && this.compare !== this.active) list.push(this._ensure(this.compare));
    return list;
  }

  /**
   * Show one variant.
   * @param {string} key
   */
  show(key) {
    this._ensure(key);
    if (key === this.compare) this.compare = this.active;
    this.active = key;
    this._emit();
  }

  /** Cycle to the next variant (keyboard, VR menu). */
  next(step = 1) {
    const keys = this.keys();
    this.show(keys[(keys.indexOf(this.active) + step + keys.length) % keys.length]);
  }

  /** A/B toggle: swap the active and the compared variant. */
  toggle() {
    if (this.compare) this.show(this.compare);
  }

  /** @param {string|null} key the variant to compare with */
  setCompare(key) {
    this.compare = key;
    if (key) this._ensure(key);
    this._emit();
  }

  /** @param {boolean} on */
  setSwipe(on) {
    this.swipe = Boolean(on) && Boolean(this.compare);
    this._emit();
  }

  /** Update every visible tileset for the camera; hide the others. */
  update() {
    const visible = new Set(this.visible());
    for (const tiles of this.tiles.values()) {
      tiles.group.visible = visible.has(tiles);
      if (visible.has(tiles)) tiles.update();
    }
  }

  /**
   * Draw the frame: the active variant, or both halves of the swipe view.
   * @param {import('three').WebGLRenderer} renderer
   * @param {import('three').Scene} scene
   * @param {import('three').Camera} camera
   */
  render(renderer, scene, camera) {
    const list = this.visible();
    if (list.length < 2 || renderer.xr.isPresenting) {
      renderer.render(scene, camera);
      return;
    }
    const size = renderer.getSize(new (camera.position.constructor)());
    const x = Math.round(size.x * this.split);
    const [left, right] = list;
    renderer.setScissorTest(true);
    for (const [tiles, other, rect] of [
      [left, right, [0, 0, x, size.y]],
      [right, left, [x, 0, size.x - x, size.y]],
    ]) {
      tiles.group.visible = true;
      other.group.visible = false;
      renderer.setScissor(...rect);
      renderer.setViewport(0, 0, size.x, size.y);
      renderer.render(scene, camera);
    }
    renderer.setScissorTest(false);
    left.group.visible = right.group.visible = true;
  }

  /** @param {() => void} fn called after every change */
  onChange(fn) {
    this.listeners.add(fn);
  }

  _emit() {
    this.listeners.forEach((fn) => fn(this));
  }

  /** Dispose every TilesRenderer. */
  dispose() {
    for (const tiles of this.tiles.values()) {
      this.parent.remove(tiles.group);
      tiles.dispose();
    }
    this.tiles.clear();
  }
}
