import { afterEach, describe, expect, it, vi } from 'vitest';
import { HOOKS, LayerHost } from '../src/layers/host.js';

/** A layer that writes every call into `log` as "name.hook(args)". */
function recorder(name, log, extra = {}) {
  const layer = { name, ...extra };
  for (const hook of ['init', 'dispose', ...HOOKS]) {
    const own = extra[hook];
    layer[hook] = (...args) => {
      log.push(`${name}.${hook}(${hook === 'init' ? '' : args.filter((a) => a !== undefined).join(',')})`);
      return own?.(...args);
    };
  }
  return layer;
}

afterEach(() => vi.restoreAllMocks());

describe('LayerHost', () => {
  it('runs init at register, with one shared context that knows the host and has an event bus', () => {
    const ctx = { scene: 'S' };
    const host = new LayerHost(ctx);
    const seen = [];
    host.register({ name: 'a', init: (c) => seen.push(c) });
    host.register({ name: 'b', init: (c) => seen.push(c) });
    expect(seen).toEqual([ctx, ctx]);
    expect(ctx.host).toBe(host);
    expect(ctx.events).toBeInstanceOf(EventTarget);
  });

  it('calls hooks in register order, only on layers that have them', () => {
    const log = [];
    const host = new LayerHost({});
    host.register(recorder('sun', log));
    host.register({ name: 'quiet' });
    host.register(recorder('pins', log));
    log.length = 0;
    host.update(0.016, 'frame');
    host.emit('onVariantChanged', 'tower');
    host.emit('onModeChanged', 'street');
    expect(log).toEqual([
      'sun.update(0.016,frame)',
      'pins.update(0.016,frame)',
      'sun.onVariantChanged(tower)',
      'pins.onVariantChanged(tower)',
      'sun.onModeChanged(street)',
      'pins.onModeChanged(street)',
    ]);
  });

  it('rejects a layer without a name, a second layer of the same name, a hook that is not a function', () => {
    const host = new LayerHost({});
    expect(() => host.register({})).toThrow(/name/);
    host.register({ name: 'pins' });
    expect(() => host.register({ name: 'pins' })).toThrow(/already registered/);
    expect(() => host.register({ name: 'bad', update: 3 })).toThrow(/update must be a function/);
    expect(() => host.emit('onTypo')).toThrow(/unknown layer hook "onTypo"/);
  });

  it('disables a layer that throws in a hook, reports it, and keeps the others running', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const log = [];
    const reported = [];
    const host = new LayerHost({}, { onError: (f) => reported.push(f) });
    host.register(recorder('before', log));
    const broken = host.register(
      recorder('broken', log, {
        update: () => {
          throw new Error('boom');
        },
      }),
    );
    host.register(recorder('after', log));
    log.length = 0;
    host.update(0.1);
    host.update(0.2);
    expect(log).toEqual([
      'before.update(0.1)',
      'broken.update(0.1)',
      'broken.dispose()', // disabled: it may take down what it added
      'after.update(0.1)',
      'before.update(0.2)',
      'after.update(0.2)',
    ]);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ layer: 'broken', hook: 'update' });
    expect(reported[0].error.message).toBe('boom');
    expect(host.failures).toEqual(reported);
    expect(console.error).toHaveBeenCalledWith(expect.stringContaining('layer "broken" failed in update()'), expect.any(Error));
    expect(host.get('broken')).toBeNull();
    expect(host.enabled('broken')).toBe(false);
    expect(host.get('after')).not.toBeNull();
    expect(host.layers).toContain(broken);
  });

  it('isolates a failing init, a failing dispose and a rejected async hook', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const host = new LayerHost({});
    const layer = host.register({
      name: 'context',
      init: () => {
        throw new Error('no terrain');
      },
      dispose: () => {
        throw new Error('and no cleanup');
      },
      update: vi.fn(),
    });
    host.update(0);
    expect(layer.update).not.toHaveBeenCalled();
    expect(host.failures.map((f) => [f.layer, f.hook, f.error.message])).toEqual([['context', 'init', 'no terrain']]);

    host.register({ name: 'sensors', onSceneLoaded: async () => Promise.reject(new Error('feed down')) });
    host.emit('onSceneLoaded', {});
    await new Promise((r) => setTimeout(r, 0));
    expect(host.enabled('sensors')).toBe(false);
    expect(host.failures.at(-1)).toMatchObject({ layer: 'sensors', hook: 'onSceneLoaded' });
  });

  it('a throwing reporter does not break the host', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const host = new LayerHost({}, {
      onError: () => {
        throw new Error('reporter down');
      },
    });
    host.register({
      name: 'x',
      onPick: () => {
        throw new Error('x');
      },
    });
    expect(() => host.emit('onPick', null)).not.toThrow();
    expect(host.enabled('x')).toBe(false);
  });

  it('disposes enabled layers last-registered first, once, and forgets them', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const log = [];
    const host = new LayerHost({});
    host.register(recorder('a', log));
    host.register(
      recorder('b', log, {
        onKey: () => {
          throw new Error('b');
        },
      }),
    );
    host.register(recorder('c', log));
    host.emit('onKey', 'Escape');
    log.length = 0;
    host.dispose();
    expect(log).toEqual(['c.dispose()', 'a.dispose()']); // b was disposed when it was disabled
    expect(host.layers).toEqual([]);
    host.update(0);
    expect(log).toHaveLength(2);
  });

  it('lets layers talk through ctx.events and find each other by name', () => {
    const ctx = {};
    const host = new LayerHost(ctx);
    const heard = [];
    host.register({ name: 'list', init: (c) => c.events.addEventListener('pin-added', (e) => heard.push(e.detail)) });
    host.register({ name: 'pins', add: (p) => ctx.events.dispatchEvent(new CustomEvent('pin-added', { detail: p })) });
    host.get('pins').add({ id: 1 });
    expect(heard).toEqual([{ id: 1 }]);
    expect(host.get('nope')).toBeNull();
  });
});

describe('picking and measure layers', () => {
  /** The two layers on a host with a fake panel and canvas; `ui` records the panel calls. */
  async function setup() {
    const { Group, Mesh, Vector3 } = await import('three');
    const { PickingLayer } = await import('../src/layers/picking.js');
    const { MeasureLayer } = await import('../src/layers/measure.js');
    const ui = [];
    const ctx = {
      renderer: { domElement: new EventTarget() },
      world: new Group(),
      handlers: {},
      sceneInfo: { mode: 'orbit', variants: null },
      ui: {
        showAttributes: (f) => ui.push(['show', f.properties.name]),
        hideAttributes: () => ui.push(['hide']),
        setMeasure: (r) => ui.push(['measure', r && (r === 'hint' ? r : Math.round(r.distance))]),
      },
    };
    const host = new LayerHost(ctx);
    const picking = host.register(new PickingLayer());
    const measuring = host.register(new MeasureLayer());
    const roof = new Mesh();
    roof.name = 'Rathaus';
    const hit = (x, y, z) => ({ object: roof, point: new Vector3(x, y, z) });
    return { ctx, host, picking, measuring, ui, hit };
  }

  it('a pick selects the building outside the measuring tool, and adds points inside it', async () => {
    const { ctx, host, picking, measuring, ui, hit } = await setup();
    host.emit('onPick', hit(0, 18, 0));
    expect(picking.picker.selected.properties).toEqual({ name: 'Rathaus' });
    expect(ui).toEqual([['show', 'Rathaus']]);
    ui.length = 0;
    ctx.sceneInfo.mode = 'measure';
    host.emit('onModeChanged', 'measure');
    host.emit('onPick', hit(0, 18, 0));
    host.emit('onPick', hit(3, 18, 4));
    expect(measuring.measure.result.distance).toBeCloseTo(5);
    expect(ui).toEqual([['measure', 'hint'], ['measure', 'hint'], ['measure', 5]]);
    expect(ctx.handlers.onCloseInfo).toBeTypeOf('function');
  });

  it('XR modes leave the measuring tool alone; a desktop mode change and Escape clear it', async () => {
    const { ctx, host, measuring, ui, hit } = await setup();
    ctx.sceneInfo.mode = 'measure';
    host.emit('onPick', hit(0, 0, 0));
    host.emit('onModeChanged', 'tabletop');
    expect(measuring.measure.points).toHaveLength(1);
    host.emit('onKey', { key: 'Escape' });
    expect(measuring.measure.points).toHaveLength(0);
    expect(ui.slice(-2)).toEqual([['hide'], ['measure', 'hint']]);
    host.emit('onPick', hit(0, 0, 0));
    ctx.sceneInfo.mode = 'orbit';
    host.emit('onModeChanged', 'orbit');
    expect(measuring.measure.points).toHaveLength(0);
    expect(ui.at(-1)).toEqual(['measure', null]);
  });

  it('a broken layer between them does not stop measuring', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { ctx, host, measuring, hit } = await setup();
    // Registered after both: its failure must not reach back, and the next pick still measures.
    host.register({
      name: 'pins',
      onPick: () => {
        throw new Error('no pin service');
      },
    });
    ctx.sceneInfo.mode = 'measure';
    host.emit('onPick', hit(0, 0, 0));
    host.emit('onPick', hit(0, 3, 0));
    expect(measuring.measure.result.height).toBeCloseTo(3);
    expect(host.failures.map((f) => f.layer)).toEqual(['pins']);
  });

  it('dispose takes the canvas listeners and the marks away', async () => {
    const { ctx, host, picking, hit } = await setup();
    host.emit('onPick', hit(0, 0, 0));
    host.dispose();
    expect(picking.picker.selected).toBeNull();
    expect(ctx.world.children).toHaveLength(0);
  });
});
