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

/** Whether a model's weights (an .onnx file of that host and repo) are in the cache. */
export async function modelWeightsCached(host: string, repo: string): Promise<boolean> {
  if (typeof caches === 'undefined' || !(await caches.has(MODEL_CACHE_NAME))) return false;
  const prefix = `${host.replace(/\/?$/, '/')}${repo}/resolve/`;
  const keys = await (await caches.open(MODEL_CACHE_NAME)).keys();
  return keys.some((request) => request.url.startsWith(prefix) && request.url.endsWith('.onnx'));
}
