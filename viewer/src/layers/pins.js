/**
 * Participation layer (issue 10): citizens' contributions as pins in the 3D scene, the list panel, the
 * form to pin a new one on a spot, building or design, support and replies, the in-headset board (VR),
 * lab staff's card entry (`?staff=1` with the moderation page's token), and the per-variant summary.
 *
 * Each contribution keeps what its author saw: the variant, the building or design hit, the camera pose
 * (position, heading, pitch, field of view, mode) and the viewer's date and time of day. Without the
 * twin server's participation API (a static build folder) the layer stays out of sight.
 */
import { Ray, Raycaster, Sphere, Vector2, Vector3 } from 'three';
import { ecefToEnu, enuToGeodetic, enuToWorld, geodeticToEcef, worldToEnu } from '../geo.js';
import { featureAtHit } from '../picking.js';
import { BASE } from '../variants.js';
import { t } from '../ui/i18n.js';
import { ParticipationApi, STAFF_TOKEN_KEY } from '../participation/api.js';
import { PinMarkers } from '../participation/markers.js';
import { PinsPanel } from '../participation/panel.js';
import { PinBoard } from '../participation/vr.js';

const DEG = 180 / Math.PI;
const LAYOUT_SECONDS = 0.25;
const POLL_MS = 15_000;
const CLICK_SLOP = 5;
const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export class PinsLayer {
  constructor({ pollMs = POLL_MS } = {}) {
    this.name = 'pins';
    this.pollMs = pollMs;
    this.api = null;
    this.settings = null;
    this.items = [];
    this.placing = false;
    this._since = LAYOUT_SECONDS;
    this._down = new Vector2();
    this._raycaster = new Raycaster();
  }

  init(ctx) {
    this.ctx = ctx;
    const { params, renderer, world, scene } = ctx;
    this.staff = params.get('staff') === '1' ? (sessionStorage.getItem(STAFF_TOKEN_KEY) ?? null) : null;
    this.panel = new PinsPanel(ctx.ui.root, {
      onAdd: () => this.startPlacing(),
      onHere: () => this.placeAtCentre(),
      onCancel: () => this.stopPlacing(),
      onSubmit: (values) => this.submit(values),
      onVote: (item) => this.vote(item),
      onShow: (item) => this.show(item),
      onReplies: (item) => this.api.replies(item.id),
      onReply: (item, values) => this.reply(item, values),
      onFilter: () => this.refresh(),
    });
    this.panel.staff = Boolean(this.staff);
    this.markers = new PinMarkers();
    world.add(this.markers.group);
    this.board = new PinBoard((id) => this._press(id));
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
    this._timer = setInterval(() => {
      if (this.api && document.visibilityState !== 'hidden') this.refresh().catch(() => {});
    }, this.pollMs);
  }

  dispose() {
    clearInterval(this._timer);
    for (const [target, type, fn] of this._listeners ?? []) target.removeEventListener(type, fn);
    this.markers?.dispose();
    this.board?.dispose();
  }

  // scene ---------------------------------------------------------------------------------------------
  onSceneOpened(sceneObj) {
    this.items = [];
    this.markers.setItems([]);
    this.panel.setItems([]);
    this.settings = null;
    this.panel.setAvailable(null);
    this.api = new ParticipationApi(sceneObj.id, { staffToken: this.staff });
    const api = this.api;
    api.settings().then(
      (settings) => {
        if (api !== this.api) return;
        this.settings = settings;
        this.panel.setAvailable(settings);
        return this.refresh();
      },
      () => {
        if (api === this.api) this.api = null; // no participation here (a static folder, an older server)
      },
    );
  }

  onVariantChanged() {
    if (this.api) this.refresh().catch(() => {});
  }

  onXREnd() {
    this.board.hide();
  }

  /** The active variant as the API names it (null: the existing state). */
  variant() {
    const active = this.ctx.sceneInfo.variants?.active ?? BASE;
    return active === BASE ? null : active;
  }

  /** Load the visible contributions (panel filters) and the summary, and lay out the pins. */
  async refresh() {
    if (!this.api || !this.settings) return;
    const api = this.api;
    const f = this.panel.filters;
    const scope = f.scope === 'current' ? (this.variant() ?? 'existing') : undefined;
    const [list, summary] = await Promise.all([api.list({ category: f.category, sort: f.sort, variant: scope }), api.summary()]);
    if (api !== this.api) return;
    this.items = list.map((item) => ({ ...item, point: this.toLocal(item.position), label: this._label(item) }));
    this.markers.setItems(this.items);
    this.panel.setItems(this.items);
    this.panel.setSummary(summary, this.variant(), this.ctx.host.get('variants')?.title(this.variant() ?? BASE) ?? '');
    this._since = LAYOUT_SECONDS;
  }

  _label(item) {
    const text = item.text.length > 28 ? `${item.text.slice(0, 27)}…` : item.text;
    return `${t(`pins.cat.${item.category}`)} (${item.votes}): ${text}`;
  }

  // coordinates ---------------------------------------------------------------------------------------
  /** A world-local point (scene axes, metres) to {lon, lat, height} (ellipsoidal). */
  toGeo(local) {
    const origin = this.ctx.sceneInfo.scene?.origin;
    if (!origin) return null;
    const g = enuToGeodetic(origin, worldToEnu([local.x, local.y, local.z]));
    return { lon: g.lon, lat: g.lat, height: Math.round(g.height * 100) / 100 };
  }

  /** {lon, lat, height} to a world-local Vector3. */
  toLocal(pos) {
    const origin = this.ctx.sceneInfo.scene?.origin ?? { lon: pos.lon, lat: pos.lat, height: pos.height };
    return new Vector3(...enuToWorld(ecefToEnu(origin, geodeticToEcef(pos.lon, pos.lat, pos.height))));
  }

  /** Where the visitor stands and looks: position, heading and pitch (degrees), field of view, mode. */
  cameraPose() {
    const { renderer, camera, world, sceneInfo } = this.ctx;
    const cam = renderer.xr.isPresenting ? renderer.xr.getCamera() : camera;
    cam.updateMatrixWorld(true);
    const eye = world.worldToLocal(new Vector3().setFromMatrixPosition(cam.matrixWorld));
    const ahead = world.worldToLocal(new Vector3(0, 0, -1).applyMatrix4(cam.matrixWorld)).sub(eye).normalize();
    const [e, n, u] = worldToEnu([ahead.x, ahead.y, ahead.z]);
    const geo = this.toGeo(eye);
    if (!geo) return null;
    const mode = renderer.xr.isPresenting ? (this._xr()?.mode ?? 'street') : sceneInfo.mode;
    const heading = (Math.atan2(e, n) * DEG + 360) % 360;
    return { ...geo, heading: Math.round(heading * 10) / 10, pitch: Math.round(Math.asin(Math.max(-1, Math.min(1, u))) * DEG * 10) / 10, fov: camera.fov, mode };
  }

  /** What a three.js hit points at: a world-local point and the building or design there. */
  placeOf(hit) {
    const local = this.ctx.world.worldToLocal(hit.point.clone());
    const props = hit.object?.userData?.meshFeatures || hit.object?.name ? featureAtHit(hit).properties : {};
    const design = typeof props.design === 'string' && NAME.test(props.design) ? props.design : null;
    const building = typeof props.id === 'string' && props.id ? props.id.slice(0, 200) : null;
    const label = props.name || props.address || building || design || t('pins.ground');
    return { local, building, design, label: String(label) };
  }

  // desktop -------------------------------------------------------------------------------------------
  startPlacing() {
    this.placing = true;
    this.panel.setPicking(true);
  }

  stopPlacing() {
    this.placing = false;
    this.place = null;
    this.panel.closeForm();
  }

  /** Keyboard route to placing: the point under the centre of the view. */
  placeAtCentre() {
    const rect = this.ctx.renderer.domElement.getBoundingClientRect();
    const hit = this.ctx.host.get('picking')?.pickScreen(rect.left + rect.width / 2, rect.top + rect.height / 2);
    if (!hit) {
      this.panel.say(t('pins.nothingThere'), true);
      return;
    }
    this._openForm(this.placeOf(hit));
  }

  onKey(e) {
    if (e.key === 'Escape' && (this.placing || this.place)) this.stopPlacing();
  }

  onPick(hit) {
    if (!this.placing || !hit || !this.api) return;
    this._openForm(this.placeOf(hit));
  }

  _openForm(place) {
    this.place = place;
    this.placing = false;
    this.panel.openForm(place);
  }

  /** Send the form: a citizen's contribution, or (staff) a card with workshop and number. */
  async submit(values) {
    if (!this.place) return;
    const body = this._body(this.place, values.category, values.text, values.name, 'web');
    try {
      let made;
      if (this.staff) made = await this.api.createAnalogue({ ...body, channel: 'analogue', workshop: values.workshop, card: values.card });
      else made = await this.api.create(body);
      this.stopPlacing();
      this.panel.say(made.status === 'visible' ? t('pins.thanks') : t('pins.thanksPending'));
      await this.refresh();
      this.lastCreated = made;
    } catch (e) {
      this.panel.say(e.message, true);
    }
  }

  _body(place, category, text, name, channel) {
    const body = {
      category,
      text,
      position: this.toGeo(place.local),
      variant: this.variant(),
      camera: this.cameraPose(),
      time: this.ctx.sceneInfo.date?.toISOString?.() ?? null,
      channel,
    };
    if (name && name.trim()) body.name = name.trim();
    if (place.building) body.building = place.building;
    if (place.design) body.design = place.design;
    return body;
  }

  async vote(item) {
    try {
      const r = await this.api.vote(item.id, !item.voted);
      item.voted = !item.voted;
      item.votes = r.votes;
      await this.refresh();
      return r;
    } catch (e) {
      this.panel.say(e.message, true);
      return null;
    }
  }

  async reply(item, values) {
    try {
      const made = await this.api.reply(item.id, { text: values.text, ...(values.name?.trim() ? { name: values.name.trim() } : {}) });
      this.panel.replied(item.id);
      this.panel.say(made.status === 'visible' ? t('pins.thanks') : t('pins.thanksPending'));
      await this.refresh();
    } catch (e) {
      this.panel.say(e.message, true);
    }
  }

  /**
   * Show a contribution as its author saw it: their variant, their date and time of day, and the camera
   * where they stood, looking at the pin (a framing of the pin when no pose was stored).
   */
  show(item) {
    const { nav, world, camera, host, sceneInfo } = this.ctx;
    const variants = sceneInfo.variants;
    if (variants && (variants.active ?? BASE) !== (item.variant ?? BASE) && variants.keys().includes(item.variant ?? BASE)) {
      variants.show(item.variant ?? BASE);
    }
    if (item.time && !Number.isNaN(Date.parse(item.time))) host.get('sun')?.setDate(new Date(item.time));
    const centre = world.localToWorld(item.point.clone());
    nav.frame(new Sphere(centre, 40));
    if (item.camera) {
      camera.position.copy(world.localToWorld(this.toLocal(item.camera)));
      nav.map.target.copy(centre);
      nav.map.update();
    }
  }

  _click(e) {
    if (this.placing || this._down.distanceTo(new Vector2(e.clientX, e.clientY)) > CLICK_SLOP || !this.markers.mesh) return;
    const { renderer, camera, nav, world } = this.ctx;
    const rect = renderer.domElement.getBoundingClientRect();
    const ndc = new Vector2(((e.clientX - rect.left) / rect.width) * 2 - 1, -((e.clientY - rect.top) / rect.height) * 2 + 1);
    this._raycaster.setFromCamera(ndc, camera);
    const target = this.markers.at(this._raycaster.intersectObject(this.markers.mesh, false)[0]);
    if (!target) return;
    if (target.items.length === 1) this.panel.focusItem(target.items[0].id);
    else nav.frame(new Sphere(world.localToWorld(new Vector3(target.x, target.y, target.z)), Math.max(30, target.size * 4)));
  }

  // XR ------------------------------------------------------------------------------------------------
  _xr() {
    return this.ctx.host.get('xr')?.xr ?? null;
  }

  _ray(controller) {
    controller.updateMatrixWorld(true);
    const origin = new Vector3().setFromMatrixPosition(controller.matrixWorld);
    return new Ray(origin, new Vector3(0, 0, -1).transformDirection(controller.matrixWorld));
  }

  /**
   * A controller select. This layer's listener runs before the XR session's (it registers first): a
   * press on the board or a pin is handled here, and whatever the session then picks behind it is undone
   * once the event is over; a select on a building or the ground at street level opens the board.
   */
  _xrSelect(controller) {
    const xr = this._xr();
    if (!xr?.session || !this.api) return;
    const ray = this._ray(controller);
    if (controller !== xr.hands.left && xr.menu.hit(ray)) return;
    const before = { selected: xr.picker.selected, info: xr.info.mesh.visible, mode: xr.mode };
    const button = this.board.hit(ray);
    this._raycaster.ray.copy(ray);
    const pin = button ? null : this.markers.at(this._raycaster.intersectObject(this.markers.mesh ?? this.markers.group, false)[0]);
    if (button || (pin && xr.mode === 'street')) {
      if (button) this._press(button);
      else this._showPin(pin.items[0], xr);
      queueMicrotask(() => this._undoPick(xr, before));
      return;
    }
    if (xr.mode !== 'street' || !this.settings?.accepting) return;
    queueMicrotask(() => {
      // The session has picked by now: a building (its info board shows), or nothing (try the ground).
      let hit = null;
      if (xr.picker.selected && xr.picker.selected !== before.selected) {
        const s = xr.picker.selected;
        hit = { point: s.point, object: s.object, feature: s };
      } else {
        const ground = this.ctx.host.get('sun')?.lighting.ground;
        this._raycaster.ray.copy(ray);
        const g = ground ? this._raycaster.intersectObject(ground, false)[0] : null;
        if (g) hit = { point: g.point, object: g.object };
      }
      if (!hit) return;
      const place = hit.feature ? this._placeOfFeature(hit.feature) : this.placeOf(hit);
      this.vrPlace = place;
      this.board.place(xr.headPosition(), hit.point.clone());
      this.board.show('category', { text: '' });
    });
  }

  _placeOfFeature(feature) {
    const props = feature.properties ?? {};
    const design = typeof props.design === 'string' && NAME.test(props.design) ? props.design : null;
    const building = typeof props.id === 'string' && props.id ? props.id.slice(0, 200) : null;
    return { local: this.ctx.world.worldToLocal(feature.point.clone()), building, design, label: String(props.name || building || t('pins.ground')) };
  }

  _undoPick(xr, before) {
    if (xr.picker.selected === before.selected) return;
    xr.picker.select(null);
    if (before.selected?.highlight) before.selected.highlight.value = before.selected.featureId ?? 0;
    xr.picker.selected = before.selected;
    if (!before.info) xr.info.hide();
  }

  _showPin(item, xr) {
    this.board.place(xr.headPosition(), this.ctx.world.localToWorld(item.point.clone()));
    this.board.show('pin', { pin: item });
  }

  /** A board button. */
  _press(id) {
    const b = this.board;
    this.lastPressed = id;
    if (id === 'close') b.hide();
    else if (id.startsWith('cat-')) b.show('phrase', { category: id.slice(4) });
    else if (id === 'keyboard') b.show('keyboard', { text: '' });
    else if (id === 'back') b.show(b.state === 'keyboard' ? 'phrase' : 'category');
    else if (id.startsWith('phrase-')) this._sendVR(t(`pins.phrase.${id.slice(7)}`));
    else if (id.startsWith('key-')) b.show('keyboard', { text: (b.text + id.slice(4)).slice(0, 200) });
    else if (id === 'space') b.show('keyboard', { text: `${b.text} ` });
    else if (id === 'backspace') b.show('keyboard', { text: b.text.slice(0, -1) });
    else if (id === 'send' && b.text.trim()) this._sendVR(b.text);
    else if (id === 'vote' && b.pin) {
      this.vote(b.pin).then((r) => r && b.show('pin', { pin: { ...b.pin, votes: r.votes } }));
    }
  }

  async _sendVR(text) {
    const place = this.vrPlace;
    if (!place) return;
    this.board.hide();
    try {
      this.lastCreated = await this.api.create(this._body(place, this.board.category, text, '', 'vr'));
      await this.refresh();
    } catch (e) {
      this.ctx.ui.setStatus(e.message);
    }
  }

  // frame ---------------------------------------------------------------------------------------------
  update(dt) {
    this._since += dt;
    if (this._since < LAYOUT_SECONDS || !this.markers.mesh) return;
    this._since = 0;
    const { renderer, camera, world } = this.ctx;
    const cam = renderer.xr.isPresenting ? renderer.xr.getCamera() : camera;
    cam.updateMatrixWorld(true);
    world.updateMatrixWorld(true);
    const eye = world.worldToLocal(new Vector3().setFromMatrixPosition(cam.matrixWorld));
    this.markers.layout(eye, renderer.xr.isPresenting ? 8 : 12);
  }
}
