/**
 * Sensors layer (issue 18): a scene's traffic counting stations from the twin server's sensors API, in
 * place: a marker per station (bicycle and car told apart by shape, colour and label), its counted road
 * section on the street coloured by the count of the current 15-minute step, a time control that replays
 * a day (the data's last full day by default; "now" for a live source), and a station's chart (uPlot) on
 * a pick. In VR the time control hangs under the XR menu and the chart is a board in front of the visitor.
 * Without the sensors API (a static build folder) or without stations the layer stays out of sight.
 * Markers and sections stand on the ground: the terrain under each point where the scene has terrain
 * (placed again as finer terrain tiles arrive), else the scene's lowest point.
 */
import { Ray, Vector2, Vector3 } from 'three';
import { ecefToEnu, enuToWorld, geodeticToEcef } from '../geo.js';
import { language, t } from '../ui/i18n.js';
import { StationChart } from '../sensors/chart.js';
import { SensorMarkers } from '../sensors/markers.js';
import { SensorsPanel } from '../sensors/panel.js';
import { niceMax } from '../sensors/ramp.js';
import { addDays, dayRange, daySteps, lastFullDay, localDate, localMidnight, TimeStepper } from '../sensors/time.js';
import { ChartBoard, SensorStrip } from '../sensors/vr.js';

const LAYOUT_SECONDS = 0.25;
const CLICK_SLOP = 5;
/** Sections and marker feet this far above the scene's lowest point (metres). */
const LIFT = 0.4;

/** A station's id from its GeoJSON Feature. */
function stationId(feature) {
  return String(feature.id ?? feature.properties?.id);
}

/** A station name for a label: Hamburg's "Verkehrszählstelle 0269952" as "0269952", at most 24 characters. */
function shortName(name) {
  const short = name.replace(/^(verkehrs)?zählstelle\s+/i, '');
  return short.length > 24 ? `${short.slice(0, 23)}…` : short;
}

export class SensorsLayer {
  constructor() {
    this.name = 'sensors';
    this.base = null;
    this.status = null;
    this.features = [];
    this.day = null;
    this.sums = [];
    this.max = 1;
    this.picked = null;
    this._since = LAYOUT_SECONDS;
    this._heights = new Map();
    this._down = new Vector2();
    this._seq = 0;
  }

  init(ctx) {
    this.ctx = ctx;
    const { renderer, world, scene, ui } = ctx;
    this.stepper = new TimeStepper([], { onChange: () => this._apply() });
    this.markers = new SensorMarkers();
    world.add(this.markers.group);
    this.panel = new SensorsPanel(ui.root, {
      onToggle: () => this._press('sensors-play'),
      onSpeed: () => this._press('sensors-speed'),
      onPrev: () => this._press('sensors-prev'),
      onNext: () => this._press('sensors-next'),
      onStep: (i) => this.stepper.set(i),
      onDate: (date) => this.showDay(date),
      onNow: () => this.now(),
    });
    this.chart = new StationChart(ui.root, () => this.closeChart());
    this.strip = new SensorStrip();
    this.board = new ChartBoard();
    scene.add(this.board.mesh);
    const canvas = renderer.domElement;
    this._listeners = [
      [canvas, 'pointerdown', (e) => this._down.set(e.clientX, e.clientY)],
      [canvas, 'pointerup', (e) => this._click(e)],
    ];
    for (let i = 0; i < 2; i++) {
      const c = renderer.xr.getController(i);
      this._listeners.push([c, 'select', () => this._xrSelect(c)]);
    }
    for (const [target, type, fn] of this._listeners) target.addEventListener(type, fn);
  }

  dispose() {
    for (const [target, type, fn] of this._listeners ?? []) target.removeEventListener(type, fn);
    this._xr()?.menu.removePanel?.(this.strip);
    this.markers?.dispose();
    this.panel?.dispose();
    this.chart?.dispose();
    this.strip?.dispose();
    this.board?.dispose();
  }

  // scene ---------------------------------------------------------------------------------------------
  onSceneOpened(sceneObj) {
    const seq = ++this._seq;
    this.status = null;
    this.features = [];
    this.day = null;
    this.stepper.pause();
    this.stepper.setSteps([], 0);
    this.markers.setStations([]);
    /** @type {Map<string, number>} the last known ground under each station point */
    this._heights = new Map();
    this.panel.el.hidden = true;
    this.closeChart();
    this.base = sceneObj.id ? `/api/scenes/${encodeURIComponent(sceneObj.id)}/sensors` : null;
    if (!this.base) return;
    const { fetchJson } = this.ctx.api;
    Promise.all([fetchJson(`${this.base}/status`), fetchJson(`${this.base}/items?limit=10000`)]).then(
      ([status, items]) => {
        if (seq !== this._seq || !status.time_range || !items.features?.length) return;
        this.status = status;
        this.tz = status.timezone || 'UTC';
        this.live = (status.sources ?? []).some((s) => s.live);
        this.features = items.features;
        this._place();
        const range = status.time_range;
        this.panel.set({ live: this.live, range: { min: localDate(range.start, this.tz), max: localDate(range.end - 1, this.tz) } });
        return this.showDay(lastFullDay(range, this.tz), { peak: true });
      },
      () => {
        if (seq === this._seq) this.base = null; // no sensors here (a static folder, an older server)
      },
    );
  }

  onSceneLoaded() {
    this._place();
  }

  /** Place the stations once both the scene (origin, ground) and the stations are there. */
  _place() {
    const { sceneInfo } = this.ctx;
    const origin = sceneInfo.scene?.origin;
    if (!origin || !this.features.length) return;
    const flat = sceneInfo.bounds?.box.min.y ?? 0;
    const terrain = this.ctx.host.get('terrain');
    const local = ([lon, lat]) => {
      const p = new Vector3(...enuToWorld(ecefToEnu(origin, geodeticToEcef(lon, lat, origin.height ?? 0))));
      // A point whose terrain tile is out of view now keeps the height it had.
      const key = `${lon},${lat}`;
      const ground = terrain?.heightAt(p.x, p.z) ?? this._heights.get(key) ?? null;
      if (ground !== null) this._heights.set(key, ground);
      p.y = (ground ?? flat) + LIFT;
      return p;
    };
    this._terrainState = this._terrainKey();
    const stations = this.features.map((f) => {
      const g = f.geometry ?? {};
      const line = g.type === 'LineString' ? g.coordinates.map(local) : [];
      const point = g.type === 'Point' ? local(g.coordinates) : line[Math.floor(line.length / 2)] ?? local([origin.lon, origin.lat]);
      const p = f.properties ?? {};
      return { id: stationId(f), kind: ['bicycle', 'car'].includes(p.kind) ? p.kind : 'other', name: String(p.name ?? f.id), unit: p.unit ?? '', point, line };
    });
    this.markers.setStations(stations);
    this._apply();
    this._since = LAYOUT_SECONDS;
  }

  // time ----------------------------------------------------------------------------------------------
  /**
   * Load a local day's 15-minute counts and replay it.
   * @param {string} date YYYY-MM-DD (the source's time zone)
   * @param {{peak?: boolean, at?: number}} [options] stand on the day's busiest step, or on an instant
   */
  async showDay(date, { peak = false, at = null } = {}) {
    if (!this.base || !date) return;
    const seq = this._seq;
    const day = dayRange(date, this.tz);
    const doc = await this.ctx.api.fetchJson(`${this.base}/observations?bucket=15min&from=${day.start}&to=${day.end}&tz=${encodeURIComponent(this.tz)}`);
    if (seq !== this._seq) return;
    const byId = new Map((doc.stations ?? []).map((s) => [s.id, s.sums]));
    const steps = doc.starts?.length ? doc.starts : daySteps(day);
    this.day = { ...day, steps };
    // In the order of the stations (_place keeps the features' order).
    this.sums = this.features.map((f) => byId.get(stationId(f)) ?? []);
    this.max = niceMax(this.sums.flat());
    let index = this.stepper.index;
    if (peak) {
      const totals = steps.map((_, i) => this.sums.reduce((a, s) => a + (s[i] ?? 0), 0));
      index = totals.indexOf(Math.max(...totals));
    }
    this.stepper.setSteps(steps, index);
    if (at !== null) this.stepper.setTime(at);
    this.panel.el.hidden = false;
    this.panel.set({ steps: steps.length, date, max: this.max });
    this._apply();
    if (this.picked !== null) this.openChart(this.picked, { xr: this.board.mesh.visible });
  }

  /** A live source: today, at the latest step there is. */
  now() {
    if (!this.status) return;
    const end = Math.min(Date.now() / 1000, this.status.time_range.end);
    return this.showDay(localDate(end - 1, this.tz), { at: end - 1 });
  }

  /** Colour the sections for the current step and update the time labels. */
  _apply() {
    const i = this.stepper.index;
    this.markers.setValues(this.sums.map((s) => s[i] ?? null), this.max);
    const label = this.timeLabel();
    this.panel.set({ index: i, label, playing: this.stepper.playing, speed: this.stepper.speed });
    this.strip.draw({ label, playing: this.stepper.playing, speed: this.stepper.speed });
    this.chart.mark(this.stepper.time);
  }

  /** The current step as the visitor reads it: weekday, date, 14:15–14:30 (source's time zone). */
  timeLabel() {
    const ts = this.stepper.time;
    if (ts === null) return '';
    const fmt = (s, o) => new Intl.DateTimeFormat(language(), { timeZone: this.tz, ...o }).format(new Date(s * 1000));
    return `${fmt(ts, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' })} ${fmt(ts, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })}–${fmt(ts + 900, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })}`;
  }

  /** A time-control action (desktop buttons and the XR strip share the ids). */
  _press(id) {
    const s = this.stepper;
    if (id === 'sensors-play') s.toggle();
    else if (id === 'sensors-speed') s.faster();
    else if (id === 'sensors-prev') s.step(-1);
    else if (id === 'sensors-next') s.step(1);
    else if ((id === 'sensors-day-prev' || id === 'sensors-day-next') && this.day) {
      const date = addDays(this.day.date, id === 'sensors-day-next' ? 1 : -1);
      const r = this.status.time_range;
      if (localMidnight(date, this.tz) < r.end && dayRange(date, this.tz).end > r.start) this.showDay(date);
    }
    this.lastPressed = id;
    this._apply();
  }

  // picking -------------------------------------------------------------------------------------------
  /**
   * Open a station's chart: the loaded day's profile, the week before it and the day's facts.
   * @param {number} index station index
   * @param {{xr?: boolean}} [options] show it on the headset board
   */
  async openChart(index, { xr = false } = {}) {
    const station = this.markers.stations[index];
    if (!station || !this.day) return;
    this.picked = index;
    const from = localMidnight(addDays(this.day.date, -6), this.tz);
    const summary = await this.ctx.api.fetchJson(`${this.base}/items/${encodeURIComponent(station.id)}/summary?from=${from}&to=${this.day.end}`);
    if (this.picked !== index) return;
    this.chart.show(station, { date: this.day.date, starts: this.day.steps, sums: this.sums[index], summary, tz: this.tz, unit: station.unit });
    this.chart.mark(this.stepper.time);
    this.chart.el.querySelector('#sensor-chart-close').focus({ preventScroll: true });
    const x = this._xr();
    if (xr && x?.session) {
      const facts = this.chart.el.querySelector('.facts').textContent;
      const title = this.chart.el.querySelector('h2').textContent;
      this.board.show(title, facts, this.chart.canvases(), x.headPosition(), this.ctx.world.localToWorld(station.point.clone()));
    }
    this.chartShown = { station: station.id, xr: this.board.mesh.visible, ...this.chart.shown };
  }

  closeChart() {
    this.picked = null;
    this.chartShown = null;
    this.chart?.hide();
    this.board?.hide();
  }

  _click(e) {
    if (this._down.distanceTo(new Vector2(e.clientX, e.clientY)) > CLICK_SLOP || !this.markers.stations.length) return;
    const { renderer, camera } = this.ctx;
    const rect = renderer.domElement.getBoundingClientRect();
    const ndc = new Vector2(((e.clientX - rect.left) / rect.width) * 2 - 1, -((e.clientY - rect.top) / rect.height) * 2 + 1);
    camera.updateMatrixWorld();
    const origin = new Vector3().setFromMatrixPosition(camera.matrixWorld);
    const dir = new Vector3(ndc.x, ndc.y, 0.5).unproject(camera).sub(origin).normalize();
    const index = this.markers.pick(new Ray(origin, dir));
    if (index === null) return;
    // The chart takes the info panel's place: the building behind the station is not the pick.
    this.ctx.host.get('picking')?.select(null);
    this.openChart(index);
  }

  // XR ------------------------------------------------------------------------------------------------
  _xr() {
    return this.ctx.host.get('xr')?.xr ?? null;
  }

  onXRStart() {
    const xr = this._xr();
    if (xr && !xr.menu.panels?.includes(this.strip)) xr.menu.addPanel?.(this.strip);
    this.strip.mesh.visible = this.markers.stations.length > 0;
  }

  onXREnd() {
    this.board.hide();
  }

  /**
   * A controller select. Runs before the XR session's (this layer registers first): a press on the
   * time strip acts here (the session ignores its ids); a station opens its chart board, and whatever
   * the session then picks behind the station is undone once the event is over.
   */
  _xrSelect(controller) {
    const xr = this._xr();
    if (!xr?.session || !this.markers.stations.length) return;
    controller.updateMatrixWorld(true);
    const origin = new Vector3().setFromMatrixPosition(controller.matrixWorld);
    const ray = new Ray(origin, new Vector3(0, 0, -1).transformDirection(controller.matrixWorld));
    if (controller === xr.hands.left) return;
    const button = this.strip.hit(ray);
    if (button) {
      this._press(button);
      return;
    }
    if (xr.menu.hit(ray)) return;
    const index = this.markers.pick(ray);
    if (index === null) return;
    const before = xr.picker.selected;
    this.openChart(index, { xr: true });
    queueMicrotask(() => {
      if (xr.picker.selected === before) return;
      xr.picker.select(null);
      xr.info.hide();
    });
  }

  // frame ---------------------------------------------------------------------------------------------
  /** What the terrain has loaded (a change places the stations again on the finer ground). */
  _terrainKey() {
    const info = this.ctx.host.get('terrain')?.info();
    return info ? `${info.url}|${info.models}|${info.loadProgress}` : '';
  }

  update(dt) {
    if (this.stepper.tick(dt)) this._apply();
    this._since += dt;
    if (this._since < LAYOUT_SECONDS || !this.markers.stations.length) return;
    this._since = 0;
    if (this._terrainKey() !== this._terrainState) this._place();
    const { renderer, camera, world } = this.ctx;
    const cam = renderer.xr.isPresenting ? renderer.xr.getCamera() : camera;
    cam.updateMatrixWorld(true);
    world.updateMatrixWorld(true);
    const eye = world.worldToLocal(new Vector3().setFromMatrixPosition(cam.matrixWorld));
    this.markers.layout(eye, (s, v) => `${t(`sensors.kind.${s.kind}`)}: ${v ?? '–'} · ${shortName(s.name)}`, renderer.xr.isPresenting ? 6 : 10);
  }

  /** Test hook: each station's section colour now, by station id. */
  sectionColours() {
    return Object.fromEntries(this.markers.stations.map((s, i) => [s.id, this.markers.shownColours?.[i] ?? null]));
  }
}
