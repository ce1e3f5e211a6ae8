/**
 * The sensors in the headset: a time-control strip hung under the XR menu (xr/menu.js `addPanel`:
 * step back, play/pause, step on, speed, previous/next day, the current time) and a board with the
 * picked station's chart (uPlot's canvases copied onto a canvas texture) floating towards the station.
 */
import { Raycaster } from 'three';
import { t } from '../ui/i18n.js';
import { buttonCentre, buttonHit, canvasPlane, drawButtons, placeFacing } from '../xr/menu.js';

const STRIP_W = 512;
const STRIP_H = 150;
/** Strip buttons in canvas pixels: id, x, y, w, h. */
const BUTTONS = [
  ['sensors-day-prev', 8, 70, 70, 70],
  ['sensors-prev', 86, 70, 70, 70],
  ['sensors-play', 164, 70, 110, 70],
  ['sensors-next', 282, 70, 70, 70],
  ['sensors-speed', 360, 70, 70, 70],
  ['sensors-day-next', 434, 70, 70, 70],
];
const BOARD_W = 1024;
const BOARD_H = 600;

function plane(w, h, metresWide, name) {
  const made = canvasPlane(w, h, metresWide);
  made.mesh.name = name;
  made.mesh.renderOrder = 21;
  return made;
}

/** The time control in the XR menu. */
export class SensorStrip {
  /** @param {number} menuWidth width of the menu plane (m), the strip hangs under it */
  constructor(menuWidth = 0.28, menuHeight = 0.21) {
    const { canvas, texture, mesh } = plane(STRIP_W, STRIP_H, menuWidth, 'xr-menu-sensors');
    this.canvas = canvas;
    this.texture = texture;
    this.mesh = mesh;
    const h = (menuWidth * STRIP_H) / STRIP_W;
    mesh.position.set(0, -(menuHeight / 2 + h / 2 + 0.004), 0);
    this.state = { label: '', playing: false, speed: 4 };
    this._raycaster = new Raycaster();
    this.draw();
  }

  /** @param {{label?: string, playing?: boolean, speed?: number}} [state] */
  draw(state = {}) {
    Object.assign(this.state, state);
    const g = this.canvas.getContext('2d');
    g.clearRect(0, 0, STRIP_W, STRIP_H);
    g.fillStyle = 'rgba(20, 30, 45, 0.92)';
    g.fillRect(0, 0, STRIP_W, STRIP_H);
    g.fillStyle = '#fff';
    g.font = '24px sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText(`${t('sensors.title')}: ${this.state.label}`, STRIP_W / 2, 34, STRIP_W - 20);
    const labels = {
      'sensors-day-prev': '−1d',
      'sensors-prev': '◀',
      'sensors-play': this.state.playing ? '❚❚' : '▶',
      'sensors-next': '▶|',
      'sensors-speed': `×${this.state.speed}`,
      'sensors-day-next': '+1d',
    };
    drawButtons(g, BUTTONS, labels, (id) => (id === 'sensors-play' ? '#2e7d32' : '#1565c0'));
    this.texture.needsUpdate = true;
  }

  /** @param {import('three').Ray} ray @returns {string|null} the button id */
  hit(ray) {
    if (!this.mesh.visible || !this.mesh.parent) return null;
    return buttonHit(this._raycaster, this.mesh, ray, [STRIP_W, STRIP_H], BUTTONS);
  }

  /** @param {string} id @returns {Vector3} a button's centre in world space (tests aim at it) */
  buttonWorldPosition(id) {
    return buttonCentre(this.mesh, [STRIP_W, STRIP_H], BUTTONS, id);
  }

  dispose() {
    this.mesh.removeFromParent();
    this.texture.dispose();
    this.mesh.geometry.dispose();
    this.mesh.material.dispose();
  }
}

/** A picked station's chart in front of the visitor. */
export class ChartBoard {
  constructor() {
    const { canvas, texture, mesh } = plane(BOARD_W, BOARD_H, 0.9, 'xr-sensor-chart');
    this.canvas = canvas;
    this.texture = texture;
    this.mesh = mesh;
    mesh.visible = false;
    this.station = null;
  }

  /**
   * Draw the chart's title, facts and canvases, and place the board 1.2 m from the head towards `point`.
   * @param {string} title
   * @param {string} facts
   * @param {HTMLCanvasElement[]} charts uPlot canvases (day, week)
   * @param {Vector3} head
   * @param {Vector3} point world space
   */
  show(title, facts, charts, head, point) {
    const g = this.canvas.getContext('2d');
    g.fillStyle = 'rgba(255, 255, 255, 0.96)';
    g.fillRect(0, 0, BOARD_W, BOARD_H);
    g.fillStyle = '#111';
    g.textBaseline = 'top';
    g.font = 'bold 34px sans-serif';
    g.fillText(title, 20, 16, BOARD_W - 40);
    g.font = '26px sans-serif';
    g.fillText(facts, 20, 62, BOARD_W - 40);
    g.fillText(`${t('sensors.dayProfile')} · ${t('sensors.week')}`, 20, 100, BOARD_W - 40);
    charts.slice(0, 2).forEach((c, i) => {
      if (c.width && c.height) g.drawImage(c, 12 + i * 504, 150, 492, (492 * c.height) / c.width);
    });
    this.texture.needsUpdate = true;
    this.station = title;
    placeFacing(this.mesh, head, point, 1.2);
  }

  hide() {
    this.mesh.visible = false;
    this.station = null;
  }

  dispose() {
    this.mesh.removeFromParent();
    this.texture.dispose();
    this.mesh.geometry.dispose();
    this.mesh.material.dispose();
  }
}
