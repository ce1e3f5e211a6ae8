// Moderation page: the queue of one scene's contributions (approve, hide with a reason, answer, delete),
// its phase and pre-moderation, and the exports. Talks to /api/scenes/<scene>/participation with the
// moderator token kept in sessionStorage (the viewer's card entry reads it from there too). No build step.
// Every text from citizens goes into the page with textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'twin-moderator-token';
let token = sessionStorage.getItem(TOKEN_KEY) || '';
let scene = '';

function say(text, error = false) {
  $('message').textContent = text;
  $('message').className = error ? 'error' : '';
  $('message').setAttribute('role', error ? 'alert' : 'status');
}

const fail = (e) => say(e.message, true);
const base = () => `/api/scenes/${encodeURIComponent(scene)}/participation`;

/** Call the API with the token; errors carry the server's problem detail. */
async function call(method, path, body, raw = false) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new Error('The server cannot be reached.');
  }
  if (res.status === 204) return null;
  if (raw && res.ok) return res.blob();
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(typeof data.detail === 'string' ? data.detail : `${res.status} ${res.statusText}`);
  return data;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function button(label, onclick, ariaLabel) {
  const b = el('button', label);
  b.type = 'button';
  if (ariaLabel) b.setAttribute('aria-label', ariaLabel);
  b.addEventListener('click', () => Promise.resolve(onclick()).catch(fail));
  return b;
}

const when = (t) => new Date(t * 1000).toLocaleString();
const local = (t) => (t ? new Date(t * 1000 - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) : '');
const iso = (value) => (value ? new Date(value).toISOString() : null);

function origin(c) {
  const parts = [c.channel];
  if (c.channel === 'analogue') parts.push(`${c.workshop}, card ${c.card}`);
  if (c.variant) parts.push(`variant ${c.variant}`);
  if (c.building) parts.push(`building ${c.building}`);
  if (c.name) parts.push(`by ${c.name}`);
  return parts.join(' · ');
}

/** An inline form in the actions cell: one field and a submit button (hide reason, answer). */
function inlineForm(cellNode, label, value, submit) {
  const form = el('form');
  const field = el('textarea');
  field.rows = 2;
  field.value = value || '';
  field.required = label === 'Reason';
  const lab = el('label', label);
  lab.append(field);
  form.append(lab, el('button', 'Save'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit(field.value).catch(fail);
  });
  cellNode.append(form);
  field.focus();
}

function row(tbody, c) {
  const tr = tbody.insertRow();
  tr.className = `${c.parent ? 'reply' : ''} ${c.status}`;
  tr.dataset.id = c.id;
  tr.insertCell().textContent = when(c.created);
  tr.insertCell().textContent = c.parent ? `reply (${c.category})` : c.category;
  const text = tr.insertCell();
  text.className = 'text';
  text.append(el('span', c.text));
  if (c.answer) text.append(el('p', `Answer: ${c.answer}`, 'answer'));
  tr.insertCell().textContent = origin(c);
  tr.insertCell().textContent = String(c.votes);
  tr.insertCell().textContent = c.status + (c.hidden_reason ? ` (${c.hidden_reason})` : '') + (c.reviewed ? '' : ' · new');
  const actions = tr.insertCell();
  const box = el('div', undefined, 'actions');
  const short = c.text.slice(0, 40);
  const moderate = (body) => call('POST', `${base()}/moderation/${c.id}`, body).then(load);
  if (c.status !== 'visible') box.append(button('Approve', () => moderate({ action: 'approve' }), `Approve: ${short}`));
  if (c.status !== 'hidden') {
    box.append(button('Hide', () => inlineForm(actions, 'Reason', '', (reason) => moderate({ action: 'hide', reason })), `Hide: ${short}`));
  }
  if (!c.parent) {
    const answer = (text) => call('PUT', `${base()}/moderation/${c.id}/answer`, { text }).then(load);
    box.append(button('Answer', () => inlineForm(actions, 'Official answer', c.answer, answer), `Answer: ${short}`));
  }
  box.append(
    button(
      'Delete',
      async () => {
        if (!window.confirm(`Delete for good: "${short}"?`)) return;
        await call('DELETE', `${base()}/moderation/${c.id}`);
        await load();
      },
      `Delete: ${short}`,
    ),
  );
  actions.append(box);
}

async function load() {
  const params = new URLSearchParams();
  if ($('status').value) params.set('status', $('status').value);
  if ($('unreviewed').checked) params.set('unreviewed', 'true');
  const list = await call('GET', `${base()}/moderation?${params}`);
  const tbody = $('queue').tBodies[0];
  tbody.replaceChildren();
  for (const c of list) row(tbody, c);
  const settings = await call('GET', base());
  $('open').checked = settings.open;
  $('premoderation').checked = settings.premoderation;
  $('opens').value = local(settings.opens);
  $('closes').value = local(settings.closes);
  $('accepting').textContent = settings.accepting ? 'accepting contributions now' : 'not accepting contributions now';
  $('viewer-link').href = `/?scene=${encodeURIComponent(scene)}&staff=1`;
  say(`${list.length} contributions and replies in ${scene}.`);
}

async function download(kind) {
  const blob = await call('GET', `${base()}/export.${kind}`, undefined, true);
  const a = el('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${scene}-contributions.${kind}`;
  a.click();
  URL.revokeObjectURL(a.href);
}

async function signIn() {
  const scenes = await fetch('/api/scenes').then((r) => r.json());
  $('scene').replaceChildren(...scenes.map((s) => new Option(s.title || s.id, s.id)));
  $('scene').disabled = false;
  scene = new URLSearchParams(location.search).get('scene') || (scenes[0] && scenes[0].id) || '';
  if (scene) $('scene').value = scene;
  if (!scene) throw new Error('No published scene.');
  await load();
  sessionStorage.setItem(TOKEN_KEY, token);
  $('work').hidden = false;
  $('sign-out').hidden = false;
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  signIn().catch(fail);
});
$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  token = '';
  $('work').hidden = true;
  $('sign-out').hidden = true;
  say('Signed out.');
});
$('scene').addEventListener('change', () => {
  scene = $('scene').value;
  load().catch(fail);
});
$('filter-form').addEventListener('submit', (e) => {
  e.preventDefault();
  load().catch(fail);
});
$('settings-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const body = {
    open: $('open').checked,
    premoderation: $('premoderation').checked,
    opens: iso($('opens').value),
    closes: iso($('closes').value),
  };
  call('PUT', base(), body).then(load).catch(fail);
});
$('export-geojson').addEventListener('click', () => download('geojson').catch(fail));
$('export-csv').addEventListener('click', () => download('csv').catch(fail));
if (token) {
  $('token').value = token;
  signIn().catch(fail);
}
