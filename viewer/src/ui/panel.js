/**
 * The HTML user interface around the canvas: toolbar (scene, variant, compare, navigation mode,
 * sun date and time, language, Enter VR/AR), attribute panel, metrics panel, measure readout and
 * the always-visible attribution. Every control has a label or aria-label; all text comes from i18n.
 */
import { t, language, languages, onLanguageChange, setLanguage } from './i18n.js';
import { formatLength } from '../geo.js';
import { BASE, metricsTable } from '../variants.js';

/** Attribute keys of the twin's `building` class, in display order. */
export const BUILDING_FIELDS = ['name', 'address', 'usage', 'height', 'levels', 'roof_shape', 'year', 'source', 'id'];

const $ = (root, sel) => root.querySelector(sel);

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function formatValue(key, value, lang) {
  if (value === null || value === undefined || value === '') return null;
  // Missing values: levels' noData (-1; some readers give the class default 0) and the enums' 'unknown'.
  if (key === 'levels' && typeof value === 'number' && value <= 0) return null;
  if (value === 'unknown') return null;
  if (key === 'height' && typeof value === 'number') return formatLength(value, lang);
  if (typeof value === 'number') return value.toLocaleString(lang, { maximumFractionDigits: 2 });
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return Array.from(value).join(', ');
  return String(value);
}

/**
 * Attribute rows for display: known building fields first, then any other property.
 * @param {Record<string, any>} properties
 * @param {string} lang
 * @returns {[string, string][]} label, formatted value
 */
export function attributeRows(properties, lang = language()) {
  const keys = [...BUILDING_FIELDS.filter((k) => k in properties), ...Object.keys(properties).filter((k) => !BUILDING_FIELDS.includes(k))];
  const rows = [];
  for (const k of keys) {
    const v = formatValue(k, properties[k], lang);
    if (v !== null) rows.push([t(`attr.${k}`) === `attr.${k}` ? k : t(`attr.${k}`), v]);
  }
  return rows;
}

/** Gap between the toolbar's lower edge and the panels below it (px). */
const PANEL_GAP = 8;

export class Panel {
  /**
   * @param {HTMLElement} root the #ui element from index.html
   * @param {object} handlers callbacks: onScene(id), onVariant(key), onCompare(key), onToggle(),
   *   onSwipe(bool), onSplit(0..1), onMode(mode), onDateTime(Date), onEnterXR(mode)
   */
  constructor(root, handlers) {
    this.root = root;
    this.h = handlers;
    this.variants = null;
    this.scene = null;
    this._selected = null;
    const on = (sel, ev, fn) => $(root, sel).addEventListener(ev, fn);
    on('#scene', 'change', (e) => this.h.onScene(e.target.value));
    on('#variant', 'change', (e) => this.h.onVariant(e.target.value));
    on('#compare', 'change', (e) => this.h.onCompare(e.target.value || null));
    on('#compare-toggle', 'click', () => this.h.onToggle());
    on('#swipe', 'change', (e) => this.h.onSwipe(e.target.checked));
    on('#split', 'input', (e) => this.h.onSplit(Number(e.target.value) / 100));
    root.querySelectorAll('input[name=mode]').forEach((r) => r.addEventListener('change', (e) => this.h.onMode(e.target.value)));
    on('#date', 'change', () => this._dateTime());
    on('#time', 'input', () => this._dateTime());
    on('#info-close', 'click', () => this.h.onCloseInfo());
    on('#enter-vr', 'click', () => this.h.onEnterXR('immersive-vr'));
    on('#enter-ar', 'click', () => this.h.onEnterXR('immersive-ar'));
    this._trackToolbar();
    const lang = $(root, '#lang');
    for (const code of languages()) lang.append(el('option', { value: code, text: code.toUpperCase() }));
    lang.value = language();
    lang.addEventListener('change', (e) => setLanguage(e.target.value));
    onLanguageChange(() => this.refresh());
  }

  _dateTime() {
    const d = $(this.root, '#date').value;
    const tm = $(this.root, '#time').value;
    if (d && tm) this.h.onDateTime(new Date(`${d}T${tm}`));
  }

  /**
   * Set the date and time controls (local time of the browser).
   * @param {Date} date
   */
  setDateTime(date) {
    const pad = (n) => String(n).padStart(2, '0');
    $(this.root, '#date').value = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
    $(this.root, '#time').value = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  /** @param {object[]} scenes @param {object|null} current */
  setScenes(scenes, current) {
    const select = $(this.root, '#scene');
    select.replaceChildren(...scenes.map((s) => el('option', { value: s.id, text: s.title })));
    if (current) select.value = current.id;
    select.disabled = scenes.length < 2;
    this.scene = current;
    this._attribution();
  }

  /** @param {import('../variants.js').VariantManager} variants */
  setVariants(variants) {
    this.variants = variants;
    this.refresh();
  }

  _variantTitle(key) {
    if (key === BASE) return t('variant.existing');
    return this.scene?.variants.find((v) => v.id === key)?.title ?? key;
  }

  /** Rebuild text that depends on state or language. */
  refresh() {
    const v = this.variants;
    const variant = $(this.root, '#variant');
    const compare = $(this.root, '#compare');
    if (v) {
      const opts = (sel) => v.keys().map((k) => el('option', { value: k, text: this._variantTitle(k) }));
      variant.replaceChildren(...opts());
      variant.value = v.active;
      compare.replaceChildren(el('option', { value: '', text: '–' }), ...opts());
      compare.value = v.compare ?? '';
      $(this.root, '#swipe').checked = v.swipe;
      $(this.root, '#split-wrap').hidden = !v.swipe;
      const single = v.keys().length < 2;
      for (const id of ['#variant', '#compare', '#compare-toggle', '#swipe']) $(this.root, id).disabled = single;
      this._metrics();
    }
    if (this._selected) this.showAttributes(this._selected);
    this._attribution();
    if (this._sun) this.setSun(this._sun);
    if (this._measure) this.setMeasure(this._measure);
  }

  _metrics() {
    const box = $(this.root, '#metrics');
    const table = this.scene && this.variants ? metricsTable(this.scene, this.variants.active) : null;
    if (!table || (table.rows.length === 0 && table.designs.length === 0)) {
      box.hidden = true;
      return;
    }
    const lang = language();
    const fmt = (n, unit, sign = false) => {
      if (n === null) return '–';
      const text = n.toLocaleString(lang, { maximumFractionDigits: 1 });
      return `${sign && n > 0 ? '+' : ''}${text}${unit ? ` ${unit}` : ''}`;
    };
    const label = (k) => (t(`metrics.${k}`) === `metrics.${k}` ? k : t(`metrics.${k}`));
    const head = el('tr', {}, [
      el('th', { scope: 'col', text: '' }),
      el('th', { scope: 'col', text: t('metrics.new') }),
      el('th', { scope: 'col', text: t('metrics.replaced') }),
      el('th', { scope: 'col', text: t('metrics.delta') }),
    ]);
    const rows = table.rows.map((r) =>
      el('tr', {}, [
        el('th', { scope: 'row', text: label(r.key) }),
        el('td', { text: fmt(r.design, r.unit) }),
        el('td', { text: fmt(r.removed, r.unit) }),
        el('td', { class: 'delta', text: fmt(r.change, r.unit, true) }),
      ]),
    );
    $(box, 'thead').replaceChildren(head);
    $(box, 'tbody').replaceChildren(...rows);
    $(box, 'h2').textContent = `${t('metrics.title')}: ${this._variantTitle(this.variants.active)}`;
    const notes = [];
    if (table.designs.length) notes.push(`${t('metrics.designs')}: ${table.designs.join(', ')}`);
    if (table.removedCount !== null) notes.push(t('metrics.removedCount', { n: table.removedCount }));
    $(box, 'p').textContent = notes.join(' · ');
    box.hidden = false;
  }

  _attribution() {
    // The scene names its sources (OSM scenes say "© OpenStreetMap contributors" themselves; an
    // official CityGML scene must not be credited to OSM). A bare tileset names none: OSM is the
    // likeliest source of a city model and the one whose licence requires the credit.
    const named = [...(this.scene?.attribution ?? []), ...(this.scene?.licenses ?? [])];
    const parts = named.length > 0 ? named : ['© OpenStreetMap contributors'];
    $(this.root, '#attribution').textContent = [...new Set(parts)].join(' · ');
  }

  /**
   * Show a picked feature's attributes.
   * @param {{properties: Record<string, any>, featureId: number|null}} feature
   */
  showAttributes(feature) {
    this._selected = feature;
    const panel = $(this.root, '#info');
    const rows = attributeRows(feature.properties);
    const title = feature.properties.name || feature.properties.address || feature.properties.id || t('panel.building');
    $(panel, 'h2').textContent = String(title);
    $(panel, 'dl').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
    $(panel, '.empty').hidden = rows.length > 0;
    panel.hidden = false;
  }

  hideAttributes() {
    this._selected = null;
    $(this.root, '#info').hidden = true;
  }

  /** @param {{azimuth: number, elevation: number}} sun */
  setSun(sun) {
    this._sun = sun;
    $(this.root, '#sun-readout').textContent = t('sun.position', { az: sun.azimuth.toFixed(0), el: sun.elevation.toFixed(0) });
  }

  /** @param {{distance: number, horizontal: number, height: number}|'hint'|null} result */
  setMeasure(result) {
    this._measure = result;
    const box = $(this.root, '#measure-result');
    box.hidden = !result;
    if (result === 'hint') box.textContent = t('measure.hint');
    else if (result) {
      const lang = language();
      box.textContent = `${t('measure.distance')}: ${formatLength(result.distance, lang)} · ${t('measure.horizontal')}: ${formatLength(result.horizontal, lang)} · ${t('measure.height')}: ${formatLength(result.height, lang)}`;
    }
  }

  /** @param {string} text empty to hide */
  setStatus(text) {
    const s = $(this.root, '#status');
    s.textContent = text;
    s.hidden = !text;
  }

  /** @param {{vr: boolean, ar: boolean}} support */
  setXrSupport(support) {
    $(this.root, '#enter-vr').hidden = !support.vr;
    $(this.root, '#enter-ar').hidden = !support.ar;
  }

  /**
   * Keep `--toolbar-bottom` (CSS) at the toolbar's lower edge plus a gap, so the info panel and the other
   * panels under the toolbar never overlap it when it wraps to more rows (narrow windows, the Quest browser).
   */
  _trackToolbar() {
    const toolbar = this.root.querySelector('#toolbar');
    if (!toolbar || typeof document === 'undefined') return;
    const set = () => document.documentElement.style.setProperty('--toolbar-bottom', `${Math.ceil(toolbar.getBoundingClientRect().bottom) + PANEL_GAP}px`);
    set();
    if (typeof ResizeObserver !== 'undefined') new ResizeObserver(set).observe(toolbar);
    else window.addEventListener('resize', set);
  }

  /** @param {'orbit'|'walk'|'measure'} mode */
  setMode(mode) {
    const radio = $(this.root, `input[name=mode][value=${mode}]`);
    if (radio) radio.checked = true;
  }
}
