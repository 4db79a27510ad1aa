// `npm start`: build the extension, serve the demo chat page and the tiny Aligner locally (laid
// out like the Hugging Face hub), and open Chromium with Realign on it. With no display it runs
// headless and writes a screenshot of the corrected answer instead.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { startHubServer, type HubServerOptions } from '../tests/support/hub-server';
import { CHROME_DEMO_BUILD, CHROMIUM, chromiumArgs, setSettings, tinyAlignerSettings } from '../tests/support/chromium';
import { PortInUseError } from '../tests/support/loopback';
import { askDemo } from '../tests/support/demo-page';

const headed = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY) && !process.env.CI;
console.log('Building the extension (demo build)…');
execFileSync('npx', ['wxt', 'build', '--mode', 'demo'], { stdio: ['ignore', 'ignore', 'inherit'] });

const served: HubServerOptions = {
  repos: { 'realign/tiny-aligner': resolve('tests/fixtures/models/tiny-aligner') },
  pages: resolve('tests/fixtures/sites'),
};
// 8765 is where the demo build looks by default; when another program holds it, any free port
// does (the settings written below point the extension there).
const hub = await startHubServer({ ...served, port: 8765 }).catch((error: unknown) => {
  if (!(error instanceof PortInUseError)) throw error;
  console.log(`${error.message} Using a free port instead.`);
  return startHubServer(served);
});
const demoUrl = `${hub.url}/pages/demo.html`;
console.log(`Demo chat page: ${demoUrl}`);

const context = await chromium.launchPersistentContext('', {
  executablePath: CHROMIUM,
  headless: !headed,
  viewport: { width: 1000, height: 760 },
  args: chromiumArgs(CHROME_DEMO_BUILD, { webgpu: true, headless: !headed }),
});
const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 30_000 }));
await setSettings(worker, tinyAlignerSettings(hub.url));
const page = context.pages()[0] ?? (await context.newPage());
await page.goto(demoUrl);
await page.waitForSelector('html[data-realign-active]');
await askDemo(page, 'How is the weather?', 'The weather is bad today.', { chunkMs: 120 });

if (headed) {
  console.log('Chromium is open with Realign. Ask more in the demo page (the tiny model knows a toy grammar: try answers with "bad" or "never"). Ctrl+C to quit.');
  await new Promise<void>((done) => context.on('close', () => done()));
} else {
  // The panel's shadow root is closed (no page script, nor this one, reads it): its host mirrors the phase.
  const panel = page.locator('realign-panel[data-phase="done"], realign-panel[data-phase="error"]');
  await panel.first().waitFor({ timeout: 120_000 });
  const phase = await panel.first().getAttribute('data-phase');
  mkdirSync('screenshots', { recursive: true });
  const file = resolve('screenshots/demo.png');
  await page.screenshot({ path: file });
  console.log(`No display: ran headless. ${phase === 'done' ? 'Realign corrected the answer' : 'The correction failed'}; see the screenshot: ${file}`);
  if (phase !== 'done') process.exitCode = 1;
  await context.close();
}
await hub.close();
