/** transformers.js keeps downloaded weights in this Cache Storage cache (its env.cacheKey). */
export const MODEL_CACHE_NAME = 'transformers-cache';

/** Bytes and files of downloaded models (Cache API, shared by the background and the engine page). */
export async function modelCacheUsage(): Promise<{ bytes: number; files: number }> {
  if (!(await caches.has(MODEL_CACHE_NAME))) return { bytes: 0, files: 0 };
  const cache = await caches.open(MODEL_CACHE_NAME);
  let bytes = 0;
  const requests = await cache.keys();
  for (const request of requests) {
    const response = await cache.match(request);
    const length = Number(response?.headers.get('content-length'));
    bytes += Number.isFinite(length) && length > 0 ? length : ((await response?.blob())?.size ?? 0);
  }
  return { bytes, files: requests.length };
}

export async function clearModelCache(): Promise<{ bytes: number; files: number }> {
  const before = await modelCacheUsage();
  await caches.delete(MODEL_CACHE_NAME);
  return before;
}

async function cachedUrlsOf(host: string, repo: string): Promise<string[]> {
  if (typeof caches === 'undefined' || !(await caches.has(MODEL_CACHE_NAME))) return [];
  const prefix = `${host.replace(/\/?$/, '/')}${repo}/resolve/`;
  const keys = await (await caches.open(MODEL_CACHE_NAME)).keys();
  return keys.map((request) => request.url).filter((url) => url.startsWith(prefix));
}

/**
 * Whether a model is in the cache: its weights (an .onnx file of that host and repo) and its
 * config.json. A conversion writes config.json last, so one cut short does not count.
 */
export async function modelWeightsCached(host: string, repo: string): Promise<boolean> {
  const urls = await cachedUrlsOf(host, repo);
  return urls.some((url) => url.endsWith('.onnx')) && urls.some((url) => url.endsWith('/config.json'));
}

/** Removes every cached file of one model (e.g. what a conversion cut short left behind). */
export async function removeCachedModel(host: string, repo: string): Promise<number> {
  const urls = await cachedUrlsOf(host, repo);
  if (urls.length === 0) return 0;
  const cache = await caches.open(MODEL_CACHE_NAME);
  await Promise.all(urls.map((url) => cache.delete(url)));
  return urls.length;
}
