/**
 * Picking and info layer: turns a click (not a drag) on the canvas into an `onPick` for every layer,
 * and on a pick outside the measuring tool selects the building (picking.js) and shows its
 * attributes in the panel.
 */
import { Vector2 } from 'three';
import { Picker } from '../picking.js';

/** A pointer that moved more than this many pixels between down and up dragged the view. */
const CLICK_SLOP = 5;

export class PickingLayer {
  constructor() {
    this.name = 'picking';
    this.picker = new Picker();
    this._down = new Vector2();
  }

  init(ctx) {
    this.ctx = ctx;
    const canvas = ctx.renderer.domElement;
    this._listeners = [
      ['pointerdown', (e) => this._down.set(e.clientX, e.clientY)],
      ['pointerup', (e) => this._click(e)],
    ];
    for (const [type, fn] of this._listeners) canvas.addEventListener(type, fn);
    ctx.handlers.onCloseInfo = () => this.select(null);
  }

  dispose() {
    for (const [type, fn] of this._listeners ?? []) this.ctx.renderer.domElement.removeEventListener(type, fn);
    this.select(null);
  }

  _click(e) {
    const { sceneInfo: info, host } = this.ctx;
    if (this._down.distanceTo(new Vector2(e.clientX, e.clientY)) > CLICK_SLOP || !info.variants || info.mode === 'walk') return;
    host.emit('onPick', this.pickScreen(e.clientX, e.clientY));
  }

  /** Raycast the visible tiles under a client pixel; in swipe view, the side under the pixel. */
  pickScreen(x, y) {
    const { renderer, camera, sceneInfo: info } = this.ctx;
    const rect = renderer.domElement.getBoundingClientRect();
    const ndcX = ((x - rect.left) / rect.width) * 2 - 1;
    const ndcY = -((y - rect.top) / rect.height) * 2 + 1;
    const visible = info.variants.visible();
    const side = visible.length > 1 && (x - rect.left) / rect.width > info.variants.split ? visible[1] : visible[0];
    return this.picker.intersectScreen(ndcX, ndcY, camera, [side.group]);
  }

  /**
   * Select the feature under a hit (null clears) and show or hide its attributes.
   * @param {object|null} hit
   */
  select(hit) {
    const feature = this.picker.select(hit);
    if (feature) this.ctx.ui.showAttributes(feature);
    else this.ctx.ui.hideAttributes();
    return feature;
  }

  onPick(hit) {
    if (this.ctx.sceneInfo.mode !== 'measure') this.select(hit);
  }

  onSceneOpened() {
    this.select(null);
  }

  onVariantChanged() {
    this.select(null);
  }

  onKey(e) {
    if (e.key === 'Escape') this.select(null);
  }
}
