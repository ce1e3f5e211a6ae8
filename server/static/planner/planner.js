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
let lastVariants = {}; // variant id -> {removed, partial, delta} of the newest succeeded build
let choices = new Map(); // building id -> 'keep' | 'remove': the planner's choices for the design being placed
let overlapSeq = 0; // the latest overlaps request (older answers are dropped)
let overlapTimer = null;

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
      const what = a.point === 'centre' ? 'centre' : 'origin';
      const kept = d.keep?.length ? `, keeps ${d.keep.join(', ')}` : '';
      const gone = d.remove?.length ? `, removes ${d.remove.join(', ')}` : '';
      return `${d.title} (${d.id}) with its ${what} at ${a.lon ?? a.easting}, ${a.lat ?? a.northing}, heading ${a.heading}°${kept}${gone}`;
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
  $('anchor-point').value = d.anchor.point ?? 'origin';
  choices = new Map([...(d.keep ?? []).map((id) => [id, 'keep']), ...(d.remove ?? []).map((id) => [id, 'remove'])]);
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
    point: $('anchor-point').value,
  };
}

/** The planner's keep/remove choices as the API takes them. */
function chosen() {
  const ids = (what) => [...choices].filter(([, c]) => c === what).map(([id]) => id);
  return { keep: ids('keep'), remove: ids('remove') };
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
    ...chosen(),
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
  if (anchor.point) $('anchor-point').value = anchor.point;
  setUnsaved(true);
  if (how === 'place') {
    say(`Design put with its ${anchor.point === 'centre' ? "footprint's centre" : 'origin'} at ${anchor.lon}, ${anchor.lat}.`);
    const under = map.buildingAt(anchor.lon, anchor.lat);
    $('map-info').textContent = under ? `Put on ${describe(under)}.` : '';
  }
  scheduleOverlaps();
});
map.onPick = (b) => {
  $('map-info').textContent = b ? describe(b) : 'No building there.';
};

/** A building as the map info line names it: id, address, name. */
function describe(b) {
  return `${b.id}: ${b.address || 'no address'}${b.name ? ` (${b.name})` : ''}`;
}

/** Find a building by id or address ("Osterstraße 176"), else a street by name; centre the map there. */
function findOnMap() {
  const q = $('map-search').value.trim();
  if (!q) return;
  // Case, commas, accents and ß do not matter: "osterstrasse 176" finds "Osterstraße 176".
  const norm = (t) => t.toLowerCase().replace(/ß/g, 'ss').normalize('NFD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[,\s]+/g, ' ').trim();
  const n = norm(q);
  const found = map.buildings.find((b) => b.id === q)
    ?? map.buildings.find((b) => b.address && norm(b.address.split(',')[0]) === n)
    ?? map.buildings.find((b) => b.address && norm(b.address).startsWith(n))
    ?? map.buildings.find((b) => (b.address && norm(b.address).includes(n)) || (b.name && norm(b.name).includes(n)));
  if (found) {
    map.showBuilding(found);
    $('map-info').textContent = describe(found);
    return;
  }
  const street = map.streets.find((s) => s.name && norm(s.name) === n) ?? map.streets.find((s) => s.name && norm(s.name).includes(n));
  if (street) {
    const pts = street.lines.flat();
    const [lon, lat] = pts[Math.floor(pts.length / 2)];
    map.showBuilding(null);
    map.centreOn(lon, lat);
    $('map-info').textContent = `${street.name} (street)`;
    return;
  }
  $('map-info').textContent = `Nothing on the map is called “${q}”.`;
}

function selectedUpload() {
  return current?.uploads.find((u) => u.id === $('design-upload').value) ?? null;
}

/** Redraw the design from the number fields (and the last build's placement report of it). */
function updateMap() {
  const up = selectedUpload();
  map.setDesign(up?.info.bounds ?? null, anchorFromFields(), up?.info.footprint ?? null, up?.info.footprint_centre ?? null);
  map.setRemoved(removedIds());
  const placement = lastPlacement?.[`${$('variant-id').value}/${$('design-id').value}`];
  map.setBuilt(placement ? placement.footprint_corners.map((c) => [c.lon, c.lat]) : null, placement?.footprint_outline ?? null);
  showReport($('variant-id').value, $('design-id').value, placement);
  scheduleOverlaps();
}

function scheduleOverlaps() {
  clearTimeout(overlapTimer);
  overlapTimer = setTimeout(() => showOverlaps().catch((e) => ($('overlaps-state').textContent = `(not known: ${e.message})`)), 250);
}

/** Which buildings the placement in the form would remove, which stay although it overlaps them (the
 * server cuts out as the builder does, on the newest build's buildings), and what the last build did. */
async function showOverlaps() {
  const up = selectedUpload();
  const a = anchorFromFields();
  const body = $('overlaps').tBodies[0];
  const seq = ++overlapSeq;
  if (!mapSource || !up?.info.footprint?.length || !Number.isFinite(a.lon) || !Number.isFinite(a.lat)) {
    body.replaceChildren();
    $('overlaps-state').textContent = mapSource ? '' : '(after the first build)';
    map.setRemoved(removedIds());
    return;
  }
  const r = await call('POST', `/scenes/${scene}/builds/${mapSource}/overlaps`, { upload: up.id, anchor: a, ...chosen() });
  if (seq !== overlapSeq) return;
  const last = lastVariants[$('variant-id').value];
  const pct = (x) => `${Math.round(100 * x)} %`;
  body.replaceChildren();
  for (const b of r.buildings) {
    const row = body.insertRow();
    cell(row, b.id);
    cell(row, b.address ?? b.name ?? '');
    cell(row, pct(b.share));
    cell(row, b.removed ? 'removed' : 'stays');
    const partial = last?.partial.find((p) => p.id === b.id);
    cell(row, !last ? '–' : last.removed.includes(b.id) ? 'removed' : partial ? `stayed (${pct(partial.share)})` : '–');
    const pick = document.createElement('select');
    pick.setAttribute('aria-label', `Keep or remove ${b.id}`);
    pick.append(new Option('by its share', ''), new Option('keep', 'keep'), new Option('remove', 'remove'));
    pick.value = choices.get(b.id) ?? '';
    pick.onchange = () => {
      if (pick.value) choices.set(b.id, pick.value);
      else choices.delete(b.id);
      setUnsaved(true);
      scheduleOverlaps();
    };
    cell(row, pick);
  }
  $('overlaps-state').textContent = `(${r.buildings.filter((b) => b.removed).length} removed, ${r.buildings.filter((b) => !b.removed).length} stay; on build ${r.build})`;
  const removed = [...removedIds(), ...r.buildings.filter((b) => b.removed).map((b) => b.id)];
  map.setRemoved(removed, r.buildings.filter((b) => !b.removed).map((b) => b.id));
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
    const c = placement.footprint_centre ?? {};
    const by = placement.route === 'anchor' ? 'the anchor' : `the file's georeference (${placement.route})`;
    lines.push(
      `Placed by ${by}${placement.anchor_point === 'centre' ? " (its footprint's centre)" : ''}: origin at ` +
        `${o.lon?.toFixed(6)}, ${o.lat?.toFixed(6)}, footprint's centre at ${c.lon?.toFixed(6)}, ${c.lat?.toFixed(6)}, ` +
        `heading ${placement.heading_true?.toFixed(1)}°.`,
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
    lastVariants[v.id] = { removed: v.removed ?? [], partial: v.partial ?? [], delta: v.metrics_delta ?? null };
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
  const addresses = [...new Set(features.map((f) => f.properties?.address).filter(Boolean))].sort().slice(0, 5000);
  $('map-addresses').replaceChildren(...addresses.map((a) => new Option(a.split(',')[0])));
  const streets = await call('GET', `/scenes/${scene}/builds/${build.id}/streets`).catch(() => ({ features: [] }));
  map.setStreets(streets.features ?? []);
  updateMap();
  $('map-state').textContent = `${features.length} buildings and ${map.streets.length} streets from build ${build.id}.`;
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
    // A succeeded build's error names the variants whose design failed (left out; the rest was built).
    if (b.state === 'succeeded') say(`Build ${b.id} succeeded: preview it or publish it below.${b.error ? ` Left out: ${b.error}.` : ''}`, Boolean(b.error));
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
$('anchor-point').onchange = () => {
  if (map.anchor) map.switchPoint($('anchor-point').value);
  updateMap();
};
$('click-mode').onchange = () => (map.clickMode = $('click-mode').value);
$('map-find').onclick = findOnMap;
$('map-search').addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  e.preventDefault(); // Enter finds; it must not submit the placement form around it
  findOnMap();
});
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
