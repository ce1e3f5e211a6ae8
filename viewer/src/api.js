/**
 * Scene sources: the twin server's HTTP API (`GET /api/scenes`) or a static build folder
 * (`?scene=<url to scene.json>`, a draft as `#preview=<url>`) or a tileset (`?tileset=<url>`), each
 * only of this site or an allowed origin. Every source is turned into the same scene object
 * (scene.json, docs/architecture.md) with absolute tileset URLs.
 */

/**
 * Resolve the tileset URLs of a scene.json against the URL it came from, so a build folder works
 * from disk, from any static server and from the twin server unchanged.
 * @param {object} scene parsed scene.json
 * @param {string} baseUrl the URL scene.json was read from (or the page URL)
 * @returns {object} a copy with absolute `tileset` URLs and defaults for missing fields
 */
export function normaliseScene(scene, baseUrl) {
  // The twin server answers with absolute `tileset_url`s next to the build folder's relative
  // `tileset`s (which are relative to the scene's folder, not to /api/scenes): prefer those.
  const abs = (u) => new URL(u, baseUrl).href;
  const sceneUrl = scene.tileset_url ?? abs(scene.tileset ?? 'tileset.json');
  const fromScene = (u) => new URL(u, sceneUrl).href;
  return {
    id: scene.id ?? 'scene',
    title: scene.title ?? scene.id ?? 'Scene',
    origin: scene.origin ?? null,
    bounds: scene.bounds ?? null,
    attribution: scene.attribution ?? [],
    licenses: scene.licenses ?? [],
    metrics: scene.metrics ?? null,
    ...scene,
    tileset: sceneUrl,
    variants: (scene.variants ?? []).map((v) => ({
      title: v.id,
      designs: [],
      removed: [],
      metrics_delta: {},
      ...v,
      tileset: v.tileset_url ?? fromScene(v.tileset ?? `variants/${v.id}/tileset.json`),
    })),
  };
}

/**
 * A scene for a bare tileset URL (no metadata, no variants).
 * @param {string} url
 * @param {string} pageUrl
 * @returns {object}
 */
export function sceneForTileset(url, pageUrl) {
  const href = new URL(url, pageUrl).href;
  const name = decodeURIComponent(href.split('/').slice(-2, -1)[0] || 'tileset');
  return normaliseScene({ id: name, title: name, tileset: href, variants: [] }, href);
}

/**
 * Fetch JSON with a clear error naming the URL.
 * @param {string} url
 * @returns {Promise<any>}
 */
export async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/**
 * List the published scenes from the twin server; an empty list when there is no server.
 * @param {string} [base] server root, default: the page's origin
 * @returns {Promise<object[]>}
 */
export async function listScenes(base = location.origin) {
  const url = new URL('/api/scenes', base).href;
  try {
    const scenes = await fetchJson(url);
    const list = Array.isArray(scenes) ? scenes : (scenes.scenes ?? []);
    return list.map((s) => normaliseScene(s, url));
  } catch {
    return [];
  }
}

/**
 * Load one scene.json by URL.
 * @param {string} url
 * @returns {Promise<object>}
 */
export async function loadScene(url) {
  const href = new URL(url, location.href).href;
  return normaliseScene(await fetchJson(href), href);
}

/**
 * Origins besides the page's own whose scenes and tilesets a link may name: the page's
 * `<meta name="twin-scene-origins" content="https://a.example https://b.example">`, if any.
 * @returns {string[]}
 */
export function configuredOrigins() {
  const meta = globalThis.document?.querySelector?.('meta[name="twin-scene-origins"]');
  return (meta?.getAttribute('content') ?? '').split(/\s+/).filter(Boolean);
}

/**
 * The absolute URL of a scene or tileset named in a link, if it is on this site (or an allowed
 * origin); otherwise an error. A link must not make this site show someone else's content under
 * its name (`/?scene=https://evil.example/scene.json`).
 * @param {string} url as written in the link
 * @param {string} pageUrl the page's URL
 * @param {string[]} [allowed] further origins, e.g. from {@link configuredOrigins}
 * @returns {string}
 */
export function trustedSource(url, pageUrl, allowed = []) {
  const href = new URL(url, pageUrl);
  const page = new URL(pageUrl);
  if (href.origin === page.origin || allowed.includes(href.origin)) return href.href;
  throw new Error(`${href.origin} is not this site: the viewer only opens scenes of ${page.origin}`);
}

/**
 * A draft preview named in the page's fragment (`#preview=<scene.json url>`): the planner page links
 * previews this way because a fragment is never sent to a server, so the draft's URL (its only
 * secret) stays out of server logs, `Referer` headers and shared history of query strings.
 * @param {string} hash `location.hash`
 * @returns {string|null}
 */
export function previewFromHash(hash) {
  const value = new URLSearchParams((hash ?? '').replace(/^#/, '')).get('preview');
  return value || null;
}

/**
 * Decide what to show: a preview in the fragment, `?tileset=`, `?scene=` (each only of this site or
 * an allowed origin), else the server's scene list (optionally `?id=<scene id>`).
 * @param {URLSearchParams} params
 * @param {string} [hash] the page's fragment, default `location.hash`
 * @param {string[]} [allowed] further origins links may name, default {@link configuredOrigins}
 * @returns {Promise<{scenes: object[], scene: object|null}>}
 */
export async function resolveScenes(params, hash = location.hash, allowed = configuredOrigins()) {
  const preview = previewFromHash(hash);
  if (preview || params.get('scene')) {
    const scene = await loadScene(trustedSource(preview ?? params.get('scene'), location.href, allowed));
    return { scenes: [scene], scene };
  }
  if (params.get('tileset')) {
    const scene = sceneForTileset(trustedSource(params.get('tileset'), location.href, allowed), location.href);
    return { scenes: [scene], scene };
  }
  const scenes = await listScenes();
  const wanted = params.get('id');
  return { scenes, scene: scenes.find((s) => s.id === wanted) ?? scenes[0] ?? null };
}
