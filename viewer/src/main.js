/**
 * Bootstrap: renderer, camera, world group, UI, the layer host (layers/host.js) and the frame loop.
 * Reads the page's query string: `?tileset=<url>` or `?scene=<scene.json url>` for standalone use, else
 * the server's scene list (`?id=<scene>` picks one); `?lang=de|en`; `?test=1` exposes `window.__twin`
 * for browser tests; `?date=<ISO date-time>` sets the sun's date and time (default: now, or today's
 * solar noon while the sun is down); `?variant=<id>` opens a variant; `?xr=emulate` installs IWER's
 * emulated Quest 3 (and implies test mode).
 */
import { ACESFilmicToneMapping, Color, Group, PCFShadowMap, PerspectiveCamera, Scene, SRGBColorSpace, WebGLRenderer } from 'three';
import * as api from './api.js';
import { Navigation } from './controls.js';
import { ContextLayer } from './layers/context.js';
import { LayerHost } from './layers/host.js';
import { MeasureLayer } from './layers/measure.js';
import { PickingLayer } from './layers/picking.js';
import { PinsLayer } from './layers/pins.js';
import { SensorsLayer } from './layers/sensors.js';
import { SunLayer } from './layers/sun.js';
import { TerrainLayer } from './layers/terrain.js';
import { FALLBACK_GEO, VariantsLayer } from './layers/variants.js';
import { VisitLayer } from './layers/visit.js';
import { BACKGROUND, XRLayer } from './layers/xr.js';
import { xrSupport } from './xr/session.js';
import { applyTranslations, detectLanguage, setLanguage, t } from './ui/i18n.js';
import { Panel } from './ui/panel.js';

const params = new URLSearchParams(location.search);
const emulateXR = params.get('xr') === 'emulate';
const explicitDate = Boolean(params.get('date')) && !Number.isNaN(Date.parse(params.get('date')));
const testMode = emulateXR || params.has('test');

/** What the layers share about the open scene (`sceneInfo`); tests read it as `__twin.state`. */
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
scene.background = new Color(BACKGROUND);
const world = new Group();
world.name = 'world';
scene.add(world);
const camera = new PerspectiveCamera(50, window.innerWidth / window.innerHeight, 1, 1e5);
camera.position.set(0, 200, 200);

const nav = new Navigation(camera, renderer.domElement);

setLanguage(params.get('lang') ?? detectLanguage(navigator.languages ?? [navigator.language]));

// The panel's controls call these; each layer fills in the ones it owns in its init().
const handlers = { onMode: (mode) => setMode(mode) };
const panel = new Panel(document.getElementById('ui'), handlers);

// Layers: each viewer feature is one (layers/host.js). Order matters: hooks run in this order,
// and the XR layer takes the sun's ground and the picker.
const host = new LayerHost(
  {
    renderer,
    scene,
    camera,
    world,
    nav,
    api,
    ui: panel,
    handlers,
    params,
    sceneInfo: state,
    tiles: { visible: () => state.variants?.visible() ?? [] },
  },
  { onError: ({ layer, error }) => panel.setStatus(t('status.error', { what: `${layer}: ${error.message}` })) },
);
const sun = host.register(new SunLayer({ explicitDate }));
const variants = host.register(new VariantsLayer());
host.register(new TerrainLayer());
const picking = host.register(new PickingLayer());
// After picking: a road, area or tree nearer than the building hit takes the selection.
host.register(new ContextLayer());
const measuring = host.register(new MeasureLayer());
// Before xr: its controller listener must see a select before the session's picking does.
host.register(new PinsLayer());
host.register(new VisitLayer());
host.register(new SensorsLayer());
const xrLayer = host.register(new XRLayer());

/** Desktop tool: 'orbit', 'walk' or 'measure'. */
function setMode(mode) {
  state.mode = mode;
  nav.setMode(mode === 'walk' ? 'walk' : 'orbit');
  panel.setMode(mode);
  host.emit('onModeChanged', mode);
}

window.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.ctrlKey || e.metaKey) return;
  if (e.key === '1') setMode('orbit');
  else if (e.key === '2') setMode('walk');
  else if (e.key === '3') setMode('measure');
  else host.emit('onKey', e);
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

let lastTime = performance.now();
renderer.setAnimationLoop((time, frame) => {
  const dt = Math.min(0.1, (time - lastTime) / 1000);
  lastTime = time;
  const presenting = renderer.xr.isPresenting;
  // The visitor moves first (XR controllers, or desktop navigation), then the layers follow.
  if (presenting) host.get('xr')?.xr.update(frame);
  else {
    nav.update(dt);
    for (const tiles of state.variants?.visible() ?? []) tiles.setResolutionFromRenderer(camera, renderer);
  }
  host.update(dt, frame);
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
sun.setDate(explicitDate ? new Date(params.get('date')) : new Date());
xrSupport().then((s) => panel.setXrSupport(s));
panel.setStatus(t('status.loading'));
try {
  const { scenes, scene: first } = await api.resolveScenes(params);
  state.scenes = scenes;
  if (first) variants.open(first);
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
    host,
    picker: picking.picker,
    measure: measuring.measure,
    panel,
    lighting: sun.lighting,
    xr: xrLayer.xr,
    xrDevice,
    state,
    setMode,
    setDate: (date) => sun.setDate(date),
    select: (hit) => picking.select(hit),
    pickScreen: (x, y) => picking.pickScreen(x, y),
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
