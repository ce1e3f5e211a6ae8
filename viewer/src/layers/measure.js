/**
 * Measuring layer: in the 'measure' tool each pick adds a point to measure.js's segment, and the
 * panel shows the result (or the hint to click two points).
 */
import { Measure } from '../measure.js';

export class MeasureLayer {
  constructor() {
    this.name = 'measure';
  }

  init(ctx) {
    this.ctx = ctx;
    /** @type {Measure} */
    this.measure = new Measure(ctx.world);
  }

  dispose() {
    this.measure.clear();
    this.ctx.world.remove(this.measure.group);
  }

  onPick(hit) {
    const { sceneInfo: info, world, ui } = this.ctx;
    if (info.mode === 'measure' && hit) ui.setMeasure(this.measure.addPoint(world.worldToLocal(hit.point.clone())) ?? 'hint');
  }

  onModeChanged(mode) {
    // The XR modes leave the desktop tool as it is.
    if (mode === 'tabletop' || mode === 'street') return;
    this.ctx.ui.setMeasure(mode === 'measure' ? 'hint' : null);
    if (mode !== 'measure') this.measure.clear();
  }

  onSceneOpened() {
    this.measure.clear();
  }

  onKey(e) {
    if (e.key !== 'Escape') return;
    this.measure.clear();
    if (this.ctx.sceneInfo.mode === 'measure') this.ctx.ui.setMeasure('hint');
  }
}
