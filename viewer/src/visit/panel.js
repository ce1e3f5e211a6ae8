/**
 * The visit box on the page: join form (code and display name), who is here, the host's controls
 * (variant, time of day, table-top or 1:1, bring everyone here, pointer, follow me, end), and the
 * spectator's choice of whose view to follow. Plain DOM; the layer (layers/visit.js) gives it callbacks.
 */
import { language } from '../ui/i18n.js';

const TEXT = {
  en: {
    title: 'Guided visit',
    code: 'Join code',
    name: 'Your name',
    join: 'Join',
    spectate: 'Join as screen',
    here: '{n} here',
    host: 'Host',
    you: 'you',
    variant: 'Variant',
    time: 'Time of day',
    mode: 'View',
    tabletop: 'Table-top',
    street: '1:1',
    gather: 'Bring everyone here',
    pointer: 'Pointer (click to point)',
    follow: 'Follow me',
    end: 'End visit',
    leave: 'Leave',
    watch: 'Show the view of',
    free: 'nobody (free view)',
    connecting: 'Connecting…',
    reconnecting: 'Connection lost, reconnecting…',
    closed: 'Not connected',
    following: 'Following the host (move to stop)',
  },
  de: {
    title: 'Führung',
    code: 'Code',
    name: 'Ihr Name',
    join: 'Beitreten',
    spectate: 'Als Bildschirm beitreten',
    here: '{n} anwesend',
    host: 'Leitung',
    you: 'Sie',
    variant: 'Variante',
    time: 'Uhrzeit',
    mode: 'Ansicht',
    tabletop: 'Tisch',
    street: '1:1',
    gather: 'Alle hierher holen',
    pointer: 'Zeiger (klicken zum Zeigen)',
    follow: 'Mir folgen',
    end: 'Führung beenden',
    leave: 'Verlassen',
    watch: 'Ansicht zeigen von',
    free: 'niemandem (freie Ansicht)',
    connecting: 'Verbinde…',
    reconnecting: 'Verbindung verloren, verbinde neu…',
    closed: 'Nicht verbunden',
    following: 'Folgt der Leitung (bewegen zum Beenden)',
  },
};

function tr(key, params = {}) {
  const text = (TEXT[language()] ?? TEXT.en)[key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(params[k] ?? ''));
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

export class VisitPanel {
  /**
   * @param {HTMLElement} root where the box goes (the page's #ui)
   * @param {object} on callbacks: join({code, name, role}), variant(id), time(hours), mode(m), gather(),
   *   pointer(bool), follow(bool), end(), leave(), watch(id|null)
   */
  constructor(root, on) {
    this.on = on;
    this.box = el('section', { id: 'visit', 'aria-label': tr('title'), style: STYLE });
    this.status = el('p', { id: 'visit-status', role: 'status', style: 'margin:0 0 4px' });
    this.people = el('ul', { id: 'visit-people', style: 'margin:0 0 4px;padding-left:18px' });
    this.form = this._form();
    this.hostBox = this._hostControls();
    this.watchBox = this._watch();
    this.leaveButton = el('button', { id: 'visit-leave', type: 'button', text: tr('leave') });
    this.leaveButton.addEventListener('click', () => on.leave());
    this.box.append(el('h2', { text: tr('title'), style: 'font-size:1.05em;margin:0 0 4px' }), this.status, this.form, this.people, this.hostBox, this.watchBox, this.leaveButton);
    this.box.hidden = true;
    root.append(this.box);
    this.show({ joined: false });
  }

  _form() {
    const code = el('input', { id: 'visit-code', autocomplete: 'off', maxlength: '9', size: '9' });
    const name = el('input', { id: 'visit-name', autocomplete: 'nickname', maxlength: '32', size: '12' });
    const join = el('button', { id: 'visit-join', type: 'submit', text: tr('join') });
    const screen = el('button', { id: 'visit-spectate', type: 'button', text: tr('spectate') });
    const form = el('form', {}, [
      el('label', {}, [tr('code'), ' ', code]),
      ' ',
      el('label', {}, [tr('name'), ' ', name]),
      ' ',
      join,
      ' ',
      screen,
    ]);
    const submit = (role) => this.on.join({ code: code.value, name: name.value, role });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      submit('guest');
    });
    screen.addEventListener('click', () => submit('spectator'));
    this.codeInput = code;
    this.nameInput = name;
    return form;
  }

  _hostControls() {
    this.variantSelect = el('select', { id: 'visit-variant' });
    this.variantSelect.addEventListener('change', () => this.on.variant(this.variantSelect.value));
    this.timeInput = el('input', { id: 'visit-time', type: 'range', min: '0', max: '24', step: '0.25' });
    this.timeInput.addEventListener('change', () => this.on.time(Number(this.timeInput.value)));
    this.modeSelect = el('select', { id: 'visit-mode' }, [
      el('option', { value: 'tabletop', text: tr('tabletop') }),
      el('option', { value: 'street', text: tr('street') }),
    ]);
    this.modeSelect.addEventListener('change', () => this.on.mode(this.modeSelect.value));
    const gather = el('button', { id: 'visit-gather', type: 'button', text: tr('gather') });
    gather.addEventListener('click', () => this.on.gather());
    this.pointerBox = el('input', { id: 'visit-pointer', type: 'checkbox' });
    this.pointerBox.addEventListener('change', () => this.on.pointer(this.pointerBox.checked));
    this.followBox = el('input', { id: 'visit-follow', type: 'checkbox' });
    this.followBox.addEventListener('change', () => this.on.follow(this.followBox.checked));
    const end = el('button', { id: 'visit-end', type: 'button', text: tr('end') });
    end.addEventListener('click', () => this.on.end());
    const row = (...children) => el('div', { style: 'margin:3px 0' }, children);
    return el('div', { id: 'visit-host' }, [
      row(el('label', {}, [tr('variant'), ' ', this.variantSelect])),
      row(el('label', {}, [tr('time'), ' ', this.timeInput])),
      row(el('label', {}, [tr('mode'), ' ', this.modeSelect])),
      row(gather),
      row(el('label', {}, [this.pointerBox, ' ', tr('pointer')])),
      row(el('label', {}, [this.followBox, ' ', tr('follow')])),
      row(end),
    ]);
  }

  _watch() {
    this.watchSelect = el('select', { id: 'visit-watch' });
    this.watchSelect.addEventListener('change', () => this.on.watch(this.watchSelect.value || null));
    return el('div', { id: 'visit-spectator' }, [el('label', {}, [tr('watch'), ' ', this.watchSelect])]);
  }

  /** Prefill the join form (a `?visit=CODE` link). */
  prefill(code, name = '') {
    this.box.hidden = false;
    this.codeInput.value = code ?? '';
    this.nameInput.value = name;
  }

  /**
   * Show the visit as it stands.
   * @param {object} view {joined, status, host (am I), role, people: [{id, name, colour, role, online}],
   *   me, state, variants: [{id, title}], following, watching}
   */
  show(view) {
    const { joined } = view;
    this.form.hidden = joined;
    this.people.hidden = !joined;
    this.leaveButton.hidden = !joined;
    this.hostBox.hidden = !(joined && view.host);
    this.watchBox.hidden = !(joined && view.role === 'spectator');
    const here = (view.people ?? []).filter((p) => p.online);
    const status = view.status && view.status !== 'open' ? tr(view.status) : joined ? tr('here', { n: here.length }) : '';
    this.status.textContent = view.following ? `${status} · ${tr('following')}` : status;
    if (!joined) return;
    this.people.replaceChildren(
      ...here.map((p) =>
        el('li', { style: `color:${p.colour}`, 'data-id': p.id }, [
          el('span', { style: 'color:#1b1f24', text: `${p.name}${p.id === view.me ? ` (${tr('you')})` : ''}${p.role === 'host' ? ` · ${tr('host')}` : ''}` }),
        ]),
      ),
    );
    if (view.host) {
      fill(this.variantSelect, view.variants ?? [], view.state?.variant ?? 'base');
      this.modeSelect.value = view.state?.mode ?? 'tabletop';
      this.followBox.checked = Boolean(view.state?.follow);
      this.pointerBox.checked = Boolean(view.pointing);
      if (view.hours !== undefined && document.activeElement !== this.timeInput) this.timeInput.value = String(view.hours);
    }
    if (view.role === 'spectator') {
      const others = here.filter((p) => p.role !== 'spectator');
      fill(this.watchSelect, [{ id: '', title: tr('free') }, ...others.map((p) => ({ id: p.id, title: p.name }))], view.watching ?? '');
    }
  }

  dispose() {
    this.box.remove();
  }
}

/** Replace a select's options (only when they changed: keeps focus and the open list). */
function fill(select, options, value) {
  const key = options.map((o) => `${o.id}\u0000${o.title}`).join('\u0001');
  if (select.dataset.key !== key) {
    select.replaceChildren(...options.map((o) => el('option', { value: o.id, text: o.title })));
    select.dataset.key = key;
  }
  select.value = value;
}

const STYLE = 'right:8px;bottom:32px;padding:8px 12px;max-width:300px;max-height:50vh;overflow:auto';
