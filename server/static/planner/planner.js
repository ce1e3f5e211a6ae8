// Planner page: talks to /api/planner with the bearer token kept in sessionStorage. No build step.
// Steps: sign in, upload a design (with progress), place it in a variant (numbers or the map), build and
// follow the build, preview it in the viewer, publish.
import { PlacementMap } from './map.js';

const $ = (id) => document.getElementById(id);
const api = '/api/planner';
const POLL_MS = 500;
// Largest buildings.geojson the map reads whole (a published city is queried by bounding box instead).
const MAX_FOOTPRINTS_BYTES = 20e6;

let token = sessionStorage.getItem('twin-token') || '';
let scene = '';
let current = null; // the planner scene document (variants, uploads, builds)
let following = null;
let mapSource = ''; // which build's footprints the map shows
let unsaved = false;
let lastPlacement = null; // "variant/design" -> placement report of the newest succeeded build
let lastDesigns = {}; // "variant/design" -> {title, metrics} of the newest succeeded build
let lastVariants = {}; // variant id -> {removed, metrics_delta} of the newest succeeded build

function say(text, error = false) {
  $('message').textContent = text;
  $('message').className = error ? 'error' : '';
  $('message').setAttribute('role', error ? 'alert' : 'status');
}

const fail = (e) => say(e.message, true);

/** Call the planner API; errors carry the server's problem detail. */
async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(api + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new Error('The server cannot be reached.');
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(problem(data, res.status, res.statusText));
  return data;
}

function problem(data, status, statusText) {
  if (typeof data.detail === 'string') return data.detail;
  if (Array.isArray(data.detail)) return data.detail.map((d) => `${(d.loc || []).slice(1).join('.')}: ${d.msg}`).join('; ');
  return `${status} ${statusText || ''}`.trim();
}

function cell(row, content) {
  const td = row.insertCell();
  if (content instanceof Node) td.append(content);
  else td.textContent = content ?? '';
  return td;
}

function button(label, onclick, ariaLabel) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  if (ariaLabel) b.setAttribute('aria-label', ariaLabel);
  b.onclick = () => onclick().catch(fail);
  return b;
}

const kB = (n) => (n < 1e6 ? `${Math.round(n / 1e3)} kB` : `${(n / 1e6).toFixed(1)} MB`);

// --- sign in ----------------------------------------------------------------------------------
async function signIn(event) {
  event?.preventDefault();
  token = $('token').value.trim() || token;
  let scenes;
  try {
    scenes = await call('GET', '/scenes');
  } catch (e) {
    sessionStorage.removeItem('twin-token');
    throw new Error(`Sign-in failed: ${e.message}`);
  }
  sessionStorage.setItem('twin-token', token);
  $('scene').replaceChildren(...scenes.map((s) => new Option(`${s.title} (${s.id})`, s.id)));
  $('scene').disabled = !scenes.length;
  $('sign-out').hidden = false;
  if (!scenes.length) return say('This token may not work on any scene.', true);
  scene = scene && scenes.some((s) => s.id === scene) ? scene : scenes[0].id;
  $('scene').value = scene;
  $('work').hidden = false;
  await refresh();
  say(`Signed in: ${scenes.length} scene${scenes.length > 1 ? 's' : ''}.`);
}

function signOut() {
  token = '';
  sessionStorage.removeItem('twin-token');
  $('token').value = '';
  $('work').hidden = true;
  $('scene').replaceChildren();
  $('scene').disabled = true;
  $('sign-out').hidden = true;
  following = null;
  say('Signed out.');
  $('token').focus();
}

// --- the scene document -----------------------------------------------------------------------
function keep(select, options) {
  const before = select.value;
  select.replaceChildren(...options);
  if ([...select.options].some((o) => o.value === before)) select.value = before;
}

async function refresh() {
  const s = await call('GET', `/scenes/${scene}`);
  current = s;
  const ups = $('uploads').tBodies[0];
  ups.replaceChildren();
  for (const u of s.uploads) {
    const row = ups.insertRow();
    cell(row, u.filename);
    cell(row, u.format);
    cell(row, kB(u.size));
    cell(row, u.info.triangles ?? '');
    const b = u.info.bounds;
    cell(row, b ? `${(b[1][0] - b[0][0]).toFixed(1)} × ${(b[1][1] - b[0][1]).toFixed(1)} × ${(b[1][2] - b[0][2]).toFixed(1)} m` : '');
    cell(row, button('Delete', async () => {
      await call('DELETE', `/scenes/${scene}/uploads/${u.id}`);
      await refresh();
      say(`Deleted ${u.filename}.`);
    }, `Delete upload ${u.filename}`));
  }
  keep($('design-upload'), s.uploads.map((u) => new Option(`${u.filename} (${u.id.slice(-6)})`, u.id)));
  renderVariants(s);
  renderBuilds(s);
  updateMap();
  await loadMapSource(s).catch((e) => ($('map-state').textContent = `Footprints not shown: ${e.message}`));
}

function renderVariants(s) {
  const list = $('variants');
  list.replaceChildren();
  for (const v of s.variants) {
    const li = document.createElement('li');
    const designs = v.designs.map((d) => {
      const a = d.anchor;
      return `${d.title} (${d.id}) at ${a.lon ?? a.easting}, ${a.lat ?? a.northing}, heading ${a.heading}°`;
    });
    li.append(`${v.title} (${v.id}): ${designs.join('; ') || 'no designs'}. `);
    li.append(button('Edit', async () => editVariant(v), `Edit variant ${v.id}`));
    for (const d of v.designs) {
      li.append(' ', button(`Move ${d.id}`, async () => editDesign(v, d), `Move design ${d.id} of variant ${v.id}`));
      li.append(' ', button(`Remove ${d.id}`, async () => {
        await call('DELETE', `/scenes/${scene}/variants/${v.id}/designs/${d.id}`);
        await refresh();
        say(`Removed ${d.id} from ${v.id}.`);
      }, `Remove design ${d.id} from variant ${v.id}`));
    }
    list.append(li);
  }
}

function editVariant(v) {
  $('variant-id').value = v.id;
  $('variant-title').value = v.title;
  $('variant-removed').value = v.removed.join(', ');
  updateMap();
  $('variant-title').focus();
}

function editDesign(v, d) {
  editVariant(v);
  $('design-id').value = d.id;
  $('design-title').value = d.title;
  $('design-upload').value = d.upload;
  for (const key of ['lon', 'lat', 'elevation', 'heading', 'scale']) if (d.anchor[key] !== undefined) $(key).value = d.anchor[key];
  if (d.anchor.datum) $('datum').value = d.anchor.datum;
  setUnsaved(false);
  updateMap();
  map.centreOnDesign();
  $('lon').focus();
}

function renderBuilds(s) {
  const builds = $('builds').tBodies[0];
  builds.replaceChildren();
  for (const b of s.builds) {
    const row = builds.insertRow();
    cell(row, b.id);
    cell(row, b.published ? `${b.state}, published` : b.state);
    cell(row, b.finished ? new Date(b.finished * 1000).toLocaleString() : '');
    const actions = cell(row, '');
    if (b.preview) {
      const sceneUrl = b.preview.replace(/tileset\.json$/, 'scene.json');
      // Open the variant being edited (or the first one) rather than the existing state.
      const ids = s.variants.map((v) => v.id);
      const variant = ids.includes($('variant-id')?.value) ? $('variant-id').value : ids[0];
      // The draft's URL is its only secret: it goes in the fragment, which browsers never send to a server
      // (no logs, no Referer); the viewer reads it from there (viewer/src/api.js previewFromHash).
      const query = variant ? `?variant=${encodeURIComponent(variant)}` : '';
      actions.append(link('Preview', `/${query}#preview=${encodeURIComponent(sceneUrl)}`, `Preview build ${b.id} in the viewer`), ' ');
      if (!b.published) {
        const newest = s.builds.find((x) => x.state === 'succeeded');
        actions.append(button('Publish', async () => {
          // Builds are listed newest first: publishing an older one goes back in time, so ask.
          if (newest && newest.id !== b.id && !window.confirm(`Build ${b.id} is older than build ${newest.id}. Publish it anyway?`)) return;
          await call('POST', `/scenes/${scene}/builds/${b.id}/publish`);
          await refresh();
          say(`Published build ${b.id}: visitors now see it.`);
        }, `Publish build ${b.id}`));
      }
    }
    if (b.state === 'queued' || b.state === 'running') follow(b.id);
  }
}

function link(text, href, ariaLabel) {
  const a = document.createElement('a');
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener';
  a.textContent = text;
  a.setAttribute('aria-label', `${ariaLabel} (opens a new tab)`);
  return a;
}

// --- upload -----------------------------------------------------------------------------------
function upload(event) {
  event.preventDefault();
  const file = $('file').files[0];
  if (!file) return say('Choose a design file first.', true);
  say(`Uploading ${file.name}…`); // a new upload clears the previous one's error
  const xhr = new XMLHttpRequest();
  const bar = $('upload-progress');
  const text = $('upload-text');
  bar.value = 0;
  text.textContent = `0 of ${kB(file.size)}`;
  $('upload').disabled = true;
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    bar.value = e.loaded / e.total;
    text.textContent = `${kB(e.loaded)} of ${kB(e.total)}`;
  };
  xhr.upload.onload = () => (text.textContent = `${kB(file.size)} sent, checking the file…`);
  xhr.onload = async () => {
    $('upload').disabled = false;
    let data = {};
    try {
      data = JSON.parse(xhr.responseText || '{}');
    } catch {
      data = {};
    }
    if (xhr.status >= 400) {
      bar.value = 0;
      text.textContent = '';
      return say(`Upload of ${file.name} refused: ${problem(data, xhr.status, xhr.statusText)}`, true);
    }
    bar.value = 1;
    text.textContent = `${kB(file.size)} uploaded`;
    await refresh().catch(fail);
    $('design-upload').value = data.id;
    updateMap();
    say(`Uploaded ${data.filename}: ${data.format}, ${data.info.triangles} triangles.`);
  };
  xhr.onerror = () => {
    $('upload').disabled = false;
    text.textContent = '';
    say(`Upload of ${file.name} failed: the server cannot be reached.`, true);
  };
  xhr.open('POST', `${api}/scenes/${scene}/uploads?filename=${encodeURIComponent(file.name)}`);
  xhr.setRequestHeader('Authorization', `Bearer ${token}`);
  xhr.setRequestHeader('Content-Type', 'application/octet-stream');
  xhr.send(file);
}

// --- variants and placement -------------------------------------------------------------------
function removedIds() {
  return $('variant-removed').value.split(/[\s,]+/).filter(Boolean);
}

async function saveVariant(event) {
  event.preventDefault();
  const id = $('variant-id').value;
  await call('PUT', `/scenes/${scene}/variants/${id}`, { title: $('variant-title').value, removed: removedIds() });
  await refresh();
  say(`Variant ${id} saved.`);
}

function anchorFromFields() {
  const num = (id) => Number($(id).value);
  return {
    lon: $('lon').value === '' ? NaN : num('lon'),
    lat: $('lat').value === '' ? NaN : num('lat'),
    elevation: num('elevation'),
    datum: $('datum').value,
    heading: num('heading'),
    scale: num('scale') || 1,
  };
}

async function placeDesign(event) {
  event.preventDefault();
  const variant = $('variant-id').value;
  if (!$('variant-form').reportValidity()) return;
  // Placing into a variant that does not exist yet creates it (with the form's title) first.
  if (!current?.variants.some((v) => v.id === variant)) {
    await call('PUT', `/scenes/${scene}/variants/${variant}`, { title: $('variant-title').value, removed: removedIds() });
  }
  const design = $('design-id').value;
  await call('PUT', `/scenes/${scene}/variants/${variant}/designs/${design}`, {
    upload: $('design-upload').value,
    title: $('design-title').value,
    anchor: anchorFromFields(),
  });
  setUnsaved(false);
  await refresh();
  say(`Placed ${design} in variant ${variant}. Start a build to see it.`);
}

function setUnsaved(on) {
  unsaved = on;
  $('map-state').textContent = on ? 'Moved on the map, not saved yet: press “Place design” to save.' : '';
}

// --- the map ----------------------------------------------------------------------------------
const map = new PlacementMap($('map'), (anchor, how) => {
  $('lon').value = anchor.lon;
  $('lat').value = anchor.lat;
  $('heading').value = anchor.heading;
  setUnsaved(true);
  if (how === 'place') say(`Design put at ${anchor.lon}, ${anchor.lat}.`);
});

function selectedUpload() {
  return current?.uploads.find((u) => u.id === $('design-upload').value) ?? null;
}

/** Redraw the design from the number fields (and the last build's placement report of it). */
function updateMap() {
  const up = selectedUpload();
  map.setDesign(up?.info.bounds ?? null, anchorFromFields());
  map.setRemoved(removedIds());
  const placement = lastPlacement?.[`${$('variant-id').value}/${$('design-id').value}`];
  map.setBuilt(placement ? placement.footprint_corners.map((c) => [c.lon, c.lat]) : null);
  showReport($('variant-id').value, $('design-id').value, placement);
}

const GFA_SOURCES = {
  ifc_storeys: "the storeys' quantities",
  ifc_spaces: "the spaces' quantities",
  ifc_space_geometry: "the spaces' shapes",
  'ifc_spaces+geometry': "the spaces' quantities and shapes",
  estimate: 'footprint × storeys (estimated)',
};

/** The last build's metrics, deltas and placement report of the design being edited, in the planner's names. */
function showReport(variant, design, placement) {
  const out = $('design-report');
  const d = lastDesigns[`${variant}/${design}`];
  if (!d) {
    out.replaceChildren();
    return;
  }
  const m = d.metrics;
  const v = lastVariants[variant] ?? {};
  const num = (x, unit) => (Number.isFinite(x) ? `${Math.round(x).toLocaleString('en')} ${unit}` : '–');
  const sign = (x, unit) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(Math.round(x)).toLocaleString('en')} ${unit}` : '–');
  const gfaSource = m.gfa_source?.startsWith('ifc_storeys+') ? "the storeys' and spaces' quantities" : (GFA_SOURCES[m.gfa_source] ?? m.gfa_source);
  const lines = [
    `${d.title}${placement?.file ? ` (${placement.file})` : ''}, as built by build ${d.build}:`,
    `footprint ${num(m.footprint_area, 'm²')}, height ${Number.isFinite(m.height) ? m.height.toFixed(1) : '–'} m, ` +
      `${m.storeys ?? '–'} storeys, gross floor area ${num(m.gross_floor_area, 'm²')} from ${gfaSource}.`,
  ];
  if (v.delta) {
    const r = v.delta.removed ?? {};
    lines.push(
      `The variant removes ${r.count ?? 0} building${r.count === 1 ? '' : 's'} (${num(r.gross_floor_area, 'm²')} floor area); ` +
        `change: floor area ${sign(v.delta.delta?.gross_floor_area, 'm²')}, footprint ${sign(v.delta.delta?.footprint_area, 'm²')}.`,
    );
  }
  if (placement) {
    const o = placement.origin ?? {};
    lines.push(
      `Placed by ${placement.route === 'anchor' ? 'the anchor' : `the file's georeference (${placement.route})`} at ` +
        `${o.lon?.toFixed(6)}, ${o.lat?.toFixed(6)}, heading ${placement.heading_true?.toFixed(1)}°.`,
    );
    for (const note of placement.notes ?? []) lines.push(`Note: ${note}`);
  }
  out.replaceChildren(...lines.map((text) => Object.assign(document.createElement('p'), { textContent: text })));
}

/** Footprints and placement reports from the newest succeeded build (draft or published). */
async function loadMapSource(s) {
  const build = s.builds.find((b) => b.state === 'succeeded' && b.preview);
  if (!build || mapSource === build.id) return;
  mapSource = build.id;
  const base = build.preview.replace(/tileset\.json$/, '');
  const meta = await fetch(`${base}scene.json`).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`scene.json: HTTP ${r.status}`))));
  lastPlacement = {};
  lastDesigns = {};
  lastVariants = {};
  for (const v of meta.variants ?? []) {
    lastVariants[v.id] = { removed: v.removed ?? [], delta: v.metrics_delta ?? null };
    for (const d of v.designs ?? []) {
      if (d.placement?.footprint_corners) lastPlacement[`${v.id}/${d.id}`] = d.placement;
      lastDesigns[`${v.id}/${d.id}`] = { title: d.title, metrics: d.metrics ?? {}, build: build.id };
    }
  }
  let features = [];
  const head = await fetch(`${base}buildings.geojson`, { method: 'HEAD' });
  const size = Number(head.headers.get('content-length') || 0);
  if (head.ok && size <= MAX_FOOTPRINTS_BYTES) {
    features = (await (await fetch(`${base}buildings.geojson`)).json()).features;
  } else if (s.published) {
    // A big city: ask the public API for the buildings around the design (or the scene's centre).
    const a = anchorFromFields();
    const [lon, lat] = Number.isFinite(a.lon) ? [a.lon, a.lat] : [meta.origin.lon, meta.origin.lat];
    const bbox = [lon - 0.006, lat - 0.004, lon + 0.006, lat + 0.004].join(',');
    features = (await (await fetch(`/api/scenes/${s.id}/buildings?bbox=${bbox}`)).json()).features ?? [];
  }
  if (!$('lon').value && meta.origin) {
    // Nothing placed yet: start at the scene's origin rather than at 0°, 0°.
    $('lon').value = meta.origin.lon;
    $('lat').value = meta.origin.lat;
  }
  map.setBuildings(features, removedIds());
  updateMap();
  $('map-state').textContent = `${features.length} buildings from build ${build.id}.`;
}

// --- builds -----------------------------------------------------------------------------------
function follow(id) {
  if (following === id) return;
  following = id;
  $('current').hidden = false;
  $('cancel').disabled = false;
  $('cancel').onclick = () => call('POST', `/scenes/${scene}/builds/${id}/cancel`).then(() => say(`Cancelling build ${id}…`)).catch(fail);
  const tick = async () => {
    if (following !== id) return;
    const b = await call('GET', `/scenes/${scene}/builds/${id}`);
    $('build-state').textContent = `Build ${b.id}: ${b.state}${b.stage ? `, ${b.stage}` : ''}, ${(100 * b.progress).toFixed(0)} %`;
    $('build-progress').value = b.progress;
    $('build-log').textContent = b.log || '';
    if (b.state === 'queued' || b.state === 'running') {
      setTimeout(() => tick().catch(lost), POLL_MS);
      return;
    }
    following = null;
    $('cancel').disabled = true;
    await refresh();
    if (b.state === 'succeeded') say(`Build ${b.id} succeeded: preview it or publish it below.`);
    else say(`Build ${b.id} ${b.state}${b.error ? `: ${b.error}` : '.'}`, true);
  };
  // Lost track (network, token revoked): stop, say so, and let the next refresh pick the build up again.
  const lost = (e) => {
    following = null;
    fail(e);
  };
  tick().catch(lost);
}

async function startBuild() {
  if (unsaved) say('The map has a placement that is not saved: this build uses the saved one.', true);
  const b = await call('POST', `/scenes/${scene}/builds`);
  follow(b.id);
}

// --- wiring -----------------------------------------------------------------------------------
$('login').onsubmit = (e) => signIn(e).catch(fail);
$('sign-out').onclick = signOut;
$('scene').onchange = () => {
  scene = $('scene').value;
  mapSource = '';
  lastPlacement = null;
  map.hasView = false;
  map.setBuildings([]);
  refresh().catch(fail);
};
$('upload-form').onsubmit = upload;
$('variant-form').onsubmit = (e) => saveVariant(e).catch(fail);
$('design-form').onsubmit = (e) => placeDesign(e).catch(fail);
$('build').onclick = () => startBuild().catch(fail);
$('unpublish').onclick = () =>
  call('DELETE', `/scenes/${scene}/published`)
    .then(() => refresh())
    .then(() => say('Unpublished: visitors no longer see this scene.'))
    .catch(fail);
for (const id of ['lon', 'lat', 'heading', 'scale', 'design-upload', 'design-id', 'variant-id', 'variant-removed']) {
  $(id).addEventListener('input', () => updateMap());
  $(id).addEventListener('change', () => updateMap());
}
if (token) {
  $('token').value = token;
  signIn().catch(fail);
}
// For tests and the curious: the page's state.
window.__planner = { map, get scene() { return current; } };
