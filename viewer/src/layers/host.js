/**
 * The layer host: viewer features (sun, variants, picking, measuring, XR, and later street context,
 * pins, avatars, sensors) are layers with a small common shape, in the spirit of 3DTilesRendererJS
 * plugins, so that main.js stays bootstrap and wiring.
 *
 * A layer is a plain object (or class instance) with a `name` and any of these methods:
 *
 *   init(ctx)                 once, at register(); ctx is the shared context (see LayerHost)
 *   dispose()                 once, when the host is disposed or the layer is disabled
 *   update(dt, frame)         every frame before the tiles update; dt in seconds, frame an XRFrame in XR
 *   onSceneOpened(scene)      a scene was chosen (normalised scene.json, api.js); nothing is loaded yet
 *   onSceneLoaded(info)       the scene's first tileset loaded and framed: {scene, bounds, geo, tiles}
 *   onTiles(tiles)            a TilesRenderer was created (a variant's tileset, loaded lazily)
 *   onVariantChanged(id)      the shown variant, compare side or swipe view changed; id of the active one
 *   onModeChanged(mode)       desktop tool 'orbit' | 'walk' | 'measure', or in XR 'tabletop' | 'street'
 *   onDateChanged(date)       the sun's date and time changed
 *   onPick(hit)               a click (not a drag) on the canvas: three.js intersection, or null on the sky
 *   onKey(event)              a keydown outside form fields and without Ctrl or Cmd
 *   onXRStart(sessionMode)    an immersive session started ('immersive-vr' | 'immersive-ar')
 *   onXREnd()                 it ended
 *
 * Hooks run in register order. A layer that throws (in init or any hook) is disabled: its dispose()
 * is tried, the failure is reported (console and `onError`), and the other layers and the frame loop
 * go on.
 */

/** Every hook a layer may implement, besides init and dispose. */
export const HOOKS = [
  'update',
  'onSceneOpened',
  'onSceneLoaded',
  'onTiles',
  'onVariantChanged',
  'onModeChanged',
  'onDateChanged',
  'onPick',
  'onKey',
  'onXRStart',
  'onXREnd',
];

const LIFECYCLE = ['init', 'dispose'];

export class LayerHost {
  /**
   * @param {object} ctx the context every layer's init() receives; the host adds `host` (itself) and
   *   `events` (an EventTarget for messages between layers) when missing. main.js passes
   *   {renderer, scene, camera, world, nav, api, ui, handlers, sceneInfo, params, tiles}.
   * @param {{onError?: (failure: {layer: string, hook: string, error: Error}) => void}} [options]
   */
  constructor(ctx = {}, { onError = null } = {}) {
    this.ctx = ctx;
    ctx.host ??= this;
    ctx.events ??= new EventTarget();
    this.onError = onError;
    /** @type {object[]} layers in register order, disabled ones included */
    this.layers = [];
    /** @type {Set<object>} */
    this.disabled = new Set();
    /** @type {{layer: string, hook: string, error: Error}[]} */
    this.failures = [];
  }

  /**
   * Add a layer and run its init(ctx).
   * @template {{name: string}} L
   * @param {L} layer
   * @returns {L} the layer (disabled when its init threw)
   */
  register(layer) {
    if (!layer || typeof layer.name !== 'string' || !layer.name) throw new TypeError('a layer needs a non-empty string `name`');
    if (this.layers.some((l) => l.name === layer.name)) throw new Error(`layer "${layer.name}" is already registered`);
    for (const hook of [...LIFECYCLE, ...HOOKS]) {
      if (layer[hook] !== undefined && typeof layer[hook] !== 'function') {
        throw new TypeError(`layer "${layer.name}": ${hook} must be a function, not ${typeof layer[hook]}`);
      }
    }
    this.layers.push(layer);
    this._call(layer, 'init', [this.ctx]);
    return layer;
  }

  /**
   * An enabled layer by name.
   * @param {string} name
   * @returns {object|null} null when unknown or disabled (callers degrade with `?.`)
   */
  get(name) {
    const layer = this.layers.find((l) => l.name === name);
    return layer && !this.disabled.has(layer) ? layer : null;
  }

  /** @returns {boolean} whether `name` is registered and not disabled */
  enabled(name) {
    return this.get(name) !== null;
  }

  /**
   * Call a hook on every enabled layer that has it, in register order.
   * @param {string} hook one of HOOKS
   * @param {...any} args
   */
  emit(hook, ...args) {
    if (!HOOKS.includes(hook)) throw new Error(`unknown layer hook "${hook}" (known: ${HOOKS.join(', ')})`);
    for (const layer of this.layers) {
      if (typeof layer[hook] === 'function' && !this.disabled.has(layer)) this._call(layer, hook, args);
    }
  }

  /** The per-frame hook. */
  update(dt, frame) {
    this.emit('update', dt, frame);
  }

  /** Dispose every enabled layer, last registered first, and forget them. */
  dispose() {
    for (const layer of [...this.layers].reverse()) {
      if (this.disabled.has(layer) || typeof layer.dispose !== 'function') continue;
      try {
        layer.dispose();
      } catch (error) {
        this._report(layer, 'dispose', error);
      }
    }
    this.layers = [];
    this.disabled.clear();
  }

  _call(layer, hook, args) {
    try {
      const result = layer[hook]?.(...args);
      // An async init or hook fails later: isolate it the same way.
      if (result && typeof result.then === 'function') result.then(null, (error) => this._fail(layer, hook, error));
    } catch (error) {
      this._fail(layer, hook, error);
    }
  }

  _fail(layer, hook, error) {
    if (this.disabled.has(layer)) return;
    this.disabled.add(layer);
    this._report(layer, hook, error);
    // Let it take down what it added (meshes, listeners); a second error there changes nothing.
    if (hook !== 'dispose' && typeof layer.dispose === 'function') {
      try {
        layer.dispose();
      } catch {
        /* already disabled and reported */
      }
    }
  }

  _report(layer, hook, error) {
    const failure = { layer: layer.name, hook, error: error instanceof Error ? error : new Error(String(error)) };
    this.failures.push(failure);
    console.error(`layer "${layer.name}" failed in ${hook}() and is disabled: ${failure.error.message}`, failure.error);
    try {
      this.onError?.(failure);
    } catch {
      /* the reporter must not break the host */
    }
  }
}
