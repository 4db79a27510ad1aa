// Renders the extension's icons (public/icon/{16,32,48,128}.png) from the SVGs beside this file
// with Debian's Chromium: `node --import tsx scripts/icons/build.ts`. The PNGs are committed.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM } from '../../tests/support/chromium';

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless=new', '--no-sandbox'] });
const page = await browser.newPage();
for (const size of [16, 32, 48, 128]) {
  const svg = readFileSync(resolve('scripts/icons', size <= 32 ? 'icon-small.svg' : 'icon.svg'), 'utf8');
  await page.setViewportSize({ width: size, height: size });
  await page.setContent(`<body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body>`);
  await page.screenshot({ path: resolve('public/icon', `${size}.png`), omitBackground: true });
}
await browser.close();
