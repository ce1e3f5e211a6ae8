// The placement map: a top-down canvas with the scene's building footprints and streets (with names), the
// design's real footprint as the number fields place it, its origin and its footprint's centre (the anchor
// is one of them), and (dashed) where the last build put it. Drag the design to move it, drag the round
// handle or shift-drag to turn it about its middle, drag elsewhere to pan, wheel to zoom, click the ground
// to put the design there (or, in "show" mode, to see the building there). Keyboard: arrows move
// (Shift: 10 m), [ and ] turn 5° (Shift: 1°), + and - zoom, C centres the view on the design.
import {
  footprint, headingOf, inside, normaliseHeading, outerRings, placedRings, rotate, roundDeg, toDegrees, toMetres,
} from './geo.js';

const HANDLE_PX = 28; // the rotate handle sits this far beyond the design's far edge, screen pixels
const CLICK_PX = 4; // a press that moves less than this is a click

/** The house number of an address such as "Osterstraße 176a, 20255 Hamburg" ("176a"), or "". */
export function houseNumber(address) {
  const m = (address || '').split(',')[0].match(/\s(\d+\s?[a-zA-Z]?(?:\s?[-–/]\s?\d+[a-zA-Z]?)?)$/);
  return m ? m[1] : '';
}

export class PlacementMap {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {(anchor: {lon: number, lat: number, heading: number}, how: string) => void} onChange called
   *   when the map moves or turns the design (how: 'move', 'turn', 'place')
   */
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.onChange = onChange;
    this.view = { lon: 0, lat: 0, mpp: 0.5 }; // centre (degrees) and metres per CSS pixel
    this.hasView = false;
    this.buildings = []; // [{id, address, name, rings: [[lon, lat]...]}]
    this.streets = []; // [{name, kind, lines: [[lon, lat]...][]}]
    this.removed = new Set(); // buildings the variant removes (drawn red, dashed)
    this.kept = new Set(); // buildings the design overlaps that stay (drawn with an orange edge)
    this.highlight = null; // id of the building found or picked (drawn blue)
    this.bounds = null; // design bounds (2, 3) from the upload, or null
    this.outline = null; // the design's footprint rings (local metres) from the upload, or null
    this.centre = null; // the footprint's centre (local metres) from the upload, or null
    this.anchor = null; // {lon, lat, heading, scale, point: 'centre'|'origin'} or null
    this.built = null; // [[lon, lat] x4] where the last build placed this design's bounds, or null
    this.builtOutline = null; // [[[lon, lat]...]] the last build's real footprint of it, or null
    this.clickMode = 'place'; // what a click on the map does: 'place' the design, or 'show' the building
    this.onPick = () => {}; // (building or null, {lon, lat}) after a click in 'show' mode
    this.drag = null;
    this.dirty = false;
    new ResizeObserver(() => this.draw()).observe(canvas);
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', (e) => this.up(e));
    canvas.addEventListener('pointercancel', () => (this.drag = null));
    canvas.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    canvas.addEventListener('keydown', (e) => this.key(e));
  }

  /** Building footprints (GeoJSON features in lon/lat); ids in `removed` are drawn as removed. */
  setBuildings(features, removed = []) {
    this.buildings = features.map((f) => {
      const rings = outerRings(f.geometry);
      const pts = rings[0] ?? [];
      const mid = pts.length ? [pts.reduce((a, p) => a + p[0], 0) / pts.length, pts.reduce((a, p) => a + p[1], 0) / pts.length] : null;
      const address = f.properties?.address ?? '';
      return { id: f.properties?.id ?? f.id, address, name: f.properties?.name ?? '', rings, mid, number: houseNumber(address) };
    });
    this.setRemoved(removed);
    if (!this.hasView && this.buildings.length) this.fitBuildings();
  }

  /** Streets (GeoJSON LineString/MultiLineString features in lon/lat with `name` and `kind`). */
  setStreets(features) {
    this.streets = features.map((f) => {
      const g = f.geometry || {};
      const lines = g.type === 'LineString' ? [g.coordinates] : g.type === 'MultiLineString' ? g.coordinates : [];
      return { name: f.properties?.name ?? '', kind: f.properties?.kind ?? '', lines };
    });
    this.request();
  }

  /** @param {string[]} ids buildings the current variant removes @param {string[]} kept overlapped, staying */
  setRemoved(ids, kept = []) {
    this.removed = new Set(ids);
    this.kept = new Set(kept);
    this.request();
  }

  /** The building whose footprint holds lon/lat (the last drawn, on top), or null. */
  buildingAt(lon, lat) {
    for (let i = this.buildings.length - 1; i >= 0; i -= 1) {
      if (this.buildings[i].rings.some((ring) => inside([lon, lat], ring))) return this.buildings[i];
    }
    return null;
  }

  /** Centre the view on a building and draw it highlighted (null: no highlight). */
  showBuilding(b) {
    this.highlight = b ? b.id : null;
    if (b) {
      const pts = b.rings.flat();
      const lon = pts.reduce((a, p) => a + p[0], 0) / pts.length;
      const lat = pts.reduce((a, p) => a + p[1], 0) / pts.length;
      this.centreOn(lon, lat);
    }
    this.request();
  }

  /** Centre the view on lon/lat, keeping the zoom (or zooming in to 0.3 m per pixel the first time). */
  centreOn(lon, lat) {
    this.view = { lon, lat, mpp: this.hasView ? Math.min(this.view.mpp, 0.5) : 0.3 };
    this.hasView = true;
    this.request();
  }

  /**
   * The design as the form has it; any may be null.
   * @param {number[][]|null} bounds (2, 3) from the upload
   * @param {object|null} anchor {lon, lat, heading, scale, point}
   * @param {number[][][]|null} outline the footprint's rings from the upload (local metres)
   * @param {number[]|null} centre the footprint's centre from the upload (local metres)
   */
  setDesign(bounds, anchor, outline = null, centre = null) {
    this.bounds = bounds;
    this.outline = outline && outline.length ? outline : null;
    this.centre = centre;
    const valid = anchor && Number.isFinite(anchor.lon) && Number.isFinite(anchor.lat);
    const first = valid && !this.anchor;
    this.anchor = valid ? { heading: 0, scale: 1, point: 'origin', ...anchor } : null;
    if (first && !this.hasView) this.centreOnDesign();
    this.request();
  }

  /** Where the last build put the design: its bounds' corners [[lon, lat], ...] and its real footprint
   * rings [[[lon, lat], ...], ...] (either may be null). */
  setBuilt(corners, outline = null) {
    this.built = corners;
    this.builtOutline = outline && outline.length ? outline : null;
    this.request();
  }

  /** Centre the view on the design (120 m across the first time). */
  centreOnDesign() {
    if (!this.anchor) return;
    const mpp = this.hasView ? this.view.mpp : 120 / (this.canvas.clientWidth || 600);
    this.view = { ...this.designCentre(), mpp };
    this.hasView = true;
    this.request();
  }

  fitBuildings() {
    let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const b of this.buildings) {
      for (const ring of b.rings) {
        for (const [lon, lat] of ring) {
          w = Math.min(w, lon); e = Math.max(e, lon); s = Math.min(s, lat); n = Math.max(n, lat);
        }
      }
    }
    if (!Number.isFinite(w)) return;
    const centre = { lon: (w + e) / 2, lat: (s + n) / 2 };
    const [dx, dy] = toMetres(e, n, centre);
    const width = this.canvas.clientWidth || 600;
    const height = this.canvas.clientHeight || 300;
    this.view = { ...centre, mpp: Math.max((2.2 * dx) / width, (2.2 * dy) / height, 0.05) };
    this.hasView = true;
    this.request();
  }

  // --- coordinates ------------------------------------------------------------------------------
  /** Screen (CSS pixels in the canvas) of a lon/lat. @returns {[number, number]} */
  screenOf(lon, lat) {
    const [e, n] = toMetres(lon, lat, this.view);
    return [this.canvas.clientWidth / 2 + e / this.view.mpp, this.canvas.clientHeight / 2 - n / this.view.mpp];
  }

  /** Lon/lat of a screen point (CSS pixels in the canvas). */
  lonLatOf(x, y) {
    const e = (x - this.canvas.clientWidth / 2) * this.view.mpp;
    const n = (this.canvas.clientHeight / 2 - y) * this.view.mpp;
    return toDegrees(e, n, this.view);
  }

  /** The design's local point at the anchor's position: [0, 0] (its origin) or its footprint's centre. */
  pivot() {
    return this.anchor?.point === 'centre' ? this.footprintCentre() : [0, 0];
  }

  /** The footprint's centre in the design's local frame (unscaled): the upload's, else the bounds' middle. */
  footprintCentre() {
    if (this.centre) return this.centre;
    if (!this.bounds) return [0, 0];
    return [(this.bounds[0][0] + this.bounds[1][0]) / 2, (this.bounds[0][1] + this.bounds[1][1]) / 2];
  }

  /** The design's bounding rectangle in screen pixels, or null. */
  designScreen() {
    if (!this.anchor || !this.bounds) return null;
    const [ax, ay] = this.screenOf(this.anchor.lon, this.anchor.lat);
    return footprint(this.bounds, this.anchor, this.pivot()).map(([e, n]) => [ax + e / this.view.mpp, ay - n / this.view.mpp]);
  }

  /** The design's real footprint rings in screen pixels (its bounding rectangle when the upload has none). */
  designRings() {
    if (!this.anchor) return [];
    if (!this.outline) return this.designScreen() ? [this.designScreen()] : [];
    const [ax, ay] = this.screenOf(this.anchor.lon, this.anchor.lat);
    return placedRings(this.outline, this.anchor, this.pivot()).map((ring) =>
      ring.map(([e, n]) => [ax + e / this.view.mpp, ay - n / this.view.mpp]));
  }

  /** Is a screen point on the design (inside one of its footprint rings)? */
  onDesign(p) {
    return this.designRings().some((ring) => inside(p, ring));
  }

  /** The rotate handle (screen pixels): beyond the footprint's far edge, from its centre along the design's +Y axis. */
  handleScreen() {
    if (!this.anchor) return null;
    const corners = this.designScreen() ?? [this.screenOf(this.anchor.lon, this.anchor.lat)];
    const c = this.designCentre(); // the pivot it turns about
    const [cx, cy] = this.screenOf(c.lon, c.lat);
    const reach = Math.max(...corners.map(([x, y]) => Math.hypot(x - cx, y - cy))) + HANDLE_PX;
    const h = (this.anchor.heading * Math.PI) / 180;
    return [cx + Math.sin(h) * reach, cy - Math.cos(h) * reach];
  }

  /** From the anchor's position to the footprint's centre, in the design's frame, scaled: [x, y] metres. */
  localCentre() {
    const s = this.anchor.scale || 1;
    const [cx, cy] = this.footprintCentre();
    const [px, py] = this.pivot();
    return [(cx - px) * s, (cy - py) * s];
  }

  /** Lon/lat of the design's local origin. */
  originLonLat() {
    const s = this.anchor.scale || 1;
    const [px, py] = this.pivot();
    return toDegrees(...rotate(-px * s, -py * s, this.anchor.heading), this.anchor);
  }

  /** Anchor by the other point ('centre' or 'origin') without moving the design: the position follows. */
  switchPoint(point) {
    if (!this.anchor || this.anchor.point === point) {
      if (this.anchor) this.anchor.point = point;
      return;
    }
    const at = point === 'centre' ? this.designCentre() : this.originLonLat();
    this.change({ lon: roundDeg(at.lon), lat: roundDeg(at.lat), point }, 'point');
  }

  /** Lon/lat of the middle of the design's footprint: the pivot it turns about. */
  designCentre() {
    return toDegrees(...rotate(...this.localCentre(), this.anchor.heading), this.anchor);
  }

  /** Turn the design to `heading` about the middle of its footprint (the anchor moves around it). */
  turnTo(heading) {
    const centre = this.designCentre();
    const [e, n] = rotate(...this.localCentre(), heading);
    const to = toDegrees(-e, -n, centre);
    this.change({ lon: roundDeg(to.lon), lat: roundDeg(to.lat), heading }, 'turn');
  }

  // --- input ------------------------------------------------------------------------------------
  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  down(e) {
    if (e.button !== 0) return;
    const p = this.point(e);
    const handle = this.handleScreen();
    let mode = 'pan';
    if (this.anchor && handle && Math.hypot(p[0] - handle[0], p[1] - handle[1]) < 12) mode = 'turn';
    else if (this.anchor && e.shiftKey) mode = 'turn';
    else if (this.onDesign(p)) mode = 'move';
    this.drag = { mode, start: p, last: p, moved: false, anchor: this.anchor && { ...this.anchor }, view: { ...this.view } };
    if (mode === 'turn') this.drag.angle0 = this.angleAt(p);
    this.canvas.setPointerCapture(e.pointerId);
    this.canvas.focus({ preventScroll: true }); // keys work after a drag; the page must not jump under the pointer
    e.preventDefault();
  }

  /** Heading from the design's pivot to a screen point. */
  angleAt(p) {
    const c = this.designCentre();
    const [cx, cy] = this.screenOf(c.lon, c.lat);
    return headingOf(p[0] - cx, cy - p[1]);
  }

  move(e) {
    const d = this.drag;
    if (!d) {
      this.canvas.style.cursor = this.cursorAt(this.point(e));
      return;
    }
    const p = this.point(e);
    if (!d.moved && Math.hypot(p[0] - d.start[0], p[1] - d.start[1]) < CLICK_PX) return;
    d.moved = true;
    const dx = p[0] - d.start[0];
    const dy = p[1] - d.start[1];
    if (d.mode === 'pan') {
      this.view = { ...toDegrees(-dx * d.view.mpp, dy * d.view.mpp, d.view), mpp: d.view.mpp };
      this.request();
    } else if (d.mode === 'move') {
      const to = toDegrees(dx * this.view.mpp, -dy * this.view.mpp, d.anchor);
      this.change({ lon: roundDeg(to.lon), lat: roundDeg(to.lat) }, 'move');
    } else {
      // Turn by the angle the pointer swept around the design's middle since the press.
      this.turnTo(normaliseHeading(d.anchor.heading + this.angleAt(p) - d.angle0));
    }
  }

  up(e) {
    const d = this.drag;
    this.drag = null;
    if (!d || d.moved || d.mode !== 'pan') return;
    const at = this.lonLatOf(...this.point(e));
    if (this.clickMode === 'show') {
      const b = this.buildingAt(at.lon, at.lat);
      this.highlight = b ? b.id : null;
      this.request();
      this.onPick(b, at);
      return;
    }
    // A click on the ground puts the design's anchor (its footprint's centre or its origin) there.
    this.highlight = null;
    this.change({ lon: roundDeg(at.lon), lat: roundDeg(at.lat), heading: this.anchor?.heading ?? 0 }, 'place');
  }

  cursorAt(p) {
    const handle = this.handleScreen();
    if (handle && Math.hypot(p[0] - handle[0], p[1] - handle[1]) < 12) return 'grab';
    return this.onDesign(p) ? 'move' : 'crosshair';
  }

  wheel(e) {
    e.preventDefault();
    this.zoom(e.deltaY > 0 ? 1.25 : 0.8, this.point(e));
  }

  /** Zoom by `factor` (> 1 zooms out) keeping the point under `at` (screen pixels) in place. */
  zoom(factor, at = [this.canvas.clientWidth / 2, this.canvas.clientHeight / 2]) {
    const fixed = this.lonLatOf(...at);
    const mpp = Math.min(Math.max(this.view.mpp * factor, 0.02), 50);
    const [e, n] = toMetres(fixed.lon, fixed.lat, this.view);
    const ox = at[0] - this.canvas.clientWidth / 2;
    const oy = this.canvas.clientHeight / 2 - at[1];
    // New centre: the fixed point minus its screen offset at the new scale.
    this.view = { ...toDegrees(e - ox * mpp, n - oy * mpp, this.view), mpp };
    this.request();
  }

  key(e) {
    const step = e.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (moves[e.key] && this.anchor) {
      const to = toDegrees(...moves[e.key], this.anchor);
      this.change({ lon: roundDeg(to.lon), lat: roundDeg(to.lat) }, 'move');
    } else if ((e.key === '[' || e.key === ']' || e.key === '{' || e.key === '}') && this.anchor) {
      const turn = (e.shiftKey ? 1 : 5) * (e.key === '[' || e.key === '{' ? -1 : 1);
      this.turnTo(normaliseHeading(this.anchor.heading + turn));
    } else if (e.key === '+' || e.key === '=') this.zoom(0.8);
    else if (e.key === '-') this.zoom(1.25);
    else if (e.key === 'c' || e.key === 'C') this.centreOnDesign();
    else return;
    e.preventDefault();
  }

  change(patch, how) {
    this.anchor = { heading: 0, scale: 1, point: 'origin', ...this.anchor, ...patch };
    this.request();
    const a = this.anchor;
    this.onChange({ lon: a.lon, lat: a.lat, heading: a.heading, point: a.point }, how);
  }

  // --- drawing ----------------------------------------------------------------------------------
  request() {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.dirty = false;
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = '#f4f3ef';
    g.fillRect(0, 0, w, h);
    this.drawn = {
      buildings: 0, design: false, built: false, streets: 0, streetNames: [], houseNumbers: 0, designVertices: 0, highlight: null,
    };
    if (!this.hasView) {
      this.text(g, 'Enter a longitude and latitude, or build the scene once to see its buildings here.', w / 2, h / 2);
      return;
    }
    this.drawStreets(g);
    for (const b of this.buildings) {
      const gone = this.removed.has(b.id);
      const kept = this.kept.has(b.id);
      g.fillStyle = gone ? 'rgba(200, 60, 60, 0.15)' : '#d4d0c8';
      g.strokeStyle = gone ? '#c83c3c' : kept ? '#e07b00' : '#8f8a80';
      g.lineWidth = kept ? 2 : 1;
      g.setLineDash(gone ? [4, 3] : []);
      for (const ring of b.rings) this.path(g, ring.map(([lon, lat]) => this.screenOf(lon, lat)), true, true);
      this.drawn.buildings += 1;
    }
    g.setLineDash([]);
    g.lineWidth = 1;
    this.drawStreetNames(g);
    this.drawHouseNumbers(g);
    this.drawDesign(g);
    if (this.builtOutline || this.built) {
      // On top of the design: where they agree, blue dashes run along the orange edge.
      g.strokeStyle = '#1f5fbf';
      g.lineWidth = 2;
      g.setLineDash([6, 4]);
      for (const ring of this.builtOutline ?? [this.built]) this.path(g, ring.map(([lon, lat]) => this.screenOf(lon, lat)), false, true);
      g.setLineDash([]);
      g.lineWidth = 1;
      this.drawn.built = true;
    }
    const hit = this.highlight && this.buildings.find((b) => b.id === this.highlight);
    if (hit) {
      g.strokeStyle = '#1f5fbf';
      g.lineWidth = 3;
      for (const ring of hit.rings) this.path(g, ring.map(([lon, lat]) => this.screenOf(lon, lat)), false, true);
      g.lineWidth = 1;
      this.drawn.highlight = hit.id;
    }
    this.drawScale(g, h);
    g.fillStyle = '#333';
    g.font = 'bold 13px system-ui, sans-serif';
    g.fillText('N ↑', w - 34, 18);
  }

  /** Streets as pale bands under the buildings. */
  drawStreets(g) {
    g.lineCap = 'round';
    g.lineJoin = 'round';
    // Twice: a grey casing, then the white carriageway (roads 7 m wide, paths 2.5 m, at least 2 px).
    for (const [casing, extra] of [[true, 2], [false, 0]]) {
      for (const s of this.streets) {
        const road = s.kind === 'road' || !s.kind;
        g.strokeStyle = casing ? '#b9b3a6' : road ? '#ffffff' : '#f1eee8';
        g.lineWidth = Math.max(2, (road ? 7 : 2.5) / this.view.mpp) + extra;
        for (const line of s.lines) this.path(g, line.map(([lon, lat]) => this.screenOf(lon, lat)), false, true, false);
        if (!casing) this.drawn.streets += 1;
      }
    }
    g.lineWidth = 1;
    g.lineCap = 'butt';
  }

  /** House numbers (from the buildings' addresses) in the middle of their footprints, zoomed in enough. */
  drawHouseNumbers(g) {
    if (this.view.mpp > 0.6) return;
    g.fillStyle = '#4a463f';
    g.font = '10px system-ui, sans-serif';
    g.textAlign = 'center';
    let n = 0;
    for (const b of this.buildings) {
      if (!b.number || !b.mid) continue;
      const [x, y] = this.screenOf(...b.mid);
      if (x < 0 || y < 0 || x > this.canvas.clientWidth || y > this.canvas.clientHeight) continue;
      g.fillText(b.number, x, y + 3);
      n += 1;
    }
    g.textAlign = 'start';
    this.drawn.houseNumbers = n;
  }

  /** The streets' names along them (on top of the buildings) when zoomed in enough to read them. */
  drawStreetNames(g) {
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (this.view.mpp > 3) return;
    g.fillStyle = '#555';
    g.font = 'italic 12px system-ui, sans-serif';
    g.textAlign = 'center';
    const named = new Set();
    for (const s of this.streets) {
      if (!s.name || named.has(s.name)) continue;
      // Along the longest on-screen segment of the street.
      let best = null;
      let total = 0; // on-screen length of the street
      for (const line of s.lines) {
        const pts = line.map(([lon, lat]) => this.screenOf(lon, lat));
        for (let i = 1; i < pts.length; i += 1) {
          const [a, b] = [pts[i - 1], pts[i]];
          const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
          const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
          if (mid[0] < 0 || mid[1] < 0 || mid[0] > w || mid[1] > h) continue;
          total += len;
          if (!best || len > best.len) best = { len, mid, angle: Math.atan2(b[1] - a[1], b[0] - a[0]) };
        }
      }
      if (!best || total < g.measureText(s.name).width) continue;
      let { angle } = best;
      if (angle > Math.PI / 2) angle -= Math.PI;
      if (angle < -Math.PI / 2) angle += Math.PI;
      g.save();
      g.translate(...best.mid);
      g.rotate(angle);
      g.fillText(s.name, 0, 4);
      g.restore();
      named.add(s.name);
    }
    g.textAlign = 'start';
    this.drawn.streetNames = [...named];
  }

  drawDesign(g) {
    if (!this.anchor) return;
    const [ax, ay] = this.screenOf(this.anchor.lon, this.anchor.lat);
    const rings = this.designRings();
    if (rings.length) {
      g.fillStyle = 'rgba(230, 120, 20, 0.45)';
      g.strokeStyle = '#b35400';
      g.lineWidth = 2;
      for (const ring of rings) this.path(g, ring, true, true);
      g.lineWidth = 1;
      this.drawn.design = true;
      this.drawn.designVertices = rings.reduce((n, r) => n + r.length, 0);
    }
    const [hx, hy] = this.handleScreen();
    const [mx, my] = this.screenOf(this.designCentre().lon, this.designCentre().lat);
    g.strokeStyle = '#b35400';
    g.beginPath();
    g.moveTo(mx, my);
    g.lineTo(hx, hy);
    g.stroke();
    g.fillStyle = '#fff';
    g.beginPath();
    g.arc(hx, hy, 7, 0, 2 * Math.PI);
    g.fill();
    g.stroke();
    // Both points: the design's local origin (a cross) and its footprint's centre (a dot); the one the
    // anchor names is ringed: that is what lands at the longitude and latitude.
    const o = this.originLonLat();
    const [ox, oy] = this.screenOf(o.lon, o.lat);
    g.beginPath();
    g.moveTo(ox - 6, oy); g.lineTo(ox + 6, oy); g.moveTo(ox, oy - 6); g.lineTo(ox, oy + 6);
    g.stroke();
    g.fillStyle = '#b35400';
    g.beginPath();
    g.arc(mx, my, 3.5, 0, 2 * Math.PI);
    g.fill();
    g.font = '11px system-ui, sans-serif';
    g.fillText('origin', ox + 8, oy - 6);
    g.fillText('centre', mx + 8, my - 6);
    g.strokeStyle = '#1f5fbf';
    g.lineWidth = 2;
    g.beginPath();
    g.arc(ax, ay, 9, 0, 2 * Math.PI);
    g.stroke();
    g.lineWidth = 1;
  }

  drawScale(g, h) {
    // The longest round length (1, 2 or 5 × 10^k m) that fits in 120 pixels.
    const max = 120 * this.view.mpp;
    const k = 10 ** Math.floor(Math.log10(max));
    const len = [5, 2, 1].map((m) => m * k).find((v) => v <= max);
    const px = len / this.view.mpp;
    g.strokeStyle = '#333';
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(10, h - 12); g.lineTo(10 + px, h - 12);
    g.stroke();
    g.lineWidth = 1;
    g.fillStyle = '#333';
    g.font = '12px system-ui, sans-serif';
    g.fillText(`${len} m`, 12, h - 18);
  }

  path(g, pts, fill, stroke, close = true) {
    if (pts.length < 2) return;
    g.beginPath();
    g.moveTo(...pts[0]);
    for (const p of pts.slice(1)) g.lineTo(...p);
    if (close) g.closePath();
    if (fill) g.fill();
    if (stroke) g.stroke();
  }

  text(g, s, x, y) {
    g.fillStyle = '#555';
    g.font = '14px system-ui, sans-serif';
    g.textAlign = 'center';
    g.fillText(s, x, y);
    g.textAlign = 'start';
  }
}
