import { BoxGeometry, Group, Mesh, MeshBasicMaterial, Vector3 } from 'three';
import { describe, expect, it } from 'vitest';
import { Lighting, MAX_SHADOW_TILES } from '../src/lighting.js';
import { ERROR_TARGETS, errorTargetFor } from '../src/tiles.js';

/** A tile scene as the renderer draws it: a group with one mesh at the tile's centre. */
function tileAt(x, z) {
  const scene = new Group();
  const mesh = new Mesh(new BoxGeometry(1, 1, 1), new MeshBasicMaterial());
  mesh.position.set(x, 0, z);
  mesh.castShadow = true;
  scene.add(mesh);
  return scene;
}

describe('errorTargetFor', () => {
  it('gives each XR mode its target and every desktop tool the desktop one', () => {
    expect(errorTargetFor('tabletop')).toBe(ERROR_TARGETS.tabletop);
    expect(errorTargetFor('street')).toBe(ERROR_TARGETS.street);
    for (const mode of ['orbit', 'walk', 'measure', 'desktop']) expect(errorTargetFor(mode)).toBe(ERROR_TARGETS.desktop);
    // The table-top miniature asks for finer blocks, street level accepts coarser ones than the desktop.
    expect(ERROR_TARGETS.tabletop).toBeLessThan(ERROR_TARGETS.desktop);
    expect(ERROR_TARGETS.street).toBeGreaterThan(ERROR_TARGETS.desktop);
  });
});

describe('Lighting.limitCasters', () => {
  it('lets only the tiles nearest the shadow focus cast', () => {
    const world = new Group();
    const lighting = new Lighting(world);
    const tiles = Array.from({ length: 40 }, (_, i) => tileAt(i * 100, 0));
    world.add(...tiles);
    world.updateMatrixWorld(true);
    lighting.focusCenter.copy(new Vector3(1000, 0, 0));
    expect(lighting.limitCasters(tiles, world)).toBe(MAX_SHADOW_TILES);
    const casting = tiles.map((t, i) => [i, t.children[0].castShadow]).filter(([, c]) => c).map(([i]) => i);
    expect(casting).toHaveLength(MAX_SHADOW_TILES);
    // The twelve around x = 1000 m: tiles 4..15 (ties at equal distance go either way, so check the span).
    expect(Math.max(...casting.map((i) => Math.abs(i - 10)))).toBeLessThanOrEqual(6);
    // Moving the focus hands the shadows over.
    lighting.focusCenter.set(0, 0, 0);
    lighting.limitCasters(tiles, world);
    expect(tiles[0].children[0].castShadow).toBe(true);
    expect(tiles[20].children[0].castShadow).toBe(false);
  });
});
