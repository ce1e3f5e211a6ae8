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

/** A plane `metresWide` wide showing a w×h canvas (drawn over everything). */
export function canvasPlane(w, h, metresWide) {
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

/**
 * The button of a canvas plane a world-space ray points at.
 * @param {Raycaster} raycaster
 * @param {Mesh} mesh a canvasPlane mesh
 * @param {import('three').Ray} ray
 * @param {number[]} size canvas [w, h] in pixels
 * @param {(string|number)[][]} buttons [id, x, y, w, h] in canvas pixels
 * @returns {string|null}
 */
export function buttonHit(raycaster, mesh, ray, [cw, ch], buttons) {
  raycaster.ray.copy(ray);
  const hit = raycaster.intersectObject(mesh, false)[0];
  if (!hit?.uv) return null;
  const px = hit.uv.x * cw;
  const py = (1 - hit.uv.y) * ch;
  const b = buttons.find(([, x, y, w, h]) => px >= x && px <= x + w && py >= y && py <= y + h);
  return b ? b[0] : null;
}

/** World position of a button's centre on a canvas plane (tests aim controllers at it). */
export function buttonCentre(mesh, [cw, ch], buttons, id) {
  const b = buttons.find((x) => x[0] === id);
  if (!b) throw new Error(`no XR button "${id}"`);
  const [, x, y, w, h] = b;
  const { width, height } = mesh.geometry.parameters;
  const local = new Vector3(((x + w / 2) / cw - 0.5) * width, (0.5 - (y + h / 2) / ch) * height, 0);
  mesh.updateMatrixWorld(true);
  return mesh.localToWorld(local);
}

/** Draw buttons as filled boxes with centred labels (`colour(id)` picks each fill). */
export function drawButtons(g, buttons, labels, colour) {
  for (const [id, x, y, w, h] of buttons) {
    g.fillStyle = colour(id);
    g.fillRect(x, y, w, h);
    g.fillStyle = '#fff';
    g.fillText(labels[id], x + w / 2, y + h / 2);
  }
}

/** Put a board `distance` m from the head, towards a point (level), facing the head. */
export function placeFacing(mesh, head, point, distance) {
  const dir = point.clone().sub(head).setY(0);
  if (dir.lengthSq() < 1e-6) dir.set(0, 0, -1);
  dir.normalize();
  mesh.position.copy(head).addScaledVector(dir, distance);
  mesh.lookAt(head);
  mesh.visible = true;
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
    /** @type {{mesh: import('three').Object3D, hit: (ray: import('three').Ray) => string|null}[]} */
    this.panels = [];
    this.draw();
  }

  /**
   * Hang a layer's controls under the menu (the sensors' time control): its mesh becomes a child of the
   * menu, and hit() asks it too, so a press on it is never a pick behind it. The layer acts on its own
   * button ids (the session ignores ids it does not know).
   * @param {{mesh: import('three').Object3D, hit: (ray: import('three').Ray) => string|null}} panel
   */
  addPanel(panel) {
    this.panels.push(panel);
    this.mesh.add(panel.mesh);
  }

  /** Take a panel of addPanel() off the menu. */
  removePanel(panel) {
    this.panels = this.panels.filter((p) => p !== panel);
    this.mesh.remove(panel.mesh);
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
    drawButtons(g, BUTTONS, labels, (id) => (id === 'exit' ? '#a33' : '#1565c0'));
    this.texture.needsUpdate = true;
  }

  /**
   * The button a world-space ray points at.
   * @param {import('three').Ray} ray
   * @returns {string|null}
   */
  hit(ray) {
    if (!this.mesh.visible || !this.mesh.parent) return null;
    return buttonHit(this._raycaster, this.mesh, ray, [MENU_W, MENU_H], BUTTONS) ?? this._panelHit(ray);
  }

  _panelHit(ray) {
    for (const panel of this.panels) {
      const id = panel.hit(ray);
      if (id) return id;
    }
    return null;
  }

  /**
   * World position of a button's centre (tests aim controllers at it).
   * @param {string} id
   * @returns {Vector3}
   */
  buttonWorldPosition(id) {
    return buttonCentre(this.mesh, [MENU_W, MENU_H], BUTTONS, id);
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
    placeFacing(this.mesh, head, point, 1.0);
  }

  hide() {
    this.mesh.visible = false;
    this.properties = null;
  }
}
