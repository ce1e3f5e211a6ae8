/**
 * Minimal i18n: German and English message tables, the language picked from the browser and
 * switchable at run time. Elements carrying `data-i18n` (text), `data-i18n-label` (aria-label)
 * or `data-i18n-title` are re-translated on every switch.
 */
import de from './de.json';
import en from './en.json';

const TABLES = { de, en };
let current = 'en';
const listeners = new Set();

/**
 * Pick a supported language from a list of BCP 47 tags (navigator.languages), English by default.
 * @param {readonly string[]} tags
 * @returns {'de'|'en'}
 */
export function detectLanguage(tags) {
  for (const tag of tags ?? []) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (base in TABLES) return base;
  }
  return 'en';
}

/** @returns {string} the active language code */
export function language() {
  return current;
}

/** @returns {string[]} supported language codes */
export function languages() {
  return Object.keys(TABLES);
}

/**
 * Translate a key, filling `{name}` placeholders; unknown keys fall back to English, then the key.
 * @param {string} key
 * @param {Record<string, string|number>} [params]
 * @returns {string}
 */
export function t(key, params = {}) {
  const text = TABLES[current][key] ?? TABLES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? `{${name}}`));
}

/**
 * Re-translate the marked elements under a root.
 * @param {ParentNode} root
 */
export function applyTranslations(root = document) {
  root.querySelectorAll('[data-i18n]').forEach((el) => (el.textContent = t(el.dataset.i18n)));
  root.querySelectorAll('[data-i18n-label]').forEach((el) => el.setAttribute('aria-label', t(el.dataset.i18nLabel)));
  root.querySelectorAll('[data-i18n-title]').forEach((el) => (el.title = t(el.dataset.i18nTitle)));
}

/**
 * Switch language, update the document and notify listeners (panels that build text in code).
 * @param {string} lang
 */
export function setLanguage(lang) {
  current = lang in TABLES ? lang : 'en';
  if (typeof document !== 'undefined') {
    document.documentElement.lang = current;
    applyTranslations(document);
  }
  listeners.forEach((fn) => fn(current));
}

/**
 * Call `fn(lang)` after every language switch.
 * @param {(lang: string) => void} fn
 * @returns {() => void} unsubscribe
 */
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
