/**
 * The in-headset participation board, drawn on a canvas texture like the XR menu (xr/menu.js): after a
 * controller select on a building or the ground at street level it offers the four categories, then
 * short phrases or a virtual keyboard for the text; on a pin it shows the contribution with a support
 * button. Button ids: `cat-<category>`, `phrase-<n>`, `keyboard`, `key-<char>`, `space`, `backspace`,
 * `send`, `back`, `close`, `vote`.
 */
import { CanvasTexture, Mesh, MeshBasicMaterial, PlaneGeometry, Raycaster, Vector3 } from 'three';
import { language, t } from '../ui/i18n.js';
import { CATEGORIES } from './api.js';
import { COLOURS } from './panel.js';

const W = 640;
const H = 400;
export const PHRASES = 6;
const KEY_ROWS = { de: ['QWERTZUIOP', 'ASDFGHJKLÄ', 'YXCVBNMÖÜ.'], en: ['QWERTYUIOP', 'ASDFGHJKL?', 'ZXCVBNM,.!'] };

/** Button layout of one board state: [id, x, y, w, h, label, colour]. */
function layout(state, board) {
  const b = [];
  if (state === 'category') {
    CATEGORIES.forEach((c, i) => b.push([`cat-${c}`, 20 + (i % 2) * 305, 80 + Math.floor(i / 2) * 110, 295, 95, t(`pins.cat.${c}`), COLOURS[c]]));
    b.push(['close', 20, 310, 600, 70, t('panel.close'), '#555']);
  } else if (state === 'phrase') {
    for (let i = 0; i < PHRASES; i++) b.push([`phrase-${i + 1}`, 20 + (i % 2) * 305, 70 + Math.floor(i / 2) * 78, 295, 68, t(`pins.phrase.${i + 1}`), '#1565c0']);
    b.push(['keyboard', 20, 310, 295, 70, t('pins.keyboard'), '#333'], ['back', 325, 310, 295, 70, t('pins.back'), '#555']);
  } else if (state === 'keyboard') {
    const rows = KEY_ROWS[language()] ?? KEY_ROWS.en;
    rows.forEach((row, r) => [...row].forEach((ch, i) => b.push([`key-${ch}`, 20 + i * 60, 95 + r * 62, 56, 56, ch, '#333'])));
    b.push(['space', 20, 285, 290, 50, t('pins.space'), '#333'], ['backspace', 320, 285, 140, 50, '⌫', '#333']);
    b.push(['send', 470, 285, 150, 50, t('pins.send'), board.text.trim() ? '#2e7d32' : '#777']);
    b.push(['back', 20, 342, 600, 46, t('pins.back'), '#555']);
  } else if (state === 'pin') {
    b.push(['vote', 20, 300, 390, 80, t('pins.support', { n: board.pin?.votes ?? 0 }) + (board.pin?.voted ? ' ✓' : ''), '#1565c0']);
    b.push(['close', 420, 300, 200, 80, t('panel.close'), '#555']);
  }
  return b;
}

function wrap(g, text, x, y, width, lineHeight, maxLines) {
  const words = String(text).split(/\s+/);
  let line = '';
  let n = 0;
  for (const word of words) {
    const next = line ? `${line} ${word}` : word;
    if (g.measureText(next).width > width && line) {
      g.fillText(line, x, y + n * lineHeight);
      line = word;
      if (++n >= maxLines) return;
    } else line = next;
  }
  if (line) g.fillText(line, x, y + n * lineHeight);
}

export class PinBoard {
  /** @param {(id: string) => void} onPress */
  constructor(onPress) {
    this.onPress = onPress;
    this.canvas = document.createElement('canvas');
    this.canvas.width = W;
    this.canvas.height = H;
    this.texture = new CanvasTexture(this.canvas);
    this.mesh = new Mesh(new PlaneGeometry(0.64, 0.4), new MeshBasicMaterial({ map: this.texture, transparent: true, depthTest: false }));
    this.mesh.name = 'pin-board';
    this.mesh.renderOrder = 21;
    this.mesh.visible = false;
    this.state = null;
    this.category = null;
    this.text = '';
    this.pin = null;
    this.title = '';
    this.buttons = [];
    this._raycaster = new Raycaster();
  }

  /** Show a state: 'category' | 'phrase' | 'keyboard' | 'pin'. */
  show(state, extra = {}) {
    Object.assign(this, extra);
    this.state = state;
    this.mesh.visible = true;
    this.draw();
  }

  draw() {
    const g = this.canvas.getContext('2d');
    g.fillStyle = 'rgba(20, 30, 45, 0.94)';
    g.fillRect(0, 0, W, H);
    g.fillStyle = '#fff';
    g.textBaseline = 'middle';
    g.textAlign = 'left';
    g.font = '28px sans-serif';
    if (this.state === 'pin') {
      g.fillText(t(`pins.cat.${this.pin?.category}`), 20, 36, 600);
      g.font = '26px sans-serif';
      wrap(g, this.pin?.text ?? '', 20, 84, 600, 34, 6);
    } else if (this.state === 'keyboard') {
      g.fillText(`${t(`pins.cat.${this.category}`)}: ${this.text}▏`.slice(-40), 20, 40, 600);
    } else {
      g.fillText(this.state === 'category' ? t('pins.vrTitle') : t(`pins.cat.${this.category}`), 20, 36, 600);
    }
    this.buttons = layout(this.state, this);
    g.textAlign = 'center';
    g.font = '26px sans-serif';
    for (const [, x, y, w, h, label, colour] of this.buttons) {
      g.fillStyle = colour;
      g.fillRect(x, y, w, h);
      g.fillStyle = colour === COLOURS.idea ? '#111' : '#fff';
      g.fillText(label, x + w / 2, y + h / 2, w - 10);
    }
    this.texture.needsUpdate = true;
  }

  /**
   * Float the board in front of the visitor, towards a point, a little below eye height.
   * @param {Vector3} head reference-space head position
   * @param {Vector3} towards reference-space point
   */
  place(head, towards) {
    const dir = towards.clone().sub(head).setY(0);
    if (dir.lengthSq() < 1e-6) dir.set(0, 0, -1);
    dir.normalize();
    this.mesh.position.copy(head).addScaledVector(dir, 0.8);
    this.mesh.position.y -= 0.3;
    this.mesh.lookAt(head);
  }

  hide() {
    this.mesh.visible = false;
    this.state = null;
  }

  /** The button a world-space ray points at, or null. */
  hit(ray) {
    if (!this.mesh.visible) return null;
    this._raycaster.ray.copy(ray);
    this.mesh.updateMatrixWorld(true);
    const hit = this._raycaster.intersectObject(this.mesh, false)[0];
    if (!hit?.uv) return null;
    const px = hit.uv.x * W;
    const py = (1 - hit.uv.y) * H;
    return this.buttons.find(([, x, y, w, h]) => px >= x && px <= x + w && py >= y && py <= y + h)?.[0] ?? 'board';
  }

  /** World position of a button's centre (tests aim controllers at it). */
  buttonWorldPosition(id) {
    const b = this.buttons.find((x) => x[0] === id);
    if (!b) throw new Error(`no pin board button "${id}" in state ${this.state}`);
    const [, x, y, w, h] = b;
    const local = new Vector3(((x + w / 2) / W - 0.5) * 0.64, (0.5 - (y + h / 2) / H) * 0.4, 0);
    this.mesh.updateMatrixWorld(true);
    return this.mesh.localToWorld(local);
  }

  dispose() {
    this.texture.dispose();
    this.mesh.geometry.dispose();
    this.mesh.material.dispose();
    this.mesh.removeFromParent();
  }
}
