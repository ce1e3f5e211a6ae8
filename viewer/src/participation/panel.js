/**
 * The participation panel in the page: a toolbar button that opens it, the list of contributions with
 * filters and sort, support and replies, the form for a new contribution (category, text, optional name;
 * workshop and card number for lab staff), and the per-variant summary. Every citizen's text goes in as
 * textContent, never as HTML; every action is a real button or form control, reachable by keyboard.
 */
import { language, onLanguageChange, t } from '../ui/i18n.js';
import { CATEGORIES } from './api.js';

/** Category colours (CSS), also the pins' colours; readable on white with black text. */
export const COLOURS = { idea: '#f2c400', concern: '#e8663d', question: '#4aa3df', praise: '#5cb85c' };

const STYLE = `
#pins-open { margin-left: auto; }
#pins { left: 8px; top: var(--toolbar-bottom, 96px); max-height: calc(100vh - 240px); width: 340px; overflow: auto; padding: 8px 12px; }
#pins h2 { font-size: 1.05em; margin: 0 0 6px; }
#pins-close { float: right; }
#pins form, #pins .filters { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: end; margin: 6px 0; }
#pins label { display: flex; flex-direction: column; font-size: 12px; }
#pins fieldset { border: 1px solid #bbb; display: flex; flex-wrap: wrap; gap: 4px 10px; margin: 0; padding: 4px 8px; }
#pins fieldset label { flex-direction: row; gap: 4px; align-items: center; font-size: 13px; }
#pins textarea { width: 300px; }
#pins ul { list-style: none; margin: 0; padding: 0; }
#pins li.item { border-top: 1px solid #ddd; padding: 6px 0; }
#pins li.item:focus { outline: 3px solid #1565c0; }
#pins .badge { display: inline-block; padding: 0 6px; border-radius: 3px; color: #111; font-size: 12px; font-weight: 600; }
#pins .text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; }
#pins .meta { color: #444; font-size: 12px; }
#pins .answer { border-left: 3px solid #1565c0; padding-left: 6px; margin: 4px 0; }
#pins .actions { display: flex; flex-wrap: wrap; gap: 4px; }
#pins .replies { margin: 4px 0 0 12px; font-size: 13px; }
#pins-message { min-height: 1.2em; font-size: 13px; }
#pins-summary { right: 8px; bottom: 40px; padding: 6px 10px; max-width: 300px; font-size: 13px; }
#pins-summary h2 { font-size: 1em; margin: 0 0 4px; }
#pins-summary p { margin: 0; }
`;

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else if (v !== false && v !== null && v !== undefined) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) node.append(c);
  return node;
}

function button(text, onClick, attrs = {}) {
  const b = el('button', { type: 'button', text, ...attrs });
  b.addEventListener('click', onClick);
  return b;
}

export class PinsPanel {
  /**
   * @param {HTMLElement} root the #ui element
   * @param {object} h callbacks: onAdd(), onHere(), onSubmit(values), onCancel(), onVote(item), onShow(item),
   *   onReplies(item) -> Promise<item[]>, onReply(item, values), onFilter(filters), onOpen(open)
   */
  constructor(root, h) {
    this.root = root;
    this.h = h;
    this.items = [];
    this.filters = { category: '', scope: 'all', sort: 'newest' };
    this.staff = false;
    this._openReplies = new Set();
    document.head.append(el('style', { text: STYLE }));
    this.openButton = button('', () => this.setOpen(this.aside.hidden), { id: 'pins-open', 'aria-expanded': 'false', 'aria-controls': 'pins', hidden: true });
    (root.querySelector('#toolbar') ?? root).append(this.openButton);
    this.aside = el('aside', { id: 'pins', 'aria-labelledby': 'pins-title', hidden: true });
    this.summary = el('aside', { id: 'pins-summary', 'aria-labelledby': 'pins-summary-title', hidden: true });
    root.append(this.aside, this.summary);
    // Typing a text must not drive the view: the viewer's shortcuts (1-3, V, C, WASD) listen on window.
    const typing = (e) => {
      if (e.target instanceof HTMLTextAreaElement || (e.target instanceof HTMLInputElement && e.target.type === 'text')) e.stopPropagation();
    };
    this.aside.addEventListener('keydown', typing);
    this.aside.addEventListener('keyup', typing);
    this._settings = null;
    this._place = null;
    /** Forms being filled in survive re-renders (a poll that brings a new item must not eat a text). */
    this._formEl = null;
    this._replyBoxes = new Map();
    onLanguageChange(() => {
      this._formEl = null;
      this._replyBoxes.clear();
      this.render();
    });
    this.render();
  }

  /** @param {object|null} settings the scene's participation settings, null where there is no server */
  setAvailable(settings) {
    this._settings = settings;
    this.openButton.hidden = !settings;
    if (!settings) {
      this.aside.hidden = true;
      this.summary.hidden = true;
    }
    this.render();
  }

  setOpen(open) {
    this.aside.hidden = !open;
    this.openButton.setAttribute('aria-expanded', String(open));
    this.h.onOpen?.(open);
    if (open) this.aside.querySelector('h2')?.focus();
  }

  /** @param {object[]} items visible contributions */
  setItems(items) {
    // The list is polled: re-render only when something shown changed, so keyboard focus and the
    // scroll position survive a refresh that brought nothing new.
    const key = JSON.stringify(items.map((i) => [i.id, i.votes, i.voted, i.replies, i.answer, i.text]));
    this.items = items;
    if (key === this._itemsKey) return;
    this._itemsKey = key;
    this.render();
  }

  /** Show the form for a place: {label} says what was picked (a building id, the ground). */
  openForm(place) {
    this._place = place;
    this._formEl = null;
    this._picking = false;
    this.setOpen(true);
    this.render();
    this.aside.querySelector('#pins-form input[name=category]')?.focus();
  }

  /** Waiting for a click on the model (placing mode). */
  setPicking(on) {
    this._picking = on;
    this._place = null;
    this._formEl = null;
    if (on) this.setOpen(true);
    this.render();
  }

  closeForm() {
    this._place = null;
    this._formEl = null;
    this._picking = false;
    this.render();
  }

  say(text, error = false) {
    this._message = { text, error };
    const m = this.aside.querySelector('#pins-message');
    if (m) {
      m.textContent = text;
      m.setAttribute('role', error ? 'alert' : 'status');
    }
  }

  /**
   * @param {{variant: string|null, count: number, support: number, categories: Record<string, number>}[]} entries
   * @param {string|null} variant the active variant (null: existing state)
   * @param {string} title what the UI calls it
   */
  setSummary(entries, variant, title) {
    this._summary = { entries, variant, title };
    this._renderSummary();
  }

  _renderSummary() {
    const s = this._summary;
    if (!s || !this._settings) {
      this.summary.hidden = true;
      return;
    }
    const entry = s.entries.find((e) => e.variant === s.variant);
    const parts = entry ? CATEGORIES.filter((c) => entry.categories[c]).map((c) => `${entry.categories[c]} ${t(`pins.cat.${c}`)}`) : [];
    this.summary.replaceChildren(
      el('h2', { id: 'pins-summary-title', text: `${t('pins.summary')}: ${s.title}` }),
      el('p', { text: entry ? `${parts.join(', ')} · ${t('pins.supports', { n: entry.support })}` : t('pins.none') }),
    );
    this.summary.hidden = false;
  }

  render() {
    const a = this.aside;
    // Keep focus on the same control (by item and role) across the rebuild.
    const f = document.activeElement;
    const again = f && a.contains(f) ? { item: f.closest('li.item')?.dataset.id ?? null, id: f.id || null, cls: f.classList[0] ?? null } : null;
    this.openButton.textContent = t('pins.open', { n: this.items.length });
    const accepting = Boolean(this._settings?.accepting) || this.staff;
    const head = [
      button('×', () => this.setOpen(false), { id: 'pins-close', 'aria-label': t('panel.close') }),
      el('h2', { id: 'pins-title', tabindex: '-1', text: `${t('pins.title')} (${this.items.length})` }),
    ];
    const add = [];
    if (accepting && !this._place && !this._picking) add.push(button(this.staff ? t('pins.addCard') : t('pins.add'), () => this.h.onAdd(), { id: 'pins-add' }));
    if (!accepting && this._settings) add.push(el('p', { text: t('pins.closed') }));
    const message = el('p', { id: 'pins-message', role: this._message?.error ? 'alert' : 'status', text: this._message?.text ?? '' });
    a.replaceChildren(...head, ...add, ...(this._picking ? [this._pickingHint()] : []), ...(this._place ? [(this._formEl ??= this._form())] : []), message, this._filters(), this._list());
    this._renderSummary();
    if (again) {
      const scope = again.item ? a.querySelector(`[data-id="${CSS.escape(again.item)}"]`) : a;
      const target = again.id ? a.querySelector(`#${CSS.escape(again.id)}`) : again.cls ? scope?.querySelector(`.${CSS.escape(again.cls)}`) : scope;
      target?.focus();
    }
  }

  _pickingHint() {
    return el('div', { class: 'actions' }, [
      el('p', { text: t('pins.pickHint') }),
      button(t('pins.here'), () => this.h.onHere(), { id: 'pins-here' }),
      button(t('pins.cancel'), () => this.h.onCancel()),
    ]);
  }

  _form() {
    const form = el('form', { id: 'pins-form', 'aria-label': t('pins.new') });
    const cats = el('fieldset', {}, [el('legend', { text: t('pins.category') })]);
    CATEGORIES.forEach((c, i) => {
      cats.append(el('label', {}, [el('input', { type: 'radio', name: 'category', value: c, required: true, checked: i === 0 }), t(`pins.cat.${c}`)]));
    });
    const where = el('p', { class: 'meta', text: `${t('pins.where')}: ${this._place.label}` });
    const text = el('textarea', { name: 'text', rows: '4', maxlength: '2000', required: true });
    const fields = [
      cats,
      where,
      el('label', {}, [t('pins.text'), text]),
      el('label', {}, [t('pins.name'), el('input', { name: 'name', maxlength: '80', autocomplete: 'off' })]),
    ];
    if (this.staff) {
      fields.push(el('label', {}, [t('pins.workshop'), el('input', { name: 'workshop', maxlength: '200', required: true })]));
      fields.push(el('label', {}, [t('pins.card'), el('input', { name: 'card', maxlength: '50', required: true })]));
    }
    fields.push(el('p', { class: 'meta', text: this._settings?.premoderation ? t('pins.premoderated') : t('pins.public') }));
    fields.push(el('div', { class: 'actions' }, [el('button', { type: 'submit', text: t('pins.send') }), button(t('pins.cancel'), () => this.h.onCancel())]));
    form.append(...fields);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const data = new FormData(form);
      this.h.onSubmit(Object.fromEntries(data.entries()));
    });
    return form;
  }

  _filters() {
    const f = this.filters;
    const select = (name, label, options) => {
      const s = el('select', { name }, options.map(([v, text]) => el('option', { value: v, text })));
      s.value = f[name];
      s.addEventListener('change', () => {
        f[name] = s.value;
        this.h.onFilter({ ...f });
      });
      return el('label', {}, [label, s]);
    };
    return el('div', { class: 'filters', role: 'group', 'aria-label': t('pins.filters') }, [
      select('category', t('pins.category'), [['', t('pins.all')], ...CATEGORIES.map((c) => [c, t(`pins.cat.${c}`)])]),
      select('scope', t('variant.label'), [['all', t('pins.allVariants')], ['current', t('pins.thisVariant')]]),
      select('sort', t('pins.sort'), [['newest', t('pins.newest')], ['support', t('pins.mostSupported')]]),
    ]);
  }

  _list() {
    const ul = el('ul', { id: 'pins-list', 'aria-label': t('pins.title') });
    if (!this.items.length) ul.append(el('li', { text: t('pins.none') }));
    for (const item of this.items) ul.append(this._item(item));
    return ul;
  }

  _item(item) {
    const lang = language();
    const li = el('li', { class: 'item', id: `pin-${item.id}`, tabindex: '-1', 'data-id': item.id });
    const badge = el('span', { class: 'badge', text: t(`pins.cat.${item.category}`) });
    badge.style.background = COLOURS[item.category] ?? '#ddd';
    const meta = [item.name, new Date(item.created * 1000).toLocaleDateString(lang), item.channel !== 'web' ? t(`pins.channel.${item.channel}`) : null];
    li.append(badge, el('p', { class: 'text', text: item.text }), el('p', { class: 'meta', text: meta.filter(Boolean).join(' · ') }));
    if (item.answer) li.append(el('p', { class: 'answer', text: `${t('pins.answer')}: ${item.answer}` }));
    const short = item.text.slice(0, 40);
    const actions = el('div', { class: 'actions' }, [
      button(t('pins.support', { n: item.votes }), () => this.h.onVote(item), { 'aria-pressed': String(Boolean(item.voted)), 'aria-label': `${t('pins.support', { n: item.votes })}: ${short}`, class: 'vote' }),
      button(t('pins.show'), () => this.h.onShow(item), { 'aria-label': `${t('pins.show')}: ${short}` }),
      button(t('pins.replies', { n: item.replies }), () => this._toggleReplies(item, li), { 'aria-expanded': String(this._openReplies.has(item.id)), class: 'reply-toggle' }),
    ]);
    li.append(actions);
    if (this._openReplies.has(item.id)) {
      const box = this._replyBoxes.get(item.id);
      if (box) li.append(box);
      else this._showReplies(item, li);
    }
    return li;
  }

  _toggleReplies(item, li) {
    if (this._openReplies.has(item.id)) {
      this._openReplies.delete(item.id);
      this._replyBoxes.delete(item.id);
      li.querySelector('.replies')?.remove();
      li.querySelector('.reply-toggle').setAttribute('aria-expanded', 'false');
    } else {
      this._openReplies.add(item.id);
      li.querySelector('.reply-toggle').setAttribute('aria-expanded', 'true');
      this._showReplies(item, li);
    }
  }

  async _showReplies(item, li) {
    const box = el('div', { class: 'replies', role: 'group', 'aria-label': t('pins.replies', { n: item.replies }) });
    this._replyBoxes.set(item.id, box);
    li.append(box);
    const list = await this.h.onReplies(item).catch(() => []);
    const ul = el('ul', {}, list.map((r) => el('li', { text: `${r.name ? `${r.name}: ` : ''}${r.text}` })));
    const text = el('textarea', { name: 'text', rows: '2', maxlength: '2000', required: true });
    const form = el('form', { 'aria-label': t('pins.replyTo', { text: item.text.slice(0, 40) }) }, [
      el('label', {}, [t('pins.reply'), text]),
      el('label', {}, [t('pins.name'), el('input', { name: 'name', maxlength: '80', autocomplete: 'off' })]),
      el('button', { type: 'submit', text: t('pins.send') }),
    ]);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.h.onReply(item, Object.fromEntries(new FormData(form).entries()));
    });
    box.append(ul, form);
  }

  /** A reply was sent: its form starts empty and the replies are read again on the next render. */
  replied(id) {
    this._replyBoxes.delete(id);
    this._itemsKey = null;
  }

  /** Open the panel at one contribution and focus it (a pin was clicked). */
  focusItem(id) {
    this.setOpen(true);
    const li = this.aside.querySelector(`[data-id="${CSS.escape(id)}"]`);
    li?.scrollIntoView({ block: 'nearest' });
    li?.focus();
  }
}
