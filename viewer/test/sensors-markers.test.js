import { Ray, Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import { SensorMarkers, sectionTriangles } from '../src/sensors/markers.js';
import { RAMP, toHex } from '../src/sensors/ramp.js';

const station = (id, kind, x, z, line = []) => ({ id, kind, name: id, unit: '', point: new Vector3(x, 0, z), line });

describe('sensor markers', () => {
  it('draws a disc for a point and a ribbon along a line', () => {
    expect(sectionTriangles([{ x: 0, y: 0, z: 0 }]).length).toBe(18 * 9);
    const ribbon = sectionTriangles([new Vector3(0, 0, 0), new Vector3(10, 0, 0), new Vector3(10, 0, 10)]);
    expect(ribbon.length).toBe(2 * 6 * 3);
    // 5 m wide: the first segment's corners lie 2.5 m either side of the axis.
    expect(Math.abs(ribbon[2])).toBeCloseTo(2.5);
  });

  it('keeps one mesh per kind and one for every section, coloured per station', () => {
    const m = new SensorMarkers();
    m.setStations([station('a', 'bicycle', 0, 0), station('b', 'car', 100, 0, [new Vector3(90, 0, 0), new Vector3(110, 0, 0)]), station('c', 'bicycle', 0, 100)]);
    const meshes = m.group.children.filter((o) => o.isMesh);
    expect(meshes.map((o) => o.name).sort()).toEqual(['sensor-markers:bicycle', 'sensor-markers:car', 'sensor-sections']);
    m.setValues([0, 100, null], 100);
    expect(m.shownColours).toEqual([toHex(RAMP[0][1]), toHex(RAMP[4][1]), '#a0a0a0']);
    m.setValues([100, 0, 50], 100);
    expect(m.shownColours[0]).toBe(toHex(RAMP[4][1]));
    m.dispose();
  });

  it('picks the station under a ray, a marker or its section', () => {
    const m = new SensorMarkers();
    m.setStations([station('a', 'bicycle', 0, 0), station('b', 'car', 100, 0, [new Vector3(90, 0, 0), new Vector3(110, 0, 0)])]);
    m.group.updateMatrixWorld(true);
    const down = (x, z) => new Ray(new Vector3(x, 50, z), new Vector3(0, -1, 0));
    expect(m.pick(down(0, 0))).toBe(0);
    expect(m.pick(down(95, 1))).toBe(1);
    expect(m.pick(down(50, 50))).toBeNull();
  });
});
