import { describe, expect, it } from 'vitest';
import { normaliseScene } from '../src/api.js';

describe('normaliseScene', () => {
  it('prefers the server\'s absolute tileset_url over the build folder\'s relative paths', () => {
    // What GET /api/scenes answers: relative `tileset`s (from scene.json) plus absolute `tileset_url`s.
    const s = normaliseScene(
      {
        id: 'hamburg',
        tileset: 'tileset.json',
        tileset_url: 'http://host/tiles/hamburg/tileset.json',
        variants: [{ id: 'fzk', tileset: 'variants/fzk/tileset.json', tileset_url: 'http://host/tiles/hamburg/variants/fzk/tileset.json' }],
      },
      'http://host/api/scenes',
    );
    expect(s.tileset).toBe('http://host/tiles/hamburg/tileset.json');
    expect(s.variants[0].tileset).toBe('http://host/tiles/hamburg/variants/fzk/tileset.json');
  });

  it('resolves a variant without tileset_url next to the scene tileset', () => {
    const s = normaliseScene(
      { id: 'h', tileset_url: 'http://host/tiles/h/tileset.json', variants: [{ id: 'a', tileset: 'variants/a/tileset.json' }, { id: 'b' }] },
      'http://host/api/scenes',
    );
    expect(s.variants.map((v) => v.tileset)).toEqual([
      'http://host/tiles/h/variants/a/tileset.json',
      'http://host/tiles/h/variants/b/tileset.json',
    ]);
  });

  it('resolves a static scene.json\'s paths against its own URL', () => {
    const s = normaliseScene({ id: 'x', tileset: 'tileset.json', variants: [{ id: 'v', tileset: 'variants/v/tileset.json' }] }, 'http://h/out/scene.json');
    expect(s.tileset).toBe('http://h/out/tileset.json');
    expect(s.variants[0].tileset).toBe('http://h/out/variants/v/tileset.json');
    expect(s.variants[0].removed).toEqual([]);
  });
});

describe('scene sources named in a link', async () => {
  const { trustedSource, previewFromHash } = await import('../src/api.js');
  const page = 'https://twin.example/?scene=x';

  it('opens scenes of this site, relative or absolute', () => {
    expect(trustedSource('/demo/scene.json', page)).toBe('https://twin.example/demo/scene.json');
    expect(trustedSource('https://twin.example/tiles/a/tileset.json', page)).toBe('https://twin.example/tiles/a/tileset.json');
  });

  it('refuses another origin unless it is allowed', () => {
    expect(() => trustedSource('https://evil.example/scene.json', page)).toThrow(/not this site/);
    expect(() => trustedSource('//evil.example/scene.json', page)).toThrow(/not this site/);
    expect(() => trustedSource('http://twin.example/scene.json', page)).toThrow(/not this site/);
    expect(trustedSource('https://data.example/s.json', page, ['https://data.example'])).toBe('https://data.example/s.json');
  });

  it('reads a draft preview from the fragment, not the query string', () => {
    const url = 'https://twin.example/preview/demo/b1/scene.json';
    expect(previewFromHash(`#preview=${encodeURIComponent(url)}`)).toBe(url);
    expect(previewFromHash('')).toBeNull();
    expect(previewFromHash('#other=1')).toBeNull();
  });
});
