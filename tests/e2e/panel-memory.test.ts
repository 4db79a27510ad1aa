import { afterAll, beforeAll, expect, test } from 'vitest';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM } from '../support/chromium';

let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless=new', '--no-sandbox', '--js-flags=--expose-gc'] });
});
afterAll(async () => {
  await browser?.close();
});

/** The panel code exactly as the content script bundles it, with a starter that finishes at once. */
async function panelBundle(): Promise<string> {
  const out = await build({
    stdin: {
      contents: `
        import { mountPanel } from './components/mount';
        (globalThis as any).__mountMany = (count: number) => {
          const anchor = document.getElementById('answer')!;
          for (let i = 0; i < count; i++) {
            const panel = mountPanel(anchor, {
              original: 'The weather is bad today.', question: 'How is the weather?', autoStart: true,
              initialView: 'changes', theme: 'light',
              start: (_q, onUpdate) => { onUpdate({ kind: 'done', text: 'The weather is good today.', notes: [], tokens: 6, ms: 1 }); return { cancel() {}, approve() {} }; },
            });
            panel.unmount();
          }
        };`,
      resolveDir: process.cwd(),
      loader: 'tsx',
    },
    bundle: true,
    format: 'iife',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    loader: { '.css': 'text' },
    plugins: [
      {
        name: 'inline-css',
        setup(context) {
          context.onResolve({ filter: /\?inline$/ }, (args) => ({ path: `${args.resolveDir}/${args.path.replace('?inline', '')}` }));
        },
      },
    ],
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

test('memory stays flat after 1,000 panels are mounted and dismissed', async () => {
  const page = await browser.newPage();
  await page.setContent('<div id="answer"><p>The weather is bad today.</p></div>');
  await page.addScriptTag({ content: await panelBundle() });
  const heapAfter = (count: number) =>
    page.evaluate(async (n) => {
      const w = window as unknown as { __mountMany(n: number): void; gc(): void };
      w.__mountMany(n);
      await new Promise((resolve) => setTimeout(resolve, 50));
      w.gc();
      return (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize;
    }, count);
  await heapAfter(100); // warm up: JIT, the shared stylesheet
  const baseline = await heapAfter(0);
  const after = await heapAfter(1000);
  expect(await page.locator('realign-panel').count()).toBe(0);
  // Leaking even 1 KB per panel would show as 1 MB here.
  expect(after - baseline).toBeLessThan(512 * 1024);
  await page.close();
});
