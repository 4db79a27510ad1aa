import { startHubServer, type HubServer } from './hub-server';
import { launchWithExtension, setSettings, tinyAlignerSettings, type ExtensionBrowser } from './chromium';

export const TINY_ALIGNER = 'tests/fixtures/models/tiny-aligner';

/**
 * The usual e2e setup: the tiny Aligner and the site fixtures served like the hub, Chromium with
 * the demo build, and settings that point Realign at that local hub.
 */
export async function startTinyAlignerBrowser(options: { webgpu?: boolean; repos?: string[]; args?: string[] } = {}): Promise<{
  hub: HubServer;
  browser: ExtensionBrowser;
  close(): Promise<void>;
}> {
  const repos = Object.fromEntries((options.repos ?? ['realign/tiny-aligner']).map((repo) => [repo, TINY_ALIGNER]));
  const hub = await startHubServer({ repos, pages: 'tests/fixtures/sites' });
  const browser = await launchWithExtension({ webgpu: options.webgpu ?? false, args: options.args });
  await setSettings(browser.worker, tinyAlignerSettings(hub.url));
  return {
    hub,
    browser,
    close: async () => {
      await browser.close();
      await hub.close();
    },
  };
}
