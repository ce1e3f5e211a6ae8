/**
 * In-headset UI drawn on canvas textures: the controller menu (variant, time of day, table-top,
 * seated, exit) held on the left controller, and the floating info panel of a picked building.
 */
import { CanvasTexture, Mesh, MeshBasicMaterial, PlaneGeometry, Raycaster, Vector3 } from 'three';
import { t } from '../ui/i18n.js';
import { attributeRows } from '../ui/panel.js';

const MENU_W = 512;
const MENU_H = 384;

/** Button layout in canvas pixels: id, x, y, w, h. */
const BUTTONS = [
  ['variant-prev', 16, 56, 70, 60],
  ['variant-next', 426, 56, 70, 60],
  ['time-prev', 16, 156, 70, 60],
  ['time-next', 426, 156, 70, 60],
  ['tabletop', 16, 246, 230, 56],
  ['seated', 266, 246, 230, 56],
  ['exit', 16, 314, 480, 56],
];

function canvasPlane(w, h, metresWide) {
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const texture = new CanvasTexture(canvas);
  const mesh = new Mesh(
    new PlaneGeometry(metresWide, (metresWide * h) / w),
    new MeshBasicMaterial({ map: texture, transparent: true, depthTest: false }),
  );
  mesh.renderOrder = 20;
  return { canvas, texture, mesh };
}

export class XRMenu {
  /**
   * @param {(id: string) => void} onPress called with a button id
   */
  constructor(onPress) {
    this.onPress = onPress;
    const { canvas, texture, mesh } = canvasPlane(MENU_W, MENU_H, 0.28);
    this.canvas = canvas;
    this.texture = texture;
    this.mesh = mesh;
    mesh.name = 'xr-menu';
    // Above the left controller, tilted towards the eyes.
    mesh.position.set(0, 0.12, -0.06);
    mesh.rotation.x = -0.6;
    this.state = { variant: '', time: '', seated: false };
    this._raycaster = new Raycaster();
    this.draw();
  }

  /**
   * Redraw with the current state (variant title, time of day, seated flag).
   * @param {{variant?: string, time?: string, seated?: boolean}} [state]
   */
  draw(state = {}) {
    Object.assign(this.state, state);
    const g = this.canvas.getContext('2d');
    g.fillStyle = 'rgba(20, 30, 45, 0.92)';
    g.fillRect(0, 0, MENU_W, MENU_H);
    g.fillStyle = '#fff';
    g.font = '24px sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText(t('variant.label'), MENU_W / 2, 30);
    // Between the ◀ ▶ buttons (86..426 px): long variant titles are squeezed, not cut.
    g.fillText(this.state.variant, MENU_W / 2, 86, 330);
    g.fillText(t('xr.time'), MENU_W / 2, 136);
    g.fillText(this.state.time, MENU_W / 2, 186);
    const labels = {
      'variant-prev': '◀',
      'variant-next': '▶',
      'time-prev': '−1h',
      'time-next': '+1h',
      tabletop: t('xr.tabletop'),
      seated: `${t('xr.seated')}${this.state.seated ? ' ✓' : ''}`,
      exit: t('xr.exit'),
    };
    for (const [id, x, y, w, h] of BUTTONS) {
      g.fillStyle = id === 'exit' ? '#a33' : '#1565c0';
      g.fillRect(x, y, w, h);
      g.fillStyle = '#fff';
      g.fillText(labels[id], x + w / 2, y + h / 2);
    }
    this.texture.needsUpdate = true;
  }

  /**
   * The button a world-space ray points at.
   * @param {import('three').Ray} ray
   * @returns {string|null}
   */
  hit(ray) {
    if (!this.mesh.visible || !this.mesh.parent) return null;
    this._raycaster.ray.copy(ray);
    const hit = this._raycaster.intersectObject(this.mesh, false)[0];
    if (!hit?.uv) return null;
    const px = hit.uv.x * MENU_W;
    const py = (1 - hit.uv.y) * MENU_H;
    const b = BUTTONS.find(([, x, y, w, h]) => px >= x && px <= x + w && py >= y && py <= y + h);
    return b ? b[0] : null;
  }

  /**
   * World position of a button's centre (tests aim controllers at it).
   * @param {string} id
   * @returns {Vector3}
   */
  buttonWorldPosition(id) {
    const b = BUTTONS.find((x) => x[0] === id);
    if (!b) throw new Error(`no XR menu button "${id}"`);
    const [, x, y, w, h] = b;
    const { width, height } = this.mesh.geometry.parameters;
    const local = new Vector3(((x + w / 2) / MENU_W - 0.5) * width, (0.5 - (y + h / 2) / MENU_H) * height, 0);
    this.mesh.updateMatrixWorld(true);
    return this.mesh.localToWorld(local);
  }
}

/** Floating panel with a picked building's attributes. */
export class InfoBoard {
  constructor() {
    const { canvas, texture, mesh } = canvasPlane(512, 400, 0.6);
    this.canvas = canvas;
    this.texture = texture;
    this.mesh = mesh;
    mesh.name = 'xr-info';
    mesh.visible = false;
    /** @type {Record<string, any>|null} */
    this.properties = null;
  }

  /**
   * Show attributes in front of the visitor, towards the picked point.
   * @param {Record<string, any>} properties
   * @param {Vector3} head XR camera position
   * @param {Vector3} point picked point (reference space)
   */
  show(properties, head, point) {
    this.properties = properties;
    const g = this.canvas.getContext('2d');
    g.fillStyle = 'rgba(255, 255, 255, 0.95)';
    g.fillRect(0, 0, 512, 400);
    g.fillStyle = '#111';
    g.font = 'bold 28px sans-serif';
    g.textBaseline = 'top';
    g.fillText(String(properties.name || properties.address || properties.id || t('panel.building')), 16, 14);
    g.font = '22px sans-serif';
    const rows = attributeRows(properties);
    rows.slice(0, 12).forEach(([k, v], i) => {
      g.fillText(`${k}: ${v}`.slice(0, 40), 16, 60 + i * 28);
    });
    if (!rows.length) g.fillText(t('panel.noData'), 16, 60);
    this.texture.needsUpdate = true;
    const dir = point.clone().sub(head).setY(0);
    if (dir.lengthSq() < 1e-6) dir.set(0, 0, -1);
    dir.normalize();
    this.mesh.position.copy(head).addScaledVector(dir, 1.0);
    this.mesh.lookAt(head);
    this.mesh.visible = true;
  }

  hide() {
    this.mesh.visible = false;
    this.properties = null;
  }
}
