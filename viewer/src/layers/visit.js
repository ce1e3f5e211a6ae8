/**
 * Guided-visit layer: join a visit by code (`?visit=CODE&name=…`, or the form), see the others as
 * avatars, follow the host's variant, time of day, table-top or 1:1, "bring everyone here", pointer and
 * "follow me"; the host steers with the panel (visit/panel.js), the ordinary controls and the XR menu;
 * a spectator (`&role=spectator`, the lab's big screen) shows the view of any participant.
 *
 * Query: `visit` join code, `name` display name, `host` the host key (from POST /api/visits),
 * `role=spectator`. The connection (visit/connection.js) resumes by itself after a drop.
 * Coordinates on the wire are scene coordinates: the world group's local frame (see protocol.py).
 */
import { CylinderGeometry, Euler, Group, Mesh, MeshBasicMaterial, Quaternion, SphereGeometry, Vector3 } from 'three';
import { EYE_HEIGHT } from '../controls.js';
import { Avatars, partOf } from '../visit/avatars.js';
import { VisitConnection, normaliseCode } from '../visit/connection.js';
import { VisitPanel } from '../visit/panel.js';
import { BASE } from '../variants.js';

/** Metres between people brought to the host's spot (they stand in a row beside the host). */
const GATHER_SPACING = 1.2;
/** A pose is sent when the head moved this much (metres, world frame) or turned, or once a second. */
const MOVED = 0.01;
const _v = new Vector3();
const _q = new Quaternion();
const _e = new Euler(0, 0, 0, 'YXZ');

/** Yaw (radians, three.js convention: rotation about +Y, 0 looks along -Z) of a quaternion. */
export function yawOf(q) {
  return _e.setFromQuaternion(q, 'YXZ').y;
}

/**
 * Where the n-th person brought to the host stands: alternately right and left of the host, in a row.
 * @param {Vector3} at the host's spot (scene coordinates)
 * @param {number} yaw the host's heading
 * @param {number} n 0, 1, 2…
 */
export function gatherSpot(at, yaw, n) {
  const side = n % 2 === 0 ? 1 : -1;
  const d = GATHER_SPACING * (Math.floor(n / 2) + 1) * side;
  // The host's right is (cos yaw, 0, -sin yaw) for a heading along (-sin yaw, 0, -cos yaw).
  return new Vector3(at.x + Math.cos(yaw) * d, at.y, at.z - Math.sin(yaw) * d);
}

export class VisitLayer {
  constructor() {
    this.name = 'visit';
    this.connection = null;
    this.me = null;
    this.role = null;
    this.people = new Map();
    this.poses = new Map();
    this.state = null;
    this.status = 'idle';
    this.following = false;
    this.watching = null;
    this.pointing = false;
    this.gathered = 0;
    this.lastError = null;
    this.ended = null;
    this._applying = false;
    this._pending = null;
    this._sent = { at: 0, pos: new Vector3(Infinity, 0, 0), quat: new Quaternion() };
  }

  init(ctx) {
    this.ctx = ctx;
    const { params, world } = ctx;
    this.avatars = new Avatars(world);
    this.pointer = makePointer();
    world.add(this.pointer);
    this.panel = new VisitPanel(document.getElementById('ui') ?? document.body, {
      join: ({ code, name, role }) => this.join({ code, name, role }),
      variant: (id) => ctx.sceneInfo.variants?.show(id),
      time: (hours) => this._setHours(hours),
      mode: (mode) => this._hostMode(mode),
      gather: () => this.gather(),
      pointer: (on) => this.setPointing(on),
      follow: (on) => this.send('state', { follow: on }),
      end: () => this.send('end'),
      leave: () => this.leave(),
      watch: (id) => this.watch(id),
    });
    // Moving yourself (mouse, touch, keys) stops following the host: "leave by moving".
    const stop = () => {
      if (this.following) {
        this.following = false;
        this._refresh();
      }
    };
    this._stopFollowing = stop;
    ctx.renderer.domElement.addEventListener('pointerdown', stop);
    ctx.renderer.domElement.addEventListener('wheel', stop, { passive: true });
    const code = params.get('visit');
    if (code !== null) {
      this.panel.prefill(normaliseCode(code) ?? code, params.get('name') ?? '');
      const hostKey = params.get('host');
      if (params.get('name') || hostKey || params.get('role') === 'spectator') {
        this.join({ code, name: params.get('name') ?? '', role: params.get('role') ?? 'guest', hostKey });
      }
    }
  }

  dispose() {
    this.connection?.close();
    this.avatars.dispose();
    this.ctx.world.remove(this.pointer);
    this.panel.dispose();
    this.ctx.renderer.domElement.removeEventListener('pointerdown', this._stopFollowing);
    this.ctx.renderer.domElement.removeEventListener('wheel', this._stopFollowing);
  }

  // -- joining and messages -----------------------------------------------------------------------------

  /**
   * Join a visit.
   * @param {{code: string, name?: string, role?: string, hostKey?: string|null}} options
   */
  join({ code, name = '', role = 'guest', hostKey = null }) {
    const clean = normaliseCode(code);
    if (!clean) {
      this.lastError = { code: 'bad_code', detail: 'not a join code' };
      this.panel.status.textContent = `${code}: ?`;
      return;
    }
    this.connection?.close();
    this.connection = new VisitConnection({
      code: clean,
      name,
      role: role === 'spectator' ? 'spectator' : 'guest',
      hostKey,
      onMessage: (msg) => this._message(msg),
      onStatus: (status) => {
        this.status = status;
        this._refresh();
      },
    });
    this.connection.connect();
  }

  /** Leave for good. */
  leave() {
    this.connection?.leave();
    this._clear();
  }

  /** Send a message if connected. */
  send(type, fields = {}) {
    return this.connection?.send(type, fields) ?? false;
  }

  get isHost() {
    return this.role === 'host';
  }

  _message(msg) {
    const handler = this[`_on_${msg.t}`];
    if (typeof handler === 'function') handler.call(this, msg);
    this._refresh();
  }

  _on_welcome(msg) {
    this.me = msg.you;
    this.role = msg.role;
    this.ended = null;
    this.people = new Map(msg.people.map((p) => [p.id, p]));
    for (const id of [...this.avatars.people.keys()]) if (!this.people.has(id)) this.avatars.remove(id);
    for (const p of msg.people) this._person(p);
    for (const [id, pose] of Object.entries(msg.poses ?? {})) this._pose(id, pose);
    const fresh = msg.state.rev <= 1 && msg.state.variant === null && msg.state.date === null;
    if (this.isHost && fresh) this._pushState();
    else this._applyState(msg.state, true);
  }

  _on_joined(msg) {
    this.people.set(msg.person.id, msg.person);
    this._person(msg.person);
  }

  _on_away(msg) {
    const p = this.people.get(msg.id);
    if (p) p.online = false;
    this.avatars.remove(msg.id);
  }

  _on_left(msg) {
    this.people.delete(msg.id);
    this.poses.delete(msg.id);
    this.avatars.remove(msg.id);
    if (this.watching === msg.id) this.watching = null;
  }

  _on_poses(msg) {
    for (const [id, pose] of Object.entries(msg.p)) this._pose(id, pose);
  }

  _on_state(msg) {
    // The host's own changes come back too: already applied here, only the record is updated.
    if (this.isHost) this.state = msg.state;
    else this._applyState(msg.state);
  }

  _on_host(msg) {
    for (const p of this.people.values()) if (p.role === 'host') p.role = 'guest';
    const host = this.people.get(msg.id);
    if (host) host.role = 'host';
    if (msg.id === this.me) this.role = 'host';
    else if (this.role === 'host') this.role = 'guest';
    this.state = msg.state;
  }

  _on_gather(msg) {
    if (this.role === 'spectator') return;
    this.gathered++;
    const guests = [...this.people.values()].filter((p) => p.role === 'guest' && p.online).map((p) => p.id);
    const n = Math.max(0, guests.indexOf(this.me));
    this.goTo(gatherSpot(new Vector3(...msg.at), msg.yaw, n), msg.yaw);
  }

  _on_pointer(msg) {
    if (this.state) this.state.pointer = msg.at;
    this._showPointer(msg.at);
  }

  _on_end(msg) {
    this.ended = msg.reason;
    this._clear();
  }

  _on_error(msg) {
    this.lastError = msg;
    if (msg.code !== 'rate_limited') console.warn(`visit: ${msg.code}: ${msg.detail}`);
  }

  _clear() {
    this.me = null;
    this.role = null;
    this.following = false;
    this.watching = null;
    for (const id of [...this.avatars.people.keys()]) this.avatars.remove(id);
    this.people.clear();
    this.poses.clear();
    this.pointer.visible = false;
    this._refresh();
  }

  _person(p) {
    if (p.id === this.me || p.role === 'spectator' || !p.online) return;
    this.avatars.upsert(p);
    const pose = this.poses.get(p.id);
    if (pose) this.avatars.setPose(p.id, pose);
  }

  _pose(id, pose) {
    if (id === this.me) return;
    this.poses.set(id, pose);
    const p = this.people.get(id);
    if (p && p.role !== 'spectator') {
      if (!this.avatars.people.has(id)) this._person({ ...p, online: true });
      this.avatars.setPose(id, pose);
    }
  }

  // -- the shared state ---------------------------------------------------------------------------------

  /** The host's current view as visit state (variant, date, mode). */
  _pushState() {
    const info = this.ctx.sceneInfo;
    const mode = this._xr()?.session ? this._xr().mode : 'tabletop';
    this.send('state', { variant: info.variants?.active ?? BASE, date: info.date.toISOString(), mode });
  }

  _applyState(state, initial = false) {
    const before = this.state;
    this.state = state;
    const info = this.ctx.sceneInfo;
    this._applying = true;
    try {
      if (state.variant && info.variants) {
        if (info.variants.keys().includes(state.variant) && info.variants.active !== state.variant) info.variants.show(state.variant);
      } else if (state.variant) this._pending = state; // the scene is not open yet: onSceneOpened applies it
      if (state.date && (!before || before.date !== state.date || initial)) {
        const date = new Date(state.date);
        if (!Number.isNaN(date.getTime()) && date.getTime() !== info.date?.getTime()) this.ctx.host.get('sun')?.setDate(date);
      }
      if (state.mode && (initial ? this._xr()?.session : before?.mode !== state.mode)) this._applyMode(state.mode);
    } finally {
      this._applying = false;
    }
    this._showPointer(state.pointer);
    this.following = Boolean(state.follow) && this.role === 'guest' && (initial || !before?.follow || this.following);
  }

  /** Table-top or 1:1 for this viewer (the host's choice). */
  _applyMode(mode) {
    const xr = this._xr();
    const hostPose = this.poses.get(this.state?.host);
    const bounds = this.ctx.sceneInfo.bounds;
    const spot = hostPose && (hostPose.s ?? 1) > 0.5 ? new Vector3(hostPose.h[0], hostPose.h[1], hostPose.h[2]) : bounds?.sphere.center.clone();
    if (xr?.session) {
      if (mode === 'tabletop') xr.toTabletop();
      else if (spot) xr.jumpTo(spot);
      return;
    }
    if (mode === 'tabletop') {
      this.ctx.handlers.onMode?.('orbit');
      if (bounds) this.ctx.nav.frame(bounds.sphere);
    } else if (spot) {
      const yaw = hostPose ? yawOf(new Quaternion(...hostPose.h.slice(3))) : 0;
      this.goTo(spot.setY(bounds?.box.min.y ?? 0), yaw);
    }
  }

  _hostMode(mode) {
    const xr = this._xr();
    this._applying = true;
    try {
      this._applyMode(mode);
    } finally {
      this._applying = false;
    }
    if (!xr?.session) this.send('state', { mode });
  }

  _setHours(hours) {
    const date = new Date(this.ctx.sceneInfo.date);
    date.setHours(Math.floor(hours), Math.round((hours % 1) * 60), 0, 0);
    this.ctx.host.get('sun')?.setDate(date);
  }

  // -- the host's tools ---------------------------------------------------------------------------------

  /** Where the host stands and faces, in scene coordinates: the ground spot and heading. */
  hostSpot() {
    const { world, camera, nav, sceneInfo: info } = this.ctx;
    const xr = this._xr();
    const ground = info.bounds?.box.min.y ?? 0;
    if (xr?.session) {
      const cam = this.ctx.renderer.xr.getCamera();
      const head = xr.viewerScenePosition();
      _q.copy(world.quaternion).invert().multiply(cam.getWorldQuaternion(new Quaternion()));
      return { at: [head.x, ground, head.z], yaw: yawOf(_q) };
    }
    // Desktop: walking, where the camera stands; on the map, the point it looks at.
    const spot = nav.mode === 'walk' ? camera.position.clone() : nav.map.target.clone();
    world.worldToLocal(spot);
    _q.copy(world.quaternion).invert().multiply(camera.quaternion);
    return { at: [spot.x, ground, spot.z], yaw: yawOf(_q) };
  }

  /** "Bring everyone here". */
  gather() {
    const { at, yaw } = this.hostSpot();
    const r = (x) => Math.round(x * 1000) / 1000;
    return this.send('gather', { at: at.map(r), yaw: r(yaw) });
  }

  /** @param {boolean} on the host's clicks point (everyone sees the marker) */
  setPointing(on) {
    this.pointing = on;
    if (!on) this.send('pointer', { at: null });
    this._refresh();
  }

  onPick(hit) {
    if (!this.isHost || !this.pointing || !hit) return;
    const p = this.ctx.world.worldToLocal(hit.point.clone());
    const r = (x) => Math.round(x * 1000) / 1000;
    this.send('pointer', { at: [r(p.x), r(p.y), r(p.z)] });
    this._showPointer([p.x, p.y, p.z]);
  }

  /**
   * Stand at a scene point facing `yaw` (bring-everyone-here, 1:1 mode).
   * @param {Vector3} spot ground point, scene coordinates
   * @param {number} yaw heading
   */
  goTo(spot, yaw) {
    const xr = this._xr();
    if (xr?.session) {
      xr.jumpTo(spot);
      const cam = this.ctx.renderer.xr.getCamera();
      _q.copy(this.ctx.world.quaternion).invert().multiply(cam.getWorldQuaternion(new Quaternion()));
      xr.teleport.snapTurn(this.ctx.world, xr.headPosition(), yaw - yawOf(_q));
      return;
    }
    const { camera, world, handlers } = this.ctx;
    handlers.onMode?.('walk');
    const eye = world.localToWorld(new Vector3(spot.x, spot.y, spot.z));
    eye.y += EYE_HEIGHT * world.scale.y;
    camera.position.copy(eye);
    camera.quaternion.copy(world.quaternion).multiply(new Quaternion().setFromAxisAngle(new Vector3(0, 1, 0), yaw));
    camera.updateMatrixWorld();
  }

  /** @param {string|null} id whose view this screen shows (spectators) */
  watch(id) {
    this.watching = id && this.people.has(id) ? id : null;
    if (this.watching) this.ctx.handlers.onMode?.('walk');
    this._refresh();
  }

  // -- hooks ---------------------------------------------------------------------------------------------

  onSceneOpened() {
    this.pointer.visible = false;
  }

  onSceneLoaded() {
    if (this._pending) {
      const state = this._pending;
      this._pending = null;
      this._applyState(state, true);
    }
  }

  onVariantChanged(id) {
    if (this.isHost && !this._applying) this.send('state', { variant: id });
  }

  onDateChanged(date) {
    if (!this.isHost || this._applying) return;
    clearTimeout(this._dateTimer);
    // The time slider and date fields fire while dragged: one message once they rest.
    this._dateTimer = setTimeout(() => this.send('state', { date: date.toISOString() }), 150);
  }

  onModeChanged(mode) {
    if (this.isHost && !this._applying && (mode === 'tabletop' || mode === 'street')) this.send('state', { mode });
  }

  update(dt) {
    if (!this.connection) return;
    if (this.role && this.role !== 'spectator') this._sendPose();
    const eye = this.ctx.world.worldToLocal(this.ctx.camera.getWorldPosition(new Vector3()));
    this.avatars.update(dt, eye);
    const s = this.ctx.world.scale.x || 1;
    if (this.pointer.visible) this.pointer.scale.setScalar(Math.max(1, 0.04 / s));
    if (this.following && this.state?.host) this._follow(this.poses.get(this.state.host));
    else if (this.watching) this._follow(this.poses.get(this.watching));
  }

  _sendPose() {
    const { renderer, world, camera } = this.ctx;
    const xr = this._xr();
    const presenting = Boolean(xr?.session) && renderer.xr.isPresenting;
    const head = presenting ? renderer.xr.getCamera() : camera;
    head.getWorldPosition(_v);
    head.getWorldQuaternion(_q);
    const now = performance.now();
    const moved = _v.distanceTo(this._sent.pos) > MOVED || _q.angleTo(this._sent.quat) > 0.01;
    if (!moved && now - this._sent.at < 1000) return;
    this._sent.at = now;
    this._sent.pos.copy(_v);
    this._sent.quat.copy(_q);
    const pose = { h: partOf(head, world), s: Math.round((world.scale.x || 1) * 1e6) / 1e6 };
    if (presenting) {
      if (xr.hands.left) pose.l = partOf(xr.hands.left, world);
      if (xr.hands.right) pose.r = partOf(xr.hands.right, world);
    }
    this.connection.sendPose(pose);
  }

  /** Take someone's view: the desktop camera copies their head (XR: keep under the host at 1:1). */
  _follow(pose) {
    if (!pose) return;
    const { world, camera, renderer } = this.ctx;
    const xr = this._xr();
    const head = new Vector3(pose.h[0], pose.h[1], pose.h[2]);
    if (xr?.session && renderer.xr.isPresenting) {
      // In a headset the head is the visitor's own: following moves the street so the host stays near.
      if (xr.mode !== 'street' || (pose.s ?? 1) < 0.5) return;
      const p = world.localToWorld(head);
      const me = xr.headPosition();
      world.position.x += me.x - p.x;
      world.position.z += me.z - p.z;
      world.updateMatrixWorld(true);
      return;
    }
    if (this.ctx.nav.mode !== 'walk') this.ctx.handlers.onMode?.('walk'); // the map controls would pull back
    camera.position.copy(world.localToWorld(head));
    camera.quaternion.copy(world.quaternion).multiply(new Quaternion(...pose.h.slice(3)));
    camera.updateMatrixWorld();
  }

  _showPointer(at) {
    this.pointer.visible = Array.isArray(at);
    if (this.pointer.visible) this.pointer.position.set(at[0], at[1], at[2]);
  }

  _xr() {
    return this.ctx.host.get('xr')?.xr ?? null;
  }

  _refresh() {
    const info = this.ctx.sceneInfo;
    const variants = info.variants ? info.variants.keys().map((id) => ({ id, title: this.ctx.host.get('variants')?.title(id) ?? id })) : [];
    const date = info.date;
    this.panel.box.hidden = this.panel.box.hidden && !this.connection;
    this.panel.show({
      joined: Boolean(this.me),
      status: this.ended ? 'closed' : this.status,
      host: this.isHost,
      role: this.role,
      people: [...this.people.values()],
      me: this.me,
      state: this.state,
      variants,
      following: this.following,
      watching: this.watching,
      pointing: this.pointing,
      hours: date ? date.getHours() + date.getMinutes() / 60 : undefined,
    });
  }
}

/** The host's pointer: a bright ball on a thin beam, unlit (two draw calls). */
function makePointer() {
  const group = new Group();
  group.name = 'visit-pointer';
  const material = new MeshBasicMaterial({ color: 0xff2d55 });
  const ball = new Mesh(new SphereGeometry(0.5, 16, 12), material);
  const beam = new Mesh(new CylinderGeometry(0.06, 0.06, 20, 6).translate(0, 10, 0), material);
  group.add(ball, beam);
  group.visible = false;
  return group;
}
