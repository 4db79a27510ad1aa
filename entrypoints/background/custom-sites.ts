import { browser } from 'wxt/browser';

/**
 * A site no adapter knows, enabled by hand: the content script (generic adapter: selection and
 * shortcut) is registered for that origin only, with the permission the person just granted.
 */
export async function setCustomSite(origin: string, enabled: boolean): Promise<{ ok: boolean; message?: string }> {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return { ok: false, message: 'Not a web address.' };
  }
  if (!/^https?:$/.test(parsed.protocol)) return { ok: false, message: 'Only http(s) sites can be enabled.' };
  const id = `realign-site-${parsed.host.replace(/[^a-z0-9.-]/gi, '_')}`;
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
