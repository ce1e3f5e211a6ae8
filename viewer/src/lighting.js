/**
 * Sun, sky light and ground: a DirectionalLight placed from sun.js's position for the scene's
 * latitude and longitude, with a shadow camera fitted to the scene, a ground plane that
 * receives the shadows, and a cap on how many tiles cast them.
 */
import { Color, DirectionalLight, HemisphereLight, Mesh, MeshStandardMaterial, PlaneGeometry, Vector3 } from 'three';
import { sunDirectionWorld, sunPosition } from './sun.js';

/**
 * Most tiles that cast shadows at once, the nearest to the shadow focus. The shadow pass draws every caster
 * once more per frame: with a city's tiles all casting it was a third of the draw calls (issue 21). Tiles
 * beyond the cap still receive shadows; at street level the shadow map covers a few hundred metres, so
 * the cap only bites on the table-top and the desktop overview, where shadows of far tiles are a texel.
 */
export const MAX_SHADOW_TILES = 12;

const _meshPosition = new Vector3();
const _focusWorld = new Vector3();

/** A tile scene's meshes, found once (merged tile meshes never change after loading). */
function tileMeshes(scene) {
  if (!scene.userData.meshes) {
    const meshes = [];
    scene.traverse((o) => o.isMesh && meshes.push(o));
    scene.userData.meshes = meshes;
  }
  return scene.userData.meshes;
}

export class Lighting {
  /**
   * @param {import('three').Object3D} world the group holding the scene (sun and ground scale with it)
   */
  constructor(world) {
    this.sun = new DirectionalLight(0xfff4e0, 2.2);
    this.sun.castShadow = true;
    this.sun.shadow.mapSize.set(2048, 2048);
    this.sun.shadow.bias = -0.0005;
    this.sun.shadow.normalBias = 0.02;
    this.sky = new HemisphereLight(0xdfe9f5, 0x6b6358, 1.1);
    this.ground = new Mesh(new PlaneGeometry(1, 1).rotateX(-Math.PI / 2), new MeshStandardMaterial({ color: 0xbfc2b8 }));
    this.ground.name = 'ground';
    this.ground.receiveShadow = true;
    world.add(this.sun, this.sun.target, this.sky, this.ground);
    this.center = new Vector3();
    this.radius = 100;
    this.groundY = 0;
    this.position = { azimuth: 180, elevation: 45 };
    /** unit vector towards the sun, world-local */
    this.direction = new Vector3(0, 1, 0);
    this.focusCenter = new Vector3();
    this.focusRadius = 100;
  }

  /**
   * Fit ground and shadow camera to the scene.
   * @param {import('three').Sphere} sphere world-local bounding sphere
   * @param {number} groundY ground level (world-local)
   */
  fit(sphere, groundY) {
    this.center.copy(sphere.center);
    this.radius = Math.max(sphere.radius, 10);
    this.groundY = groundY;
    this.ground.position.set(sphere.center.x, groundY - 0.05, sphere.center.z);
    this.setGroundExtent(8);
    this.focus(this.center, this.radius, true);
  }

  /**
   * Spend the shadow map on what the viewer looks at: a square of `radius` around `center`
   * (world-local). One 2048² map over a whole district is a metre per texel, which draws blocky
   * shadows up close; around the orbit target or the visitor it is a few centimetres.
   * @param {Vector3} center
   * @param {number} radius metres, clamped to [20 m, scene radius]
   * @param {boolean} [force] update even if the change is small
   */
  focus(center, radius, force = false) {
    const r = Math.min(Math.max(radius, 20), this.radius);
    // Re-fit only on real moves: every re-fit shifts the texel grid and makes shadow edges crawl.
    if (!force && Math.abs(r - this.focusRadius) < 0.1 * r && this.focusCenter.distanceTo(center) < 0.1 * r) return;
    this.focusCenter.copy(center);
    this.focusRadius = r;
    const cam = this.sun.shadow.camera;
    cam.left = cam.bottom = -r;
    cam.right = cam.top = r;
    // The sun stands a scene diameter away so that every building between it and the focus casts.
    cam.near = 0.5;
    cam.far = this.radius * 4;
    cam.updateProjectionMatrix();
    this._placeSun();
  }

  /**
   * Let only the `max` tile scenes nearest the shadow focus cast shadows. A tile's meshes sit at its
   * centre (positions are relative to it), so their world position stands for the tile's.
   * @param {import('three').Object3D[]} scenes tile scenes being drawn
   * @param {import('three').Object3D} world the group the focus is given in
   * @param {number} [max]
   * @returns {number} how many tiles cast
   */
  limitCasters(scenes, world, max = MAX_SHADOW_TILES) {
    const focus = world.localToWorld(_focusWorld.copy(this.focusCenter));
    const ranked = [];
    for (const scene of scenes) {
      const meshes = tileMeshes(scene);
      if (meshes.length === 0) continue;
      ranked.push({ meshes, d: meshes[0].getWorldPosition(_meshPosition).distanceToSquared(focus) });
    }
    ranked.sort((a, b) => a.d - b.d);
    ranked.forEach(({ meshes }, i) => {
      for (const mesh of meshes) mesh.castShadow = i < max;
    });
    return Math.min(ranked.length, max);
  }

  _placeSun() {
    this.sun.target.position.copy(this.focusCenter);
    this.sun.position.copy(this.focusCenter).addScaledVector(this.direction, this.radius * 2);
  }

  /**
   * Size the ground plane in scene radii: wide at street level (a horizon), just past the
   * buildings on the table-top (so the miniature does not spill over the table).
   * @param {number} radii
   */
  setGroundExtent(radii) {
    this.ground.scale.setScalar(this.radius * radii);
  }

  /**
   * Place the sun for an instant and place.
   * @param {Date} date
   * @param {number} lat degrees
   * @param {number} lon degrees
   * @returns {{azimuth: number, elevation: number}}
   */
  setSun(date, lat, lon) {
    const pos = sunPosition(date, lat, lon);
    this.direction.set(...sunDirectionWorld(date, lat, lon));
    this._placeSun();
    // Fade the sun out through twilight; the sky light keeps the scene readable at night.
    const day = Math.max(0, Math.min(1, (pos.elevation + 2) / 8));
    this.sun.intensity = 2.2 * day;
    this.sun.visible = day > 0;
    this.sky.intensity = 0.7 + 0.4 * day;
    this.sky.color = new Color(0xdfe9f5).lerp(new Color(0x5a6785), 0.6 * (1 - day));
    this.position = pos;
    return pos;
  }
}
