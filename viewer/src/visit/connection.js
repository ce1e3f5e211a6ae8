/**
 * The WebSocket of a guided visit (server/realtime/protocol.py): joins with a code and a display name,
 * keeps the resume token the welcome gives, reconnects after a drop as the same person, and sends poses
 * at a steady rate (the latest pose wins, nothing queues up).
 *
 * No three.js here: poses are plain arrays, messages plain objects.
 */

export const PROTOCOL = 1;
/** Poses sent per second (the server accepts bursts up to 40 messages a second). */
export const POSE_HZ = 15;
/** Close codes after which reconnecting cannot help (unknown code, refused, ended, replaced). */
const FINAL = new Set([4400, 4404, 4409, 4410, 4429]);
const BACKOFF_MS = [250, 500, 1000, 2000, 4000];

/**
 * The join code as typed (case, spaces, dashes ignored), or null when it cannot be one.
 * @param {string} text
 */
export function normaliseCode(text) {
  const code = String(text ?? '').toUpperCase().replace(/[\s-]/g, '');
  return /^[34679ACDEFGHJKMNPQRTUVWXY]{7}$/.test(code) ? code : null;
}

/**
 * The visit's WebSocket URL on the server that serves the page (or `base`).
 * @param {string} code
 * @param {Record<string, string|null|undefined>} query name, role, key, resume
 * @param {string} [base] page URL
 */
export function socketURL(code, query, base = location.href) {
  const url = new URL(`/ws/visits/${encodeURIComponent(code)}`, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [k, v] of Object.entries(query)) if (v) url.searchParams.set(k, v);
  return url.toString();
}

export class VisitConnection {
  /**
   * @param {object} options
   * @param {string} options.code join code
   * @param {string} [options.name] display name
   * @param {'guest'|'spectator'} [options.role]
   * @param {string|null} [options.hostKey] the host key (joins as the host)
   * @param {(msg: object) => void} options.onMessage every server message, welcome included
   * @param {(status: string, detail?: string) => void} [options.onStatus] 'connecting' | 'open' |
   *   'reconnecting' | 'closed'
   * @param {typeof WebSocket} [options.WebSocketImpl]
   * @param {Storage|null} [options.storage] keeps the resume token across a page reload
   * @param {string} [options.base] page URL the socket URL is relative to
   */
  constructor({ code, name = '', role = 'guest', hostKey = null, onMessage, onStatus = () => {}, WebSocketImpl, storage, base }) {
    this.code = code;
    this.name = name;
    this.role = role;
    this.hostKey = hostKey;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.WebSocketImpl = WebSocketImpl ?? globalThis.WebSocket;
    this.storage = storage === undefined ? globalThis.sessionStorage ?? null : storage;
    this.base = base ?? globalThis.location?.href;
    this.ws = null;
    this.status = 'idle';
    this.attempt = 0;
    this.closing = false;
    this.resume = this.storage?.getItem(this._key()) ?? null;
    this._pose = null;
    this._poseTimer = null;
    this._retry = null;
    this._resuming = false;
  }

  _key() {
    return `twin-visit-resume:${this.code}`;
  }

  /** Open the socket (again). */
  connect() {
    clearTimeout(this._retry);
    this.closing = false;
    // A resume token stands for the whole identity: name, role and host key stay with the server.
    this._resuming = Boolean(this.resume);
    const query = this.resume ? { resume: this.resume } : { name: this.name, role: this.role, key: this.hostKey };
    const ws = new this.WebSocketImpl(socketURL(this.code, query, this.base));
    this.ws = ws;
    this._setStatus(this.attempt ? 'reconnecting' : 'connecting');
    ws.onmessage = (e) => this._message(e.data);
    ws.onclose = (e) => this._closed(ws, e.code, e.reason);
  }

  _message(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.t === 'welcome') {
      this.attempt = 0;
      this.resume = msg.resume;
      this.storage?.setItem(this._key(), msg.resume);
      this._setStatus('open');
    } else if (msg.t === 'error' && msg.code === 'bad_resume') {
      // The server let us go (away too long): join again as a new person.
      this.resume = null;
      this.storage?.removeItem(this._key());
    }
    this.onMessage(msg);
  }

  _closed(ws, code, reason) {
    if (ws !== this.ws) return;
    this.ws = null;
    // 4403 while resuming: the server let us go (the welcome-less error cleared the token): join anew.
    const resumeRefused = code === 4403 && this._resuming && !this.resume;
    if (this.closing || code === 1000 || FINAL.has(code) || (code === 4403 && !resumeRefused)) {
      this._setStatus('closed', reason || String(code));
      return;
    }
    // A drop (network, server restart, too slow): come back as the same person.
    const delay = resumeRefused ? 0 : BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt++;
    this._setStatus('reconnecting');
    this._retry = setTimeout(() => this.connect(), delay);
  }

  _setStatus(status, detail) {
    this.status = status;
    this.onStatus(status, detail);
  }

  /** @returns {boolean} whether messages can be sent now */
  get open() {
    return this.ws?.readyState === 1 && this.status === 'open';
  }

  /**
   * Send a message now (state changes, gather, pointer...). Dropped while reconnecting: the welcome
   * after the reconnect carries the state.
   * @param {string} type
   * @param {object} [fields]
   */
  send(type, fields = {}) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify({ v: PROTOCOL, t: type, ...fields }));
    return true;
  }

  /**
   * Offer the latest pose; it goes out at POSE_HZ, superseding any not sent yet.
   * @param {{h: number[], l?: number[], r?: number[], s: number}} pose
   */
  sendPose(pose) {
    this._pose = pose;
    if (this._poseTimer) return;
    this._poseTimer = setTimeout(() => {
      this._poseTimer = null;
      const p = this._pose;
      this._pose = null;
      if (p) this.send('pose', p);
    }, 1000 / POSE_HZ);
  }

  /** Leave the visit for good (the host's leaving hands it over or ends it). */
  leave() {
    this.send('leave');
    this.close();
  }

  /** Close the socket without reconnecting. */
  close() {
    this.closing = true;
    clearTimeout(this._retry);
    clearTimeout(this._poseTimer);
    this._poseTimer = null;
    this.ws?.close();
    this.ws = null;
    this._setStatus('closed');
  }

  /** Test hook: drop the socket as a network failure would (the connection comes back by itself). */
  drop() {
    this.ws?.close(4000, 'dropped');
  }
}
