/**
 * WebXR sessions (immersive-vr and immersive-ar): session start and end, the tiles following the
 * XR camera, controllers, and the per-frame logic that ties table-top, teleport, menu and info
 * panel together.
 *
 * Modes: 'tabletop' (the miniature on the table; trigger on the model jumps to street level there,
 * squeeze grabs it) and 'street' (1:1; trigger on a building opens its info panel, thumbstick
 * forward aims the teleport arc and teleports on release, thumbstick left/right snap-turns). At street
 * level the world is kept so that the ground under the visitor's head (`groundAt`, the terrain) is at the
 * floor: the visitor walks on the slope at eye height, as the desktop walker does.
 * The right controller's trigger on the menu presses its buttons.
 */
import { BufferGeometry, Line, LineBasicMaterial, Mesh, MeshBasicMaterial, Ray, RingGeometry, Vector3 } from 'three';
import { Scheduler } from '3d-tiles-renderer';
import { InfoBoard, XRMenu } from './menu.js';
import { Tabletop } from './tabletop.js';
import { Teleport } from './teleport.js';

const SNAP_ANGLE = Math.PI / 6;
/** Share of the gap between the ground under the head and the floor closed per frame (smooth on slopes). */
const LEVEL_RATE = 0.25;

/**
 * Which immersive modes the browser offers.
 * @returns {Promise<{vr: boolean, ar: boolean}>}
 */
export async function xrSupport() {
  const xr = typeof navigator !== 'undefined' ? navigator.xr : null;
  if (!xr) return { vr: false, ar: false };
  const check = (mode) => xr.isSessionSupported(mode).catch(() => false);
  const [vr, ar] = await Promise.all([check('immersive-vr'), check('immersive-ar')]);
  return { vr, ar };
}

export class XRExperience {
  /**
   * @param {object} ctx
   * @param {import('three').WebGLRenderer} ctx.renderer
   * @param {import('three').Scene} ctx.scene
   * @param {import('three').PerspectiveCamera} ctx.camera the desktop camera
   * @param {import('three').Object3D} ctx.world group holding tiles, ground and sun
   * @param {() => import('../variants.js').VariantManager|null} ctx.variants
   * @param {() => Iterable<import('3d-tiles-renderer').TilesRenderer>} [ctx.tiles] every tileset of the scene
   * @param {(x: number, z: number) => number|null} [ctx.groundAt] the ground's height under a world-local point
   * @param {import('../picking.js').Picker} ctx.picker
   * @param {import('three').Mesh} [ctx.ground] ground plane, a valid jump target from the table-top
   * @param {() => {box: import('three').Box3, sphere: import('three').Sphere}|null} ctx.bounds scene bounds in world-local coordinates
   * @param {object} ctx.hooks { nextVariant(step), variantTitle(), shiftTime(hours), timeLabel(), onStart(mode), onEnd() }
   */
  constructor(ctx) {
    Object.assign(this, ctx);
    this.session = null;
    this.sessionMode = null;
    this.mode = 'tabletop';
    this.frames = 0;
    this.tabletop = new Tabletop(ctx.scene);
    this.teleport = new Teleport(ctx.scene);
    this.menu = new XRMenu((id) => this.press(id));
    this.info = new InfoBoard();
    ctx.scene.add(this.info.mesh);
    this.hands = {};
    this._stick = { turned: false, aiming: false };
    this._hitSource = null;
    this.placed = false;
    this.reticle = new Mesh(new RingGeometry(0.08, 0.1, 32).rotateX(-Math.PI / 2), new MeshBasicMaterial({ color: 0xffffff }));
    this.reticle.visible = false;
    this.reticle.matrixAutoUpdate = false;
    ctx.scene.add(this.reticle);
    for (let i = 0; i < 2; i++) this._controller(i);
    const xr = ctx.renderer.xr;
    xr.addEventListener('sessionstart', () => this._started());
    xr.addEventListener('sessionend', () => this._ended());
  }

  _controller(index) {
    const c = this.renderer.xr.getController(index);
    const ray = new Line(new BufferGeometry().setFromPoints([new Vector3(), new Vector3(0, 0, -1)]), new LineBasicMaterial({ color: 0xffffff }));
    ray.scale.z = 5;
    c.add(ray);
    c.addEventListener('connected', (e) => {
      c.userData.handedness = e.data.handedness;
      c.userData.gamepad = e.data.gamepad;
      this.hands[e.data.handedness] = c;
      if (e.data.handedness === 'left') c.add(this.menu.mesh);
    });
    c.addEventListener('disconnected', () => {
      delete this.hands[c.userData.handedness];
    });
    c.addEventListener('select', () => this._select(c));
    c.addEventListener('squeezestart', () => this.mode === 'tabletop' && this.tabletop.grab(c, this.world));
    c.addEventListener('squeezeend', () => this.tabletop.release(c, this.world));
    this.scene.add(c);
  }

  /**
   * Request and start an immersive session.
   * @param {'immersive-vr'|'immersive-ar'} mode
   */
  async start(mode) {
    if (this.session) return;
    const options = { optionalFeatures: ['local-floor', 'bounded-floor', 'hand-tracking'] };
    if (mode === 'immersive-ar') options.optionalFeatures.push('hit-test');
    const session = await navigator.xr.requestSession(mode, options);
    this.sessionMode = mode;
    this.renderer.xr.setReferenceSpaceType('local-floor');
    await this.renderer.xr.setSession(session);
  }

  /** End the session (menu "Exit"). */
  async end() {
    await this.session?.end();
  }

  _started() {
    const session = this.renderer.xr.getSession();
    this.session = session;
    this.frames = 0;
    // Tile detail follows the XR camera instead of the desktop one (every tileset: terrain and context too).
    const xrCamera = this.renderer.xr.getCamera();
    for (const tiles of this._allTiles()) {
      tiles.deleteCamera(this.camera);
      tiles.setCamera(xrCamera);
    }
    Scheduler.setXRSession(session);
    this._saved = {
      position: this.world.position.clone(),
      quaternion: this.world.quaternion.clone(),
      scale: this.world.scale.clone(),
      near: this.camera.near,
      far: this.camera.far,
    };
    // three.js hands the desktop camera's near/far to the session (depthNear/depthFar). Framing a
    // district from afar puts near at metres: the table-top (an arm's length away) would be clipped
    // and its tiles culled. Near 10 cm, far past the whole scene at 1:1.
    const radius = this.bounds()?.sphere?.radius ?? 1000;
    this.camera.near = 0.1;
    this.camera.far = Math.max(2000, radius * 4);
    this.camera.updateProjectionMatrix();
    this.hooks.onStart?.(this.sessionMode);
    this.placed = this.sessionMode !== 'immersive-ar';
    if (this.sessionMode === 'immersive-ar') {
      this.scene.background = null;
      session.requestReferenceSpace('viewer').then((space) =>
        session.requestHitTestSource?.({ space })?.then((source) => (this._hitSource = source)),
      ).catch(() => (this.placed = true));
    }
    this.toTabletop();
    this._refreshMenu();
  }

  _ended() {
    const xrCamera = this.renderer.xr.getCamera();
    for (const tiles of this._allTiles()) {
      tiles.deleteCamera(xrCamera);
      tiles.setCamera(this.camera);
    }
    Scheduler.setXRSession(null);
    this._hitSource?.cancel?.();
    this._hitSource = null;
    this.session = null;
    this.tabletop.hide();
    this.teleport.hide();
    this.info.hide();
    this.reticle.visible = false;
    if (this._saved) {
      this.world.position.copy(this._saved.position);
      this.world.quaternion.copy(this._saved.quaternion);
      this.world.scale.copy(this._saved.scale);
      this.world.updateMatrixWorld(true);
      this.camera.near = this._saved.near;
      this.camera.far = this._saved.far;
      this.camera.updateProjectionMatrix();
    }
    this.hooks.onEnd?.();
  }

  /** Every tileset the session drives: the `tiles` hook's (variants, terrain, context), else the variants'. */
  _allTiles() {
    return [...(this.tiles?.() ?? this.variants()?.tiles.values() ?? [])];
  }

  /** A tileset added while presenting (variant switch) must follow the XR camera too. */
  adoptTiles(tiles) {
    if (!this.session) return;
    tiles.deleteCamera(this.camera);
    tiles.setCamera(this.renderer.xr.getCamera());
  }

  /** Back to the miniature on the table. */
  toTabletop(position = null) {
    const b = this.bounds();
    if (!b) return;
    this.mode = 'tabletop';
    this.teleport.hide();
    this.hooks.onMode?.('tabletop');
    this.tabletop.place(this.world, b.box, {
      seated: this.teleport.seated,
      position,
      showTable: this.sessionMode !== 'immersive-ar',
    });
  }

  /** @returns {Vector3} the XR camera (head) position in reference space */
  headPosition() {
    const cam = this.renderer.xr.getCamera();
    cam.updateMatrixWorld(true);
    return new Vector3().setFromMatrixPosition(cam.matrixWorld);
  }

  /** @returns {Vector3} the head position in scene (world-local, 1:1) coordinates */
  viewerScenePosition() {
    return this.world.worldToLocal(this.headPosition());
  }

  _ray(controller) {
    controller.updateMatrixWorld(true);
    const origin = new Vector3().setFromMatrixPosition(controller.matrixWorld);
    const dir = new Vector3(0, 0, -1).transformDirection(controller.matrixWorld);
    return new Ray(origin, dir);
  }

  _select(controller) {
    const ray = this._ray(controller);
    const button = controller !== this.hands.left ? this.menu.hit(ray) : null;
    if (button) {
      this.press(button);
      return;
    }
    if (!this.placed && this.reticle.visible) {
      this.placed = true;
      this.toTabletop(new Vector3().setFromMatrixPosition(this.reticle.matrix));
      return;
    }
    const roots = this.variants()?.visible().map((t) => t.group) ?? [];
    // From the table-top the visitor may also point at the street (the ground), not only at buildings.
    if (this.mode === 'tabletop' && this.ground) roots.push(this.ground);
    const hit = this.picker.intersectRay(ray, roots);
    if (!hit) return;
    if (this.mode === 'tabletop') this.jumpTo(this.world.worldToLocal(hit.point.clone()));
    else {
      const feature = this.picker.select(hit);
      this.info.show(feature.properties, this.headPosition(), hit.point);
      this.hooks.onPick?.(feature);
    }
  }

  /**
   * Leave the table-top for 1:1 street level with a scene point under the visitor's feet.
   * @param {Vector3} scenePoint world-local (scene, 1:1) coordinates
   */
  jumpTo(scenePoint) {
    this.picker.select(null);
    const b = this.bounds();
    this.mode = 'street';
    this.tabletop.hide();
    this.info.hide();
    this.hooks.onMode?.('street');
    const ground = this.groundAt?.(scenePoint.x, scenePoint.z) ?? (b ? b.box.min.y : scenePoint.y);
    this.teleport.jumpToStreet(this.world, scenePoint, ground, this.headPosition());
    this.lastJump = scenePoint.clone();
  }

  /**
   * At street level, move the world up or down so the ground under the head comes to the floor.
   * @param {number} rate share of the gap closed now (1: at once)
   * @returns {number|null} the gap before (m), or null where no ground is known under the head
   */
  level(rate = LEVEL_RATE) {
    if (this.mode !== 'street' || !this.groundAt) return null;
    const head = this.viewerScenePosition();
    const ground = this.groundAt(head.x, head.z);
    if (ground === null) return null;
    const floor = this.world.localToWorld(head.set(head.x, ground, head.z)).y;
    const gap = this.teleport.floorY - floor;
    if (Math.abs(gap) > 1e-3) {
      this.world.position.y += gap * rate;
      this.world.updateMatrixWorld(true);
    }
    return gap;
  }

  /**
   * Run a menu action.
   * @param {string} id button id from menu.js
   */
  press(id) {
    if (id === 'variant-prev' || id === 'variant-next') this.hooks.nextVariant(id === 'variant-next' ? 1 : -1);
    else if (id === 'time-prev' || id === 'time-next') this.hooks.shiftTime(id === 'time-next' ? 1 : -1);
    else if (id === 'tabletop') this.toTabletop();
    else if (id === 'seated') {
      this.teleport.setSeated(this.world, !this.teleport.seated, this.mode === 'street');
      if (this.mode === 'tabletop') this.toTabletop();
    } else if (id === 'exit') this.end();
    this.lastPressed = id;
    this._refreshMenu();
  }

  _refreshMenu() {
    this.menu.draw({ variant: this.hooks.variantTitle(), time: this.hooks.timeLabel(), seated: this.teleport.seated });
  }

  /**
   * Per-frame XR work, before the tiles update.
   * @param {XRFrame|undefined} frame
   */
  update(frame) {
    if (!this.session) return;
    this.frames++;
    const cam = this.renderer.xr.getCamera();
    const visible = new Set(this.variants()?.visible() ?? []);
    for (const tiles of this._allTiles()) if (visible.has(tiles) || tiles.group.visible) tiles.setResolutionFromRenderer(cam, this.renderer);
    if (this.mode === 'tabletop' && this.tabletop.grabbing) this.tabletop.update(this.world);
    if (this.mode === 'street' && this.frames % 6 === 0) this.level();
    this._arHitTest(frame);
    const right = this.hands.right;
    const pad = right?.userData.gamepad;
    if (this.mode === 'street' && pad?.axes?.length >= 4) {
      const [x, y] = [pad.axes[2], pad.axes[3]];
      if (y < -0.6) {
        this._stick.aiming = true;
        this.teleport.aim(right);
      } else if (this._stick.aiming) {
        this._stick.aiming = false;
        if (this.teleport.target) {
          this.teleport.teleportTo(this.world, this.teleport.target, this.headPosition());
          this.level(1);
        }
        this.teleport.hide();
      }
      if (Math.abs(x) > 0.7 && !this._stick.turned) {
        this._stick.turned = true;
        this.teleport.snapTurn(this.world, this.headPosition(), x > 0 ? -SNAP_ANGLE : SNAP_ANGLE);
      } else if (Math.abs(x) < 0.3) this._stick.turned = false;
    }
  }

  _arHitTest(frame) {
    if (!frame || !this._hitSource || this.placed) {
      if (this.placed) this.reticle.visible = false;
      return;
    }
    const results = frame.getHitTestResults(this._hitSource);
    const pose = results[0]?.getPose(this.renderer.xr.getReferenceSpace());
    this.reticle.visible = Boolean(pose);
    if (pose) this.reticle.matrix.fromArray(pose.transform.matrix);
  }
}
