/**
 * XR layer: the immersive session (xr/session.js) wired to the other layers: its menu switches
 * variants and shifts the sun, picks show in the panel, its table-top and street modes and the
 * session's start and end go out as hooks. Every tileset's error target follows the mode (tiles.js).
 */
import { Color } from 'three';
import { BASE } from '../variants.js';
import { errorTargetFor } from '../tiles.js';
import { t } from '../ui/i18n.js';
import { XRExperience } from '../xr/session.js';

/** The desktop background, restored after an AR session cleared it. */
export const BACKGROUND = 0xcfd8e3;

export class XRLayer {
  constructor() {
    this.name = 'xr';
    /** every TilesRenderer made so far (variants, terrain), for the error target of the mode */
    this.tiles = new Set();
    this.mode = 'desktop';
  }

  /** Needs the 'sun' layer (its ground is a jump target) and the 'picking' layer registered before it. */
  init(ctx) {
    this.ctx = ctx;
    const { host, sceneInfo: info, ui } = ctx;
    const sun = () => host.get('sun');
    const picking = host.get('picking');
    if (!picking) throw new Error('the xr layer needs the picking layer registered (and enabled) before it');
    /** @type {XRExperience} */
    this.xr = new XRExperience({
      renderer: ctx.renderer,
      scene: ctx.scene,
      camera: ctx.camera,
      world: ctx.world,
      picker: picking.picker,
      ground: sun()?.lighting.ground,
      variants: () => info.variants,
      tiles: () => this.tiles,
      groundAt: (x, z) => host.get('terrain')?.heightAt(x, z) ?? null,
      bounds: () => info.bounds,
      hooks: {
        nextVariant: (step) => info.variants?.next(step),
        variantTitle: () => this._variantTitle(),
        shiftTime: (hours) => sun()?.shiftTime(hours),
        timeLabel: () => sun()?.timeLabel() ?? '',
        onStart: (mode) => host.emit('onXRStart', mode),
        onEnd: () => host.emit('onXREnd'),
        onPick: (feature) => ui.showAttributes(feature),
        onMode: (mode) => host.emit('onModeChanged', mode),
      },
    });
    ctx.handlers.onEnterXR = (mode) => this.xr.start(mode).catch((e) => ui.setStatus(t('status.error', { what: e.message })));
  }

  dispose() {
    this.xr.end();
  }

  _variantTitle() {
    return this.ctx.host.get('variants')?.title(this.ctx.sceneInfo.variants?.active ?? BASE) ?? '';
  }

  onTiles(tiles) {
    this.xr.adoptTiles(tiles);
    this.tiles.add(tiles);
    // A disposed tileset (its scene closed) has left the world: it leaves the set.
    for (const t of this.tiles) if (t !== tiles && !t.group.parent) this.tiles.delete(t);
    tiles.errorTarget = errorTargetFor(this.mode);
  }

  /** @param {string} mode 'tabletop' | 'street' in XR, a desktop tool otherwise */
  onModeChanged(mode) {
    this._setErrorTarget(mode);
  }

  _setErrorTarget(mode) {
    this.mode = mode;
    for (const tiles of this.tiles) tiles.errorTarget = errorTargetFor(mode);
  }

  onVariantChanged() {
    this.xr.menu.draw({ variant: this._variantTitle() });
  }

  onDateChanged() {
    this.xr.menu.draw({ time: this.xr.hooks.timeLabel() });
  }

  onXRStart() {
    this.ctx.ui.setStatus('');
    this._setErrorTarget(this.xr.mode);
  }

  onXREnd() {
    this.ctx.scene.background = new Color(BACKGROUND);
    this._setErrorTarget('desktop');
  }
}
