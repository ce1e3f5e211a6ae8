import { afterEach, describe, expect, it, vi } from 'vitest';
import { Quaternion, Vector3 } from 'three';
import { VisitConnection, normaliseCode, socketURL } from '../src/visit/connection.js';
import { gatherSpot, yawOf } from '../src/layers/visit.js';

/** A WebSocket stand-in: records what is sent, lets the test deliver messages and closes. */
class FakeSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 1;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close(code = 1000) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
  deliver(msg) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v), removeItem: (k) => m.delete(k) };
}

function connection(extra = {}) {
  const messages = [];
  const c = new VisitConnection({
    code: 'ACD3467',
    name: 'Ann',
    onMessage: (m) => messages.push(m),
    WebSocketImpl: FakeSocket,
    storage: memoryStorage(),
    base: 'https://lab.example/viewer/?id=demo',
    ...extra,
  });
  return { c, messages };
}

afterEach(() => {
  FakeSocket.all = [];
  vi.useRealTimers();
});

describe('join codes and URLs', () => {
  it('accepts codes as people type them and refuses what cannot be one', () => {
    expect(normaliseCode(' acd-3467 ')).toBe('ACD3467');
    expect(normaliseCode('ACD0467')).toBeNull(); // 0 is not in the alphabet
    expect(normaliseCode('ACD')).toBeNull();
  });

  it('builds the WebSocket URL on the page origin with wss for https', () => {
    const url = new URL(socketURL('ACD3467', { name: 'Ann Lee', role: 'guest', key: null }, 'https://lab.example/x/?id=demo'));
    expect(url.protocol).toBe('wss:');
    expect(url.pathname).toBe('/ws/visits/ACD3467');
    expect(url.searchParams.get('name')).toBe('Ann Lee');
    expect(url.searchParams.has('key')).toBe(false);
  });
});

describe('VisitConnection', () => {
  it('keeps the resume token and comes back with it after a drop', () => {
    vi.useFakeTimers();
    const { c, messages } = connection();
    c.connect();
    const first = FakeSocket.all[0];
    expect(new URL(first.url).searchParams.get('name')).toBe('Ann');
    first.deliver({ v: 1, t: 'welcome', you: 'p2', resume: 'tok1' });
    expect(c.status).toBe('open');
    expect(messages[0].you).toBe('p2');
    first.close(1006); // network gone
    expect(c.status).toBe('reconnecting');
    vi.advanceTimersByTime(300);
    const second = FakeSocket.all[1];
    const query = new URL(second.url).searchParams;
    expect(query.get('resume')).toBe('tok1');
    expect(query.has('name')).toBe(false);
  });

  it('joins anew when the server no longer knows the resume token, and stops on final close codes', () => {
    vi.useFakeTimers();
    const { c } = connection();
    c.resume = 'old';
    c.connect();
    const ws = FakeSocket.all[0];
    ws.deliver({ v: 1, t: 'error', code: 'bad_resume', detail: 'unknown resume token' });
    ws.close(4403);
    vi.advanceTimersByTime(10);
    expect(new URL(FakeSocket.all[1].url).searchParams.get('name')).toBe('Ann');
    FakeSocket.all[1].close(4404); // unknown code: reconnecting cannot help
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(c.status).toBe('closed');
  });

  it('sends poses at a steady rate, the latest one winning', () => {
    vi.useFakeTimers();
    const { c } = connection();
    c.connect();
    const ws = FakeSocket.all[0];
    ws.deliver({ v: 1, t: 'welcome', you: 'p2', resume: 't' });
    for (let i = 0; i < 10; i++) c.sendPose({ h: [i, 0, 0, 0, 0, 0, 1], s: 1 });
    vi.advanceTimersByTime(100);
    expect(ws.sent).toEqual([{ v: 1, t: 'pose', h: [9, 0, 0, 0, 0, 0, 1], s: 1 }]);
    expect(c.send('state', { variant: 'tower' })).toBe(true);
    c.close();
    expect(c.send('state', { variant: 'x' })).toBe(false);
  });
});

describe('gathering', () => {
  it('lines people up beside the host, alternately right and left', () => {
    const at = new Vector3(10, 0, 5);
    const yaw = 0; // facing -Z: the right is +X
    expect(gatherSpot(at, yaw, 0).toArray()).toEqual([11.2, 0, 5]);
    expect(gatherSpot(at, yaw, 1).toArray()).toEqual([8.8, 0, 5]);
    expect(gatherSpot(at, yaw, 2).x).toBeCloseTo(12.4);
  });

  it('reads the heading out of a rotation', () => {
    const q = new Quaternion().setFromAxisAngle(new Vector3(0, 1, 0), 1.2);
    expect(yawOf(q)).toBeCloseTo(1.2);
  });
});
