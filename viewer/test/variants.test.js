import { describe, expect, it } from 'vitest';
import { BASE, metricsTable } from '../src/variants.js';

// The builder's scene.json for the FZK-Haus variant of the demo (twin.designs.metrics.metrics_delta).
const scene = {
  variants: [
    {
      id: 'fzk-haus',
      designs: [{ id: 'fzk-haus', title: 'FZK-Haus', metrics: { footprint_area: 143.0, height: 6.518, volume: 707.2, volume_source: 'heightfield', storeys: 2, gross_floor_area: 241.5, parts: 108 } }],
      removed: ['way/22988873'],
      metrics_delta: {
        removed: { count: 1, footprint_area: 160.38, height: 9.0, volume: 1443.4, gross_floor_area: 481.1 },
        delta: { footprint_area: -17.38, height: -2.482, volume: -736.2, gross_floor_area: -239.6 },
      },
    },
    { id: 'two', designs: [{ id: 'a', metrics: { footprint_area: 100, height: 10 } }, { id: 'b', metrics: { footprint_area: 50, height: 20 } }], metrics_delta: {} },
    { id: 'flat', designs: [], metrics_delta: { gross_floor_area_m2: 2504, buildings: 0 } },
  ],
};

describe('metricsTable', () => {
  it('reads the builder\'s nested metrics_delta: new, replaced and change per metric', () => {
    const t = metricsTable(scene, 'fzk-haus');
    const row = (k) => t.rows.find((r) => r.key === k);
    expect(row('footprint_area')).toEqual({ key: 'footprint_area', unit: 'm²', design: 143, removed: 160.38, change: -17.38 });
    expect(row('height').change).toBeCloseTo(-2.482);
    expect(row('storeys')).toEqual({ key: 'storeys', unit: '', design: 2, removed: null, change: null });
    expect(t.removedCount).toBe(1);
    expect(t.designs).toEqual(['FZK-Haus']);
    // Bookkeeping fields (volume_source, parts) are not metrics rows.
    expect(t.rows.map((r) => r.key)).toEqual(['footprint_area', 'gross_floor_area', 'volume', 'height', 'storeys']);
  });

  it('adds areas and takes the tallest height over several designs', () => {
    const t = metricsTable(scene, 'two');
    expect(t.rows.find((r) => r.key === 'footprint_area').design).toBe(150);
    expect(t.rows.find((r) => r.key === 'height').design).toBe(20);
  });

  it('shows a flat metrics_delta as change-only rows, and nothing for the existing state', () => {
    const t = metricsTable(scene, 'flat');
    expect(t.rows).toEqual([
      { key: 'gross_floor_area_m2', unit: '', design: null, removed: null, change: 2504 },
      { key: 'buildings', unit: '', design: null, removed: null, change: 0 },
    ]);
    expect(metricsTable(scene, BASE)).toBeNull();
  });
});
