/**
 * The participation API of the twin server (`/api/scenes/<scene>/participation`), and the browser's
 * device key: a random string made once and kept in localStorage, sent as `X-Device-Key` so the server
 * can allow one vote per browser; it stores only a salted hash of it, and nothing else about the visitor.
 */

const DEVICE_KEY = 'twin-device-key';
/** Where the moderation page keeps the moderator token (sessionStorage); lab staff's card entry uses it. */
export const STAFF_TOKEN_KEY = 'twin-moderator-token';
/** The categories, in display order (the server checks the same list). */
export const CATEGORIES = ['idea', 'concern', 'question', 'praise'];

/**
 * This browser's device key, made on first use (32 random hex digits).
 * @param {Storage} [storage]
 * @returns {string}
 */
export function deviceKey(storage = globalThis.localStorage) {
  let key = null;
  try {
    key = storage?.getItem(DEVICE_KEY) ?? null;
  } catch {
    /* storage blocked: a key per page load still keeps one vote per load */
  }
  if (!key || !/^[A-Za-z0-9_-]{16,128}$/.test(key)) {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    key = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    try {
      storage?.setItem(DEVICE_KEY, key);
    } catch {
      /* see above */
    }
  }
  return key;
}

export class ParticipationApi {
  /**
   * @param {string} sceneId
   * @param {{base?: string, key?: string, staffToken?: string|null, fetch?: typeof fetch}} [options]
   */
  constructor(sceneId, { base = location.origin, key = deviceKey(), staffToken = null, fetch: f = globalThis.fetch } = {}) {
    this.root = new URL(`/api/scenes/${encodeURIComponent(sceneId)}/participation`, base).href;
    this.key = key;
    this.staffToken = staffToken;
    this._fetch = (...args) => f(...args); // window.fetch must not be called as a method of another object
  }

  async _call(method, path, body, auth = false) {
    const headers = { 'X-Device-Key': this.key };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && this.staffToken) headers.Authorization = `Bearer ${this.staffToken}`;
    const res = await this._fetch(this.root + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = res.status === 204 ? null : await res.json().catch(() => ({}));
    if (!res.ok) {
      const error = new Error(typeof data?.detail === 'string' ? data.detail : `HTTP ${res.status}`);
      error.status = res.status;
      throw error;
    }
    return data;
  }

  /** @returns {Promise<{accepting: boolean, premoderation: boolean, categories: string[]}>} */
  settings() {
    return this._call('GET', '');
  }

  /** @param {{category?: string, variant?: string, sort?: string}} [filters] */
  list(filters = {}) {
    const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
    return this._call('GET', `/contributions?${q}`);
  }

  /** @param {object} body ContributionIn (category, text, name, position, variant, building, camera, time, channel) */
  create(body) {
    return this._call('POST', '/contributions', body);
  }

  /** A card keyed in by lab staff (needs the moderator token). */
  createAnalogue(body) {
    return this._call('POST', '/analogue', body, true);
  }

  /** @param {string} id @param {boolean} [support] false withdraws */
  vote(id, support = true) {
    return this._call(support ? 'POST' : 'DELETE', `/contributions/${encodeURIComponent(id)}/votes`);
  }

  replies(id) {
    return this._call('GET', `/contributions/${encodeURIComponent(id)}/replies`);
  }

  reply(id, body) {
    return this._call('POST', `/contributions/${encodeURIComponent(id)}/replies`, body);
  }

  summary() {
    return this._call('GET', '/summary');
  }
}
