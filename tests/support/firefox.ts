import puppeteer, { type Browser } from 'puppeteer-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/** Debian's Firefox ESR, headless, driven over WebDriver BiDi, with the built add-on installed. */
export async function launchFirefoxWithExtension(extensionPath: string): Promise<Browser> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: mkdtempSync(join(tmpdir(), 'realign-firefox-')),
    extraPrefsFirefox: {
      // No network beyond the machine: keep Firefox from calling home.
      'app.update.enabled': false,
      'browser.shell.checkDefaultBrowser': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      'extensions.getAddons.cache.enabled': false,
      'network.captive-portal-service.enabled': false,
    },
  });
  await browser.installExtension(extensionPath);
  return browser;
}
