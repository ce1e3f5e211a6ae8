/**
 * Variants of one scene: the existing state ("base") and each design variant, each a tileset.
 * Shows one at a time, toggles between two (A/B), or splits the screen (swipe view) by drawing
 * the two tilesets with scissor rectangles. TilesRenderers are created lazily and kept, so a
 * toggle does not reload tiles.
 */

/** Key of the existing state. */
export const BASE = 'base';

/**
 * Metrics a planner compares, in display order: key, unit, and how several designs of one variant
 * add up (areas and volumes sum, heights and storeys take the largest).
 */
export const METRICS = [
  ['footprint_area', 'm²', 'sum'],
  ['gross_floor_area', 'm²', 'sum'],
  ['volume', 'm³', 'sum'],
  ['height', 'm', 'max'],
  ['storeys', '', 'max'],
];

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);

/**
 * The metrics table of a variant: for each metric, the new designs' value, the value of the
 * existing buildings they replace, and the change.
 *
 * Reads the builder's scene.json (`designs[].metrics`, `metrics_delta: {removed: {count, ...},
 * delta: {...}}`, docs/architecture.md). A flat `metrics_delta` of numbers (older or foreign
 * scene.json) shows as change-only rows.
 * @param {object} scene normalised scene
 * @param {string} key variant id or BASE
 * @returns {{rows: {key: string, unit: string, design: number|null, removed: number|null,
 *   change: number|null}[], removedCount: number|null, designs: string[]}|null} null for BASE or
 *   an unknown id
 */
export function metricsTable(scene, key) {
  const v = scene.variants.find((x) => x.id === key);
  if (!v) return null;
  const designs = v.designs ?? [];
  const md = v.metrics_delta ?? {};
  const nested = md.delta !== null && typeof md.delta === 'object';
  const removed = nested && md.removed && typeof md.removed === 'object' ? md.removed : {};
  const delta = nested ? md.delta : {};
  const rows = [];
  for (const [name, unit, how] of METRICS) {
    const values = designs.map((d) => d.metrics?.[name]).filter(isNum);
    const design = values.length === 0 ? null : how === 'sum' ? values.reduce((a, b) => a + b, 0) : Math.max(...values);
    const old = isNum(removed[name]) ? removed[name] : null;
    let change = isNum(delta[name]) ? delta[name] : null;
    if (change === null && design !== null && old !== null) change = design - old;
    if (design !== null || old !== null || change !== null) rows.push({ key: name, unit, design, removed: old, change });
  }
  if (!nested) {
    // Flat deltas: every number is a change of a metric named by its key.
    for (const [name, value] of Object.entries(md)) {
      if (isNum(value) && !rows.some((r) => r.key === name)) rows.push({ key: name, unit: '', design: null, removed: null, change: value });
    }
  }
  return {
    rows,
    removedCount: isNum(removed.count) ? removed.count : Array.isArray(v.removed) ? v.removed.length : null,
    designs: designs.map((d) => d.title ?? d.id),
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
