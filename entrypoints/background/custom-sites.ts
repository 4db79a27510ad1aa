import { browser } from 'wxt/browser';

/**
 * Sites no adapter knows, enabled by hand: the content script is registered for that origin
 * only, with the permission the person just granted, under an id of its own
 * (`realign-site-<host>`). Removing the permission (here, or in the browser's own settings)
 * unregisters it.
 */
const PREFIX = 'realign-site-';

function scriptIdFor(hostname: string): string {
  return `${PREFIX}${hostname.replace(/[^a-z0-9.-]/gi, '_')}`;
}

export async function setCustomSite(origin: string, enabled: boolean): Promise<{ ok: true } | { ok: false; message: string }> {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return { ok: false, message: 'Not a web address.' };
  }
  if (!/^https?:$/.test(parsed.protocol)) return { ok: false, message: 'Only http(s) sites can be enabled.' };
  const id = scriptIdFor(parsed.hostname);
  const pattern = `${parsed.protocol}//${parsed.hostname}/*`;
  await browser.scripting.unregisterContentScripts({ ids: [id] }).catch(() => undefined);
  if (!enabled) {
    await browser.permissions.remove({ origins: [pattern] }).catch(() => undefined);
    return { ok: true };
  }
  if (!(await browser.permissions.contains({ origins: [pattern] }))) {
    return { ok: false, message: `Realign has no permission for ${parsed.host}.` };
  }
  await browser.scripting.registerContentScripts([
    { id, matches: [pattern], js: ['content-scripts/content.js'], runAt: 'document_idle', persistAcrossSessions: true },
  ]);
  return { ok: true };
}

/** The origins enabled by hand, from the registered scripts (the one source of truth). */
export async function customSites(): Promise<string[]> {
  const scripts = await browser.scripting.getRegisteredContentScripts();
  return scripts
    .filter((script) => script.id.startsWith(PREFIX))
    .flatMap((script) => script.matches ?? [])
    .map((pattern) => new URL(pattern.replace('/*', '/')).origin);
}

/** A permission removed outside Realign (the browser's site settings) takes its script with it. */
export function unregisterOnPermissionRemoved(): void {
  browser.permissions.onRemoved.addListener(({ origins = [] }) => {
    const ids = origins.flatMap((pattern) => {
      try {
        return [scriptIdFor(new URL(pattern.replace('/*', '/')).hostname)];
      } catch {
        return [];
      }
    });
    if (ids.length === 0) return;
    // Unregistering an id that is not registered fails the whole call: ask only for ours.
    void browser.scripting.getRegisteredContentScripts({ ids }).then((found) => {
      if (found.length > 0) return browser.scripting.unregisterContentScripts({ ids: found.map((script) => script.id) });
    }).catch(() => undefined);
  });
}
