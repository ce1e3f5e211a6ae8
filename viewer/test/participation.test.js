import { describe, expect, it } from 'vitest';
import { cluster, NEAR } from '../src/participation/cluster.js';
import { deviceKey, ParticipationApi } from '../src/participation/api.js';

const at = (x, z, y = 0) => ({ x, y, z });

describe('cluster', () => {
  it('keeps pins near the eye single and merges far ones on a grid', () => {
    const eye = at(0, 0, 10);
    const near = [at(5, 5), at(10, -3)];
    const far = Array.from({ length: 20 }, (_, i) => at(3000 + (i % 5), 3000 + Math.floor(i / 5)));
    const shown = cluster([...near, ...far], eye);
    const singles = shown.filter((c) => c.members.length === 1);
    expect(singles.map((c) => c.members[0]).sort()).toEqual([0, 1]);
    const big = shown.find((c) => c.members.length > 1);
    expect(big.members.length).toBe(20);
    expect(big.x).toBeCloseTo(3002, 0);
    expect(shown[0].distance).toBeLessThanOrEqual(shown[shown.length - 1].distance);
  });

  it('splits clusters again as the eye comes closer', () => {
    const pts = [at(0, 0), at(60, 0), at(120, 0)];
    expect(cluster(pts, at(60, 0, NEAR * 20)).length).toBe(1);
    expect(cluster(pts, at(60, 0, 20)).length).toBe(3);
  });
});

describe('device key and API', () => {
  it('makes one random key and keeps it', () => {
    const store = new Map();
    const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
    const a = deviceKey(storage);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(deviceKey(storage)).toBe(a);
    expect(deviceKey({ getItem: () => null, setItem: () => {} })).not.toBe(a);
  });

  it('sends the device key, and the staff token only for cards', async () => {
    const calls = [];
    const fetch = async (url, init) => {
      calls.push({ url, ...init });
      return { ok: true, status: 201, json: async () => ({ id: 'c1' }) };
    };
    const api = new ParticipationApi('demo', { base: 'http://x', key: 'k'.repeat(20), staffToken: 'twin_s', fetch });
    await api.create({ text: 'a' });
    await api.createAnalogue({ text: 'b' });
    await api.vote('c1', false);
    expect(calls[0].url).toBe('http://x/api/scenes/demo/participation/contributions');
    expect(calls[0].headers['X-Device-Key']).toBe('k'.repeat(20));
    expect(calls[0].headers.Authorization).toBeUndefined();
    expect(calls[1].headers.Authorization).toBe('Bearer twin_s');
    expect(calls[2].method).toBe('DELETE');
  });

  it('turns a problem document into an error with its detail', async () => {
    const fetch = async () => ({ ok: false, status: 422, json: async () => ({ detail: 'text is empty' }) });
    const api = new ParticipationApi('demo', { base: 'http://x', key: 'k'.repeat(20), fetch });
    await expect(api.create({})).rejects.toThrow('text is empty');
  });
});
