/**
 * Scene sources: the twin server's HTTP API (`GET /api/scenes`) or a static build folder
 * (`?scene=<url to scene.json>`) or any tileset (`?tileset=<url>`). Every source is turned into
 * the same scene object (scene.json, docs/architecture.md) with absolute tileset URLs.
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
 * Decide what to show from the page's query string: `?tileset=`, `?scene=`, else the server's
 * scene list (optionally `?id=<scene id>`).
 * @param {URLSearchParams} params
 * @returns {Promise<{scenes: object[], scene: object|null}>}
 */
export async function resolveScenes(params) {
  if (params.get('tileset')) {
    const scene = sceneForTileset(params.get('tileset'), location.href);
    return { scenes: [scene], scene };
  }
  if (params.get('scene')) {
    const scene = await loadScene(params.get('scene'));
    return { scenes: [scene], scene };
  }
  const scenes = await listScenes();
  const wanted = params.get('id');
  return { scenes, scene: scenes.find((s) => s.id === wanted) ?? scenes[0] ?? null };
}
