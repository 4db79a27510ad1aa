/** WebExtension match patterns (`<scheme>://<host>/<path>`), evaluated against a URL. Ports are ignored, as browsers do. */

const cache = new Map<string, RegExp | null>();

function escape(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function compile(pattern: string): RegExp | null {
  if (pattern === '<all_urls>') return /^(?:https?|wss?|file|ftp):\/\//;
  const m = /^(\*|https?|wss?|file|ftp):\/\/([^/]*)(\/.*)$/.exec(pattern);
  if (m === null) return null;
  const [, scheme, host, path] = m;
  const schemePart = scheme === '*' ? 'https?' : escape(scheme);
  let hostPart: string;
  if (host === '*') hostPart = '[^/]*';
  else if (host.startsWith('*.')) hostPart = `(?:[^/]*\\.)?${escape(host.slice(2))}`;
  else hostPart = escape(host);
  const pathPart = path.split('*').map(escape).join('.*');
  return new RegExp(`^${schemePart}://${hostPart}${pathPart}$`);
}

export function matchesPattern(pattern: string, url: URL): boolean {
  let re = cache.get(pattern);
  if (re === undefined) {
    re = compile(pattern);
    cache.set(pattern, re);
  }
  if (re === null) return false;
  // Host without port; path with query, as the manifest's matcher sees it (fragment excluded).
  const target = `${url.protocol.slice(0, -1)}://${url.hostname}${url.pathname}${url.search}`;
  return re.test(target);
}
