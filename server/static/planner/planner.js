// Planner page: talks to /api/planner with the bearer token kept in sessionStorage. No build step.
const $ = (id) => document.getElementById(id);
const api = '/api/planner';
let token = sessionStorage.getItem('twin-token') || '';
let scene = '';
let following = null;

function say(text, error = false) {
  $('message').textContent = text;
  $('message').className = error ? 'error' : '';
}

async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(api + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.detail || `${res.status} ${res.statusText}`);
  return data;
}

function cell(row, text) {
  const td = row.insertCell();
  if (text instanceof Node) td.append(text); else td.textContent = text ?? '';
  return td;
}

function button(label, onclick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.onclick = () => onclick().catch((e) => say(e.message, true));
  return b;
}

async function signIn(event) {
  event?.preventDefault();
  token = $('token').value.trim() || token;
  sessionStorage.setItem('twin-token', token);
  const scenes = await call('GET', '/scenes');
  $('scene').replaceChildren(...scenes.map((s) => new Option(`${s.title} (${s.id})`, s.id)));
  if (!scenes.length) return say('This token may not work on any scene.', true);
  scene = scene && scenes.some((s) => s.id === scene) ? scene : scenes[0].id;
  $('scene').value = scene;
  $('work').hidden = false;
  say('');
  await refresh();
}

async function refresh() {
  const s = await call('GET', `/scenes/${scene}`);
  const ups = $('uploads').tBodies[0];
  ups.replaceChildren();
  for (const u of s.uploads) {
    const row = ups.insertRow();
    cell(row, u.filename); cell(row, u.format); cell(row, `${(u.size / 1e6).toFixed(2)} MB`);
    cell(row, u.info.triangles ?? '');
    cell(row, button('Delete', async () => { await call('DELETE', `/scenes/${scene}/uploads/${u.id}`); await refresh(); }));
  }
  $('design-upload').replaceChildren(...s.uploads.map((u) => new Option(u.filename, u.id)));
  const list = $('variants');
  list.replaceChildren();
  for (const v of s.variants) {
    const li = document.createElement('li');
    const designs = v.designs.map((d) => `${d.title} @ ${d.anchor.lon ?? d.anchor.easting}, ${d.anchor.lat ?? d.anchor.northing}, heading ${d.anchor.heading}°`);
    li.textContent = `${v.title} (${v.id}): ${designs.join('; ') || 'no designs'} `;
    li.append(button('Edit', async () => { $('variant-id').value = v.id; $('variant-title').value = v.title; }));
    for (const d of v.designs) {
      li.append(button(`Remove ${d.id}`, async () => { await call('DELETE', `/scenes/${scene}/variants/${v.id}/designs/${d.id}`); await refresh(); }));
    }
    list.append(li);
  }
  const builds = $('builds').tBodies[0];
  builds.replaceChildren();
  for (const b of s.builds) {
    const row = builds.insertRow();
    cell(row, b.id); cell(row, b.published ? `${b.state}, published` : b.state);
    cell(row, b.finished ? new Date(b.finished * 1000).toLocaleString() : '');
    const actions = cell(row, '');
    if (b.preview) {
      const a = document.createElement('a');
      a.href = `/?tileset=${encodeURIComponent(b.preview)}`; a.target = '_blank'; a.textContent = 'Preview';
      actions.append(a, ' ');
      if (!b.published) actions.append(button('Publish', async () => { await call('POST', `/scenes/${scene}/builds/${b.id}/publish`); say('Published.'); await refresh(); }));
    }
    if (b.state === 'queued' || b.state === 'running') follow(b.id);
  }
}

function upload(event) {
  event.preventDefault();
  const file = $('file').files[0];
  if (!file) return;
  const xhr = new XMLHttpRequest();
  const bar = $('upload-progress');
  bar.hidden = false; bar.value = 0;
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
  xhr.onload = async () => {
    bar.hidden = true;
    const data = JSON.parse(xhr.responseText || '{}');
    if (xhr.status >= 400) return say(`Upload refused: ${data.detail || xhr.status}`, true);
    say(`Uploaded ${data.filename}: ${data.format}, ${data.info.triangles} triangles.`);
    await refresh();
  };
  xhr.onerror = () => { bar.hidden = true; say('Upload failed (network).', true); };
  xhr.open('POST', `${api}/scenes/${scene}/uploads?filename=${encodeURIComponent(file.name)}`);
  xhr.setRequestHeader('Authorization', `Bearer ${token}`);
  xhr.setRequestHeader('Content-Type', 'application/octet-stream');
  xhr.send(file);
}

async function saveVariant(event) {
  event.preventDefault();
  await call('PUT', `/scenes/${scene}/variants/${$('variant-id').value}`, { title: $('variant-title').value });
  say('Variant saved.');
  await refresh();
}

async function placeDesign(event) {
  event.preventDefault();
  const num = (id) => Number($(id).value);
  const anchor = { lon: num('lon'), lat: num('lat'), elevation: num('elevation'), datum: $('datum').value,
                   heading: num('heading'), scale: num('scale') };
  const variant = $('variant-id').value;
  await call('PUT', `/scenes/${scene}/variants/${variant}/designs/${$('design-id').value}`,
             { upload: $('design-upload').value, title: $('design-title').value, anchor });
  say(`Placed in ${variant}.`);
  await refresh();
}

function follow(id) {
  if (following === id) return;
  following = id;
  $('current').hidden = false;
  $('cancel').onclick = () => call('POST', `/scenes/${scene}/builds/${id}/cancel`).catch((e) => say(e.message, true));
  const tick = async () => {
    if (following !== id) return;
    const b = await call('GET', `/scenes/${scene}/builds/${id}`);
    $('build-state').textContent = `${b.id}: ${b.state} ${b.stage} ${(100 * b.progress).toFixed(0)} %`;
    $('build-progress').value = b.progress;
    $('build-log').textContent = b.log || '';
    if (b.state === 'queued' || b.state === 'running') setTimeout(() => tick().catch((e) => say(e.message, true)), 1000);
    else { following = null; say(b.error ? `Build ${b.state}: ${b.error}` : `Build ${b.state}.`, b.state !== 'succeeded'); await refresh(); }
  };
  tick().catch((e) => say(e.message, true));
}

$('login').onsubmit = (e) => signIn(e).catch((err) => say(err.message, true));
$('scene').onchange = () => { scene = $('scene').value; refresh().catch((e) => say(e.message, true)); };
$('upload-form').onsubmit = upload;
$('variant-form').onsubmit = (e) => saveVariant(e).catch((err) => say(err.message, true));
$('design-form').onsubmit = (e) => placeDesign(e).catch((err) => say(err.message, true));
$('build').onclick = () => call('POST', `/scenes/${scene}/builds`).then((b) => follow(b.id)).catch((e) => say(e.message, true));
$('unpublish').onclick = () => call('DELETE', `/scenes/${scene}/published`).then(() => { say('Unpublished.'); return refresh(); }).catch((e) => say(e.message, true));
if (token) { $('token').value = token; signIn().catch((e) => say(e.message, true)); }
