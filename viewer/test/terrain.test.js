import { describe, expect, it } from 'vitest';
import { terrainUrl } from '../src/layers/terrain.js';
import { normaliseScene } from '../src/api.js';
import { BASE } from '../src/variants.js';

const scene = normaliseScene(
  {
    id: 'bayreuth',
    tileset: 'tileset.json',
    layers: [{ id: 'buildings', tileset: 'tileset.json' }, { id: 'terrain', tileset: 'terrain/tileset.json' }],
    variants: [
      { id: 'house', tileset: 'variants/house/tileset.json', layers: [{ id: 'terrain', tileset: 'variants/house/terrain/tileset.json' }] },
      { id: 'plain', tileset: 'variants/plain/tileset.json' },
    ],
  },
  'https://example.org/builds/b1/scene.json',
);

describe('terrainUrl', () => {
  it('resolves layer paths against the build folder', () => {
    expect(terrainUrl(scene, BASE)).toBe('https://example.org/builds/b1/terrain/tileset.json');
    expect(terrainUrl(scene, 'house')).toBe('https://example.org/builds/b1/variants/house/terrain/tileset.json');
  });

  it('falls back to the city terrain for a variant without its own, and to none without terrain', () => {
    expect(terrainUrl(scene, 'plain')).toBe('https://example.org/builds/b1/terrain/tileset.json');
    expect(terrainUrl(normaliseScene({ id: 'flat', tileset: 'tileset.json' }, 'https://example.org/s/scene.json'))).toBeNull();
  });
});
