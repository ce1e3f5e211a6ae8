import { describe, expect, it } from 'vitest';
import { Group, Mesh, MeshBasicMaterial, PlaneGeometry } from 'three';
import { GroundProbe, eyeY } from '../src/ground.js';
import { EYE_HEIGHT } from '../src/controls.js';

/** A 200 m square slope rising 10 % towards +x (y = 0.1 x), lying in the world group. */
function slope() {
  const geometry = new PlaneGeometry(200, 200, 20, 20).rotateX(-Math.PI / 2);
  const pos = geometry.getAttribute('position');
  for (let i = 0; i < pos.count; i++) pos.setY(i, 0.1 * pos.getX(i));
  geometry.computeBoundingSphere();
  const world = new Group();
  const terrain = new Group();
  terrain.add(new Mesh(geometry, new MeshBasicMaterial()));
  world.add(terrain);
  return { world, terrain };
}

describe('GroundProbe', () => {
  it('finds the ground under a scene point, in scene coordinates', () => {
    const { world, terrain } = slope();
    const probe = new GroundProbe(world, () => [terrain]);
    expect(probe.heightAt(50, 10)).toBeCloseTo(5, 5);
    expect(probe.heightAt(-30, -70)).toBeCloseTo(-3, 5);
    expect(probe.heightAt(500, 0)).toBeNull(); // off the terrain
  });

  it('answers in scene coordinates when the world is moved, turned and scaled (VR)', () => {
    const { world, terrain } = slope();
    world.position.set(12, -40, 7);
    world.rotation.y = 0.7;
    world.scale.setScalar(0.01);
    const probe = new GroundProbe(world, () => [terrain]);
    expect(probe.heightAt(50, 10)).toBeCloseTo(5, 3);
  });

  it('has no ground where the terrain is hidden or missing', () => {
    const { world, terrain } = slope();
    terrain.visible = false;
    expect(new GroundProbe(world, () => [terrain]).heightAt(50, 10)).toBeNull();
    expect(new GroundProbe(world, () => []).heightAt(50, 10)).toBeNull();
  });
});

describe('eyeY', () => {
  it('stands the eye above the ground, or above the flat ground where it is unknown', () => {
    expect(eyeY(12.5, 0, EYE_HEIGHT)).toBeCloseTo(14.2);
    expect(eyeY(null, -3, EYE_HEIGHT)).toBeCloseTo(-1.3);
  });
});
