/**
 * Sun and shadows layer: wraps lighting.js (sun, sky, ground) with the date and place it is computed
 * for, fits it to the loaded scene, and keeps the shadow map (and the few tiles that cast into it) on what
 * the visitor looks at.
 */
import { Vector3 } from 'three';
import { Lighting } from '../lighting.js';
import { sunPosition, sunTimes } from '../sun.js';

/** Frames between two choices of the shadow-casting tiles (sorting a few hundred tiles is cheap, not free). */
const CASTER_EVERY = 10;

/** Ground plane size in scene radii: a horizon at street level, just past the buildings on the table. */
const GROUND_RADII = { street: 8, tabletop: 1.5 };

/** `date` if the sun is up there (above 5°), else that day's solar noon: a visit starts in daylight. */
export function daylight(date, geo) {
  if (sunPosition(date, geo.lat, geo.lon).elevation > 5) return date;
  return sunTimes(date, geo.lat, geo.lon).noon;
}

export class SunLayer {
  /**
   * @param {{explicitDate: boolean}} options explicitDate: the page set `?date=`, so a scene load keeps
   *   that instant instead of moving it into daylight
   */
  constructor({ explicitDate = false } = {}) {
    this.name = 'sun';
    this.explicitDate = explicitDate;
    this._focus = new Vector3();
    /** every TilesRenderer made so far: their drawn tile scenes are the shadow casters to choose from */
    this.tiles = new Set();
    this._frames = 0;
    this._drawn = -1;
  }

  onTiles(tiles) {
    this.tiles.add(tiles);
  }

  init(ctx) {
    this.ctx = ctx;
    /** @type {Lighting} */
    this.lighting = new Lighting(ctx.world);
    ctx.handlers.onDateTime = (date) => this.setDate(date);
  }

  dispose() {
    this.ctx.world.remove(this.lighting.sun, this.lighting.sun.target, this.lighting.sky, this.lighting.ground);
  }

  /**
   * Place the sun for an instant (at the scene's place) and tell the panel and the other layers.
   * @param {Date} date
   */
  setDate(date) {
    const info = this.ctx.sceneInfo;
    info.date = date;
    this.ctx.ui.setDateTime(date);
    this.ctx.ui.setSun(this.lighting.setSun(date, info.geo.lat, info.geo.lon));
    this.ctx.host.emit('onDateChanged', date);
  }

  /** Move the sun by `hours` (XR menu). */
  shiftTime(hours) {
    this.setDate(new Date(this.ctx.sceneInfo.date.getTime() + hours * 3600e3));
  }

  /** @returns {string} the time of day shown in the XR menu */
  timeLabel() {
    return this.ctx.sceneInfo.date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }

  /** Fit ground and shadow camera to the scene bounds, and start the visit in daylight. */
  fit() {
    const info = this.ctx.sceneInfo;
    if (!info.bounds) return;
    this.lighting.fit(info.bounds.sphere, info.bounds.box.min.y);
    this.setDate(this.explicitDate ? info.date : daylight(info.date, info.geo));
  }

  onSceneLoaded() {
    this.fit();
  }

  onModeChanged(mode) {
    if (mode === 'tabletop' || mode === 'street') this.lighting.setGroundExtent(GROUND_RADII[mode]);
  }

  onXREnd() {
    this.lighting.setGroundExtent(GROUND_RADII.street);
    this.fit();
  }

  /** Centre the sun's shadow map on what is looked at (orbit target, walker, VR visitor). */
  update() {
    const { renderer, camera, nav, world, sceneInfo } = this.ctx;
    if (!sceneInfo.bounds) return;
    const xr = this.ctx.host.get('xr')?.xr;
    if (renderer.xr.isPresenting) {
      if (xr?.mode === 'street') this.lighting.focus(xr.viewerScenePosition(), 150);
      else this.lighting.focus(sceneInfo.bounds.sphere.center, Infinity);
    } else if (nav.mode === 'walk') this.lighting.focus(world.worldToLocal(this._focus.copy(camera.position)), 120);
    else this.lighting.focus(world.worldToLocal(this._focus.copy(nav.map.target)), camera.position.distanceTo(nav.map.target) * 0.9);
    let drawn = 0;
    for (const tiles of this.tiles) drawn += tiles.group.children.length;
    // Again at once when tiles came or went (a new tile casts until chosen), else every few frames.
    if (drawn !== this._drawn || this._frames++ % CASTER_EVERY === 0) this.limitCasters();
    this._drawn = drawn;
  }

  /** Choose the tiles that cast shadows: the nearest to the shadow focus (lighting.js, MAX_SHADOW_TILES). */
  limitCasters() {
    const scenes = [];
    for (const tiles of this.tiles) scenes.push(...tiles.group.children);
    this.casting = this.lighting.limitCasters(scenes, this.ctx.world);
  }
}
