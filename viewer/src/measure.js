/**
 * Measuring: two picked points give the straight distance, its horizontal part and the height
 * difference; the segment and its vertical leg are drawn in the scene.
 */
import { BufferGeometry, Group, Line, LineBasicMaterial, Mesh, MeshBasicMaterial, SphereGeometry, Vector3 } from 'three';
import { segmentMeasures } from './geo.js';

export class Measure {
  /**
   * @param {import('three').Object3D} parent where the marks are drawn (world space)
   */
  constructor(parent) {
    this.group = new Group();
    this.group.name = 'measure';
    parent.add(this.group);
    /** @type {Vector3[]} */
    this.points = [];
    /** @type {{distance: number, horizontal: number, height: number}|null} */
    this.result = null;
    this._dot = new SphereGeometry(0.4, 12, 8);
    this._dotMaterial = new MeshBasicMaterial({ color: 0xff2266, depthTest: false });
    this._lineMaterial = new LineBasicMaterial({ color: 0xff2266, depthTest: false });
    this._legMaterial = new LineBasicMaterial({ color: 0x2266ff, depthTest: false });
  }

  /**
   * Add a point; the third point starts a new measurement.
   * @param {Vector3} point world position
   * @returns {{distance: number, horizontal: number, height: number}|null} the result once two points exist
   */
  addPoint(point) {
    if (this.points.length >= 2) this.clear();
    this.points.push(point.clone());
    const dot = new Mesh(this._dot, this._dotMaterial);
    dot.position.copy(point);
    dot.renderOrder = 10;
    this.group.add(dot);
    if (this.points.length === 2) {
      const [a, b] = this.points;
      this.result = segmentMeasures(a.toArray(), b.toArray());
      const corner = new Vector3(b.x, a.y, b.z);
      this._line([a, b], this._lineMaterial);
      this._line([a, corner, b], this._legMaterial);
    }
    return this.result;
  }

  _line(points, material) {
    const line = new Line(new BufferGeometry().setFromPoints(points), material);
    line.renderOrder = 10;
    this.group.add(line);
  }

  /** Remove the marks and the result. */
  clear() {
    this.points = [];
    this.result = null;
    for (const child of [...this.group.children]) {
      if (child.isLine) child.geometry.dispose();
      this.group.remove(child);
    }
  }
}
