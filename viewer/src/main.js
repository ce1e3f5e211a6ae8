/**
 * Bootstrap: renderer, camera, world group, UI, and the frame loop. Reads the page's query string:
 * `?tileset=<url>` or `?scene=<scene.json url>` for standalone use, else the server's scene list
 * (`?id=<scene>` picks one); `?lang=de|en`; `?test=1` exposes `window.__twin` for browser tests;
 * `?date=<ISO date-time>` sets the sun's date and time (default: now, or today's solar noon while the sun is
 * down); `?variant=<id>` opens a variant; `?xr=emulate` installs IWER's emulated Quest 3 (and implies test mode).
 */
import { ACESFilmicToneMapping, Color, Group, PCFShadowMap, PerspectiveCamera, Scene, Sphere, SRGBColorSpace, Vector2, Vector3, WebGLRenderer } from 'three';
import { resolveScenes } from './api.js';
import { Navigation } from './controls.js';
import { boundsCenter } from './geo.js';
import { Lighting } from './lighting.js';
import { Measure } from './measure.js';
import { Picker } from './picking.js';
import { sunPosition, sunTimes } from './sun.js';
import { createTiles, tilesBounds } from './tiles.js';
import { BASE, VariantManager } from './variants.js';
import { XRExperience, xrSupport } from './xr/session.js';
import { applyTranslations, detectLanguage, setLanguage, t } from './ui/i18n.js';
import { Panel } from './ui/panel.js';

const RAD = 180 / Math.PI;
const params = new URLSearchParams(location.search);
const emulateXR = params.get('xr') === 'emulate';
const explicitDate = Boolean(params.get('date')) && !Number.isNaN(Date.parse(params.get('date')));
const testMode = emulateXR || params.has('test');
const FALLBACK_GEO = { lat: 53.5511, lon: 9.9937 }; // Hamburg, for tilesets that are not georeferenced

const state = {
  scene: null,
  scenes: [],
  variants: null,
  bounds: null,
  geo: FALLBACK_GEO,
  date: new Date(),
  mode: 'orbit',
  framed: false,
  lastFrame: { calls: 0, triangles: 0, presenting: false },
  frames: 0,
};

let xrDevice = null;
if (emulateXR) {
  const { installEmulator } = await import('./xr/emulate.js');
  xrDevice = installEmulator();
}

const renderer = new WebGLRenderer({ antialias: true, preserveDrawingBuffer: testMode });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
renderer.setSize(window.innerWidth, window.innerHeight);
renderer.outputColorSpace = SRGBColorSpace;
renderer.toneMapping = ACESFilmicToneMapping;
renderer.shadowMap.enabled = true;
renderer.shadowMap.type = PCFShadowMap;
renderer.xr.enabled = true;
// Swipe view renders twice per frame: counters are reset once per frame, not per render call.
renderer.info.autoReset = false;
document.getElementById('view').append(renderer.domElement);

const scene = new Scene();
scene.background = new Color(0xcfd8e3);
const world = new Group();
world.name = 'world';
scene.add(world);
const camera = new PerspectiveCamera(50, window.innerWidth / window.innerHeight, 1, 1e5);
camera.position.set(0, 200, 200);

const nav = new Navigation(camera, renderer.domElement);
const picker = new Picker();
const measure = new Measure(world);
const lighting = new Lighting(world);

setLanguage(params.get('lang') ?? detectLanguage(navigator.languages ?? [navigator.language]));

const panel = new Panel(document.getElementById('ui'), {
  onScene: (id) => openScene(state.scenes.find((s) => s.id === id)),
  onVariant: (key) => state.variants?.show(key),
  onCompare: (key) => state.variants?.setCompare(key),
  onToggle: () => state.variants?.toggle(),
  onSwipe: (on) => state.variants?.setSwipe(on),
  onSplit: (x) => state.variants && (state.variants.split = x),
  onMode: (mode) => setMode(mode),
  onDateTime: (date) => setDate(date),
  onEnterXR: (mode) => xr.start(mode).catch((e) => panel.setStatus(t('status.error', { what: e.message }))),
  onCloseInfo: () => select(null),
});

const xr = new XRExperience({
  renderer,
  scene,
  camera,
  world,
  picker,
  ground: lighting.ground,
  variants: () => state.variants,
  bounds: () => state.bounds,
  hooks: {
    nextVariant: (step) => state.variants?.next(step),
    variantTitle: () => variantTitle(state.variants?.active ?? BASE),
    shiftTime: (hours) => setDate(new Date(state.date.getTime() + hours * 3600e3)),
    timeLabel: () => state.date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }),
    onStart: () => panel.setStatus(''),
    onEnd: () => {
      lighting.setGroundExtent(8);
      scene.background = new Color(0xcfd8e3);
      fitLighting();
    },
    onPick: (feature) => panel.showAttributes(feature),
    onMode: (mode) => lighting.setGroundExtent(mode === 'tabletop' ? 1.5 : 8),
  },
});

function variantTitle(key) {
  if (key === BASE) return t('variant.existing');
  return state.scene?.variants.find((v) => v.id === key)?.title ?? key;
}

function setMode(mode) {
  state.mode = mode;
  nav.setMode(mode === 'walk' ? 'walk' : 'orbit');
  panel.setMode(mode);
  panel.setMeasure(mode === 'measure' ? 'hint' : null);
  if (mode !== 'measure') measure.clear();
}

function setDate(date) {
  state.date = date;
  panel.setDateTime(date);
  panel.setSun(lighting.setSun(date, state.geo.lat, state.geo.lon));
  xr.menu.draw({ time: xr.hooks.timeLabel() });
}

function select(hit) {
  const feature = picker.select(hit);
  if (feature) panel.showAttributes(feature);
  else panel.hideAttributes();
  return feature;
}

function fitLighting() {
  if (!state.bounds) return;
  lighting.fit(state.bounds.sphere, state.bounds.box.min.y);
  setDate(explicitDate ? state.date : daylight(state.date, state.geo));
}

/** `date` if the sun is up there (above 5°), else that day's solar noon: a visit starts in daylight. */
function daylight(date, geo) {
  if (sunPosition(date, geo.lat, geo.lon).elevation > 5) return date;
  return sunTimes(date, geo.lat, geo.lon).noon;
}

/** Where the sun is computed: scene origin, scene bounds, the tileset's own georeference, or Hamburg. */
function geoFor(sceneObj, tiles) {
  if (sceneObj.origin) return { lat: sceneObj.origin.lat, lon: sceneObj.origin.lon };
  if (sceneObj.bounds) return boundsCenter(sceneObj.bounds);
  const s = new Sphere();
  if (tiles.getBoundingSphere(s) && s.center.length() > 6e6) {
    // A georeferenced tileset without scene metadata: take its centre on the ellipsoid.
    const cart = {};
    tiles.ellipsoid.getPositionToCartographic(s.center, cart);
    return { lat: cart.lat * RAD, lon: cart.lon * RAD };
  }
  return FALLBACK_GEO;
}

function makeTiles(url) {
  const tiles = createTiles(url, { renderer, camera, origin: state.scene?.origin ?? null });
  tiles.addEventListener('load-root-tileset', () => {
    // The first tileset of the scene to load frames it (the existing state, or the variant opened by URL).
    if (state.framed || ![...(state.variants?.tiles.values() ?? [])].includes(tiles)) return;
    state.geo = geoFor(state.scene, tiles);
    world.updateMatrixWorld(true);
    state.bounds = tilesBounds(tiles, world);
    nav.groundY = state.bounds.box.min.y;
    if (!xr.session) nav.frame(state.bounds.sphere);
    state.framed = true;
    fitLighting();
  });
  tiles.addEventListener('load-error', (e) => panel.setStatus(t('status.error', { what: e.url ?? url })));
  xr.adoptTiles(tiles);
  return tiles;
}

function openScene(sceneObj) {
  if (!sceneObj) return;
  state.variants?.dispose();
  select(null);
  measure.clear();
  state.scene = sceneObj;
  state.framed = false;
  state.bounds = null;
  state.variants = new VariantManager(sceneObj, makeTiles, world);
  state.variants.onChange(() => {
    panel.refresh();
    select(null);
    xr.menu.draw({ variant: variantTitle(state.variants.active) });
  });
  panel.setScenes(state.scenes, sceneObj);
  panel.setVariants(state.variants);
  // `?variant=<id>` opens a variant directly (the planner's preview link).
  const wanted = params.get('variant');
  if (wanted && sceneObj.variants.some((v) => v.id === wanted)) state.variants.show(wanted);
  document.title = `${sceneObj.title} – ${t('app.title')}`;
}

// Click (not drag) on the canvas: pick a building, or add a measuring point.
const down = new Vector2();
renderer.domElement.addEventListener('pointerdown', (e) => down.set(e.clientX, e.clientY));
renderer.domElement.addEventListener('pointerup', (e) => {
  if (down.distanceTo(new Vector2(e.clientX, e.clientY)) > 5 || !state.variants || state.mode === 'walk') return;
  const hit = pickScreen(e.clientX, e.clientY);
  if (state.mode === 'measure') {
    if (hit) panel.setMeasure(measure.addPoint(world.worldToLocal(hit.point.clone())) ?? 'hint');
  } else select(hit);
});

/** Raycast the visible tiles under a client pixel; in swipe view, the side under the pixel. */
function pickScreen(x, y) {
  const rect = renderer.domElement.getBoundingClientRect();
  const ndcX = ((x - rect.left) / rect.width) * 2 - 1;
  const ndcY = -((y - rect.top) / rect.height) * 2 + 1;
  const visible = state.variants.visible();
  const side = visible.length > 1 && (x - rect.left) / rect.width > state.variants.split ? visible[1] : visible[0];
  return picker.intersectScreen(ndcX, ndcY, camera, [side.group]);
}

window.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.ctrlKey || e.metaKey) return;
  if (e.key === '1') setMode('orbit');
  else if (e.key === '2') setMode('walk');
  else if (e.key === '3') setMode('measure');
  else if (e.key === 'v' || e.key === 'V') state.variants?.next(e.shiftKey ? -1 : 1);
  else if (e.key === 'c' || e.key === 'C') state.variants?.toggle();
  else if (e.key === 'Escape') {
    select(null);
    measure.clear();
    if (state.mode === 'measure') panel.setMeasure('hint');
  }
});

window.addEventListener('resize', () => {
  camera.aspect = window.innerWidth / window.innerHeight;
  camera.updateProjectionMatrix();
  renderer.setSize(window.innerWidth, window.innerHeight);
});

// Count the shadow pass apart: it runs once per frame, the scene pass once per view (two in VR),
// and the budgets are per eye.
const shadowInfo = { calls: 0, triangles: 0 };
{
  const shadowRender = renderer.shadowMap.render.bind(renderer.shadowMap);
  renderer.shadowMap.render = (...args) => {
    const { calls, triangles } = renderer.info.render;
    shadowRender(...args);
    shadowInfo.calls += renderer.info.render.calls - calls;
    shadowInfo.triangles += renderer.info.render.triangles - triangles;
  };
}

const _focus = new Vector3();
/** Centre the sun's shadow map on what is looked at (orbit target, walker, VR visitor). */
function focusShadows() {
  if (!state.bounds) return;
  if (renderer.xr.isPresenting) {
    if (xr.mode === 'street') lighting.focus(xr.viewerScenePosition(), 150);
    else lighting.focus(state.bounds.sphere.center, Infinity);
  } else if (nav.mode === 'walk') lighting.focus(world.worldToLocal(_focus.copy(camera.position)), 120);
  else lighting.focus(world.worldToLocal(_focus.copy(nav.map.target)), camera.position.distanceTo(nav.map.target) * 0.9);
}

let lastTime = performance.now();
renderer.setAnimationLoop((time, frame) => {
  const dt = Math.min(0.1, (time - lastTime) / 1000);
  lastTime = time;
  const presenting = renderer.xr.isPresenting;
  if (presenting) xr.update(frame);
  else {
    nav.update(dt);
    for (const tiles of state.variants?.visible() ?? []) tiles.setResolutionFromRenderer(camera, renderer);
  }
  focusShadows();
  camera.updateMatrixWorld();
  renderer.info.reset();
  shadowInfo.calls = shadowInfo.triangles = 0;
  state.variants?.update();
  if (state.variants) state.variants.render(renderer, scene, camera);
  else renderer.render(scene, camera);
  state.frames++;
  const { calls, triangles } = renderer.info.render;
  state.lastFrame = {
    calls,
    triangles,
    presenting,
    shadowCalls: shadowInfo.calls,
    shadowTriangles: shadowInfo.triangles,
    // Scene passes: one per eye in VR (three.js draws each object per view of its ArrayCamera).
    views: presenting ? Math.max(1, renderer.xr.getCamera().cameras.length) : 1,
  };
});

// Start: UI text, date, XR buttons, then the scene(s).
applyTranslations(document);
setDate(explicitDate ? new Date(params.get('date')) : new Date());
xrSupport().then((s) => panel.setXrSupport(s));
panel.setStatus(t('status.loading'));
try {
  const { scenes, scene: first } = await resolveScenes(params);
  state.scenes = scenes;
  if (first) openScene(first);
  else panel.setStatus(t('scene.none'));
} catch (e) {
  panel.setStatus(t('status.error', { what: e.message }));
}

// Hide the loading note once the first tiles arrive.
const statusTimer = setInterval(() => {
  if (state.variants?.current.stats.models > 0) {
    panel.setStatus('');
    clearInterval(statusTimer);
  }
}, 250);

if (testMode) {
  window.__twin = {
    renderer,
    scene,
    camera,
    world,
    nav,
    picker,
    measure,
    panel,
    lighting,
    xr,
    xrDevice,
    state,
    setMode,
    setDate,
    select,
    pickScreen,
    /** Load summary of the visible tilesets. */
    tilesInfo: () =>
      (state.variants?.visible() ?? []).map((tiles) => ({
        url: tiles.rootURL,
        models: tiles.stats.models,
        errors: tiles.stats.errors,
        rootLoaded: tiles.stats.rootLoaded,
        loadProgress: tiles.loadProgress,
        meshes: countMeshes(tiles.group),
        // glTF primitives loaded and meshes left after merging (merge.js), over all tiles loaded so far
        primitivesLoaded: tiles.stats.meshes.loaded,
        meshesAfterMerge: tiles.stats.meshes.drawn,
      })),
  };
}

function countMeshes(group) {
  let n = 0;
  group.traverse((o) => {
    if (o.isMesh || o.isPoints) n++;
  });
  return n;
}
