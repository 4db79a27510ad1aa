/**
 * Cost of the answer watcher on a chat page, in real headless Chromium: the demo chat page with a
 * 100-exchange conversation streams a 4,000-word answer in 400 chunks (one every ~10 ms), while
 * the watcher (sites/watcher.ts, bundled as the content script would be) watches it. We report
 * the main-thread time spent inside the watcher's own callbacks (its `stats.busyMs`, which times
 * the MutationObserver callback, its timers and its scans) as a share of the streaming wall time.
 *
 * Then the same on a page no adapter knows (the same conversation with class names only, the
 * answer marked aria-busy while it streams): the watcher runs on the shape adapter there. And the
 * shape adapter's own cost on the 100-exchange page: locating turns and answers (what the watcher
 * does per scan) and reading every exchange (findExchangesByShape).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ORIGIN = 'http://127.0.0.1:4173';

async function bundleWatcher(): Promise<string> {
  const out = await build({
    stdin: {
      contents:
        `import { watchAnswers } from './sites/watcher';\nimport { findExchangesByShape, locateByShape } from './sites/shape';\n` +
        `(globalThis as any).__realign = { watchAnswers, findExchangesByShape, locateByShape };`,
      resolveDir: ROOT,
      loader: 'ts',
      sourcefile: 'bench-entry.ts',
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0].text;
}

function longAnswer(words: number): string {
  const parts: string[] = [];
  let n = 0;
  let para = 0;
  while (n < words) {
    para++;
    if (para % 5 === 0) {
      parts.push('```python\n' + Array.from({ length: 6 }, (_, i) => `value_${para}_${i} = compute(${i})`).join('\n') + '\n```');
      n += 12;
    } else if (para % 3 === 0) {
      parts.push(Array.from({ length: 4 }, (_, i) => `- point ${i} of section ${para} explains one more detail`).join('\n'));
      n += 36;
    } else {
      const len = Math.min(60, words - n);
      parts.push(Array.from({ length: len }, (_, i) => `word${(n + i) % 97}`).join(' ') + '.');
      n += len;
    }
  }
  return parts.join('\n\n');
}

export default async function run(): Promise<Result[]> {
  const bundle = await bundleWatcher();
  const demo = readFileSync(resolve(ROOT, 'tests/fixtures/sites/demo.html'), 'utf8');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const script = readFileSync(resolve(ROOT, 'tests/fixtures/sites/demo-chat.js'), 'utf8');
    /** A new tab with the demo page (and its script) served at ORIGIN. */
    const demoPage = async () => {
      const tab = await browser.newPage();
      // tsx compiles the evaluated callbacks with esbuild's keepNames, which calls a `__name` helper.
      await tab.addInitScript({ content: 'window.__name = (f) => f;' });
      await tab.route(`${ORIGIN}/**`, (route) =>
        route.request().url().endsWith('.js')
          ? route.fulfill({ status: 200, contentType: 'text/javascript', body: script })
          : route.fulfill({ status: 200, contentType: 'text/html', body: demo }),
      );
      await tab.goto(`${ORIGIN}/demo.html`);
      return tab;
    };
    const page = await demoPage();

    // A 100-exchange conversation already on the page (finished answers with lists and code).
    await page.evaluate((text: string) => {
      const main = document.getElementById('conversation')!;
      main.innerHTML = '';
      const render = (window as unknown as { demoChat: { render(el: Element, t: string): void } }).demoChat.render;
      for (let i = 0; i < 100; i++) {
        const user = document.createElement('div');
        user.className = 'turn user';
        user.dataset.role = 'user';
        user.innerHTML = `<div class="turn-text">Question number ${i}?</div>`;
        const turn = document.createElement('div');
        turn.className = 'turn assistant';
        turn.dataset.role = 'assistant';
        turn.dataset.streaming = 'false';
        turn.innerHTML = '<div class="avatar" aria-hidden="true"></div><div class="answer-text"></div><div class="turn-actions"><button>Copy</button></div>';
        render(turn.querySelector('.answer-text')!, text);
        main.append(user, turn);
      }
    }, longAnswer(150));

    await page.addScriptTag({ content: bundle });
    const startup = await page.evaluate(async () => {
      const w = window as unknown as Record<string, any>;
      w.__stats = { mutationCallbacks: 0, scans: 0, extractions: 0, busyMs: 0 };
      w.__reports = [];
      w.__watcher = w.__realign.watchAnswers({
        quietMs: 1000,
        stats: w.__stats,
        onFinished: (ex: { answer: string; question: string }) => w.__reports.push({ q: ex.question, n: ex.answer.length }),
      });
      // Startup work, a deferred first cross-check included (it runs one quiet period after the first scan).
      await new Promise((r) => setTimeout(r, 1500));
      return { ...w.__stats };
    });

    const answer = longAnswer(4000);
    const words = answer.split(/\s+/).length;
    const chunks = Math.ceil(words / Math.ceil(words / 400));
    const measured = await page.evaluate(
      async ({ answer, words }) => {
        const w = window as unknown as Record<string, any>;
        const before = { ...w.__stats };
        const t0 = performance.now();
        // 400 chunks, one every ~10 ms.
        await w.demoChat.ask('Explain everything in detail.', answer, { chunkMs: 10, chunkWords: Math.ceil(words / 400) });
        const streamMs = performance.now() - t0;
        const deadline = performance.now() + 10_000;
        while (w.__reports.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const reportDelayMs = performance.now() - t0 - streamMs;
        await new Promise((r) => setTimeout(r, 1500)); // nothing more should come
        w.__watcher.stop();
        const after = w.__stats;
        return {
          streamMs,
          reportDelayMs,
          busyMs: after.busyMs - before.busyMs,
          callbacks: after.mutationCallbacks - before.mutationCallbacks,
          scans: after.scans - before.scans,
          extractions: after.extractions - before.extractions,
          reports: w.__reports as Array<{ q: string; n: number }>,
        };
      },
      { answer, words },
    );

    // The shape adapter's own cost on this 101-exchange page (median of several runs).
    const shapeCost = await page.evaluate(() => {
      const w = window as unknown as Record<string, any>;
      const median = (fn: () => unknown, runs: number): { ms: number; result: unknown } => {
        const times: number[] = [];
        let result: unknown;
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          result = fn();
          times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        return { ms: times[Math.floor(times.length / 2)], result };
      };
      const locate = median(() => w.__realign.locateByShape(document).answers.length, 9);
      const find = median(() => w.__realign.findExchangesByShape(document).length, 5);
      return { locateMs: locate.ms, answers: locate.result as number, findMs: find.ms, exchanges: find.result as number };
    });

    // The same streaming on a page no adapter knows: class names only, aria-busy while streaming.
    const unknown = await demoPage();
    await unknown.evaluate((text: string) => {
      document.querySelector('meta[name="realign-demo"]')?.remove();
      const main = document.getElementById('conversation')!;
      main.innerHTML = '';
      const render = (window as unknown as { demoChat: { render(el: Element, t: string): void } }).demoChat.render;
      for (let i = 0; i < 100; i++) {
        const user = document.createElement('div');
        user.className = 'turn user';
        user.innerHTML = `<div class="turn-text">Question number ${i}?</div>`;
        const turn = document.createElement('div');
        turn.className = 'turn assistant';
        turn.innerHTML = '<div class="avatar" aria-hidden="true"></div><div class="answer-text"></div><div class="turn-actions"><button>Copy</button></div>';
        render(turn.querySelector('.answer-text')!, text);
        main.append(user, turn);
      }
    }, longAnswer(150));
    await unknown.addScriptTag({ content: bundle });
    const shapeStartup = await unknown.evaluate(async () => {
      const w = window as unknown as Record<string, any>;
      w.__stats = { mutationCallbacks: 0, scans: 0, extractions: 0, busyMs: 0 };
      w.__reports = [];
      w.__health = [];
      w.__watcher = w.__realign.watchAnswers({
        quietMs: 1000,
        url: () => new URL('https://chat.example.org/c/1'),
        stats: w.__stats,
        onFinished: (ex: { answer: string; question: string; site: string }) => w.__reports.push({ q: ex.question, n: ex.answer.length, site: ex.site }),
        onHealth: (h: unknown) => w.__health.push(h),
      });
      // Startup work, a deferred first cross-check included (it runs one quiet period after the first scan).
      await new Promise((r) => setTimeout(r, 1500));
      return { ...w.__stats };
    });
    const onShape = await unknown.evaluate(
      async ({ answer, words }) => {
        const w = window as unknown as Record<string, any>;
        const render = w.demoChat.render as (el: Element, t: string) => void;
        const main = document.getElementById('conversation')!;
        const before = { ...w.__stats };
        const t0 = performance.now();
        const user = document.createElement('div');
        user.className = 'turn user';
        user.innerHTML = '<div class="turn-text">Explain everything in detail.</div>';
        const turn = document.createElement('div');
        turn.className = 'turn assistant';
        turn.setAttribute('aria-busy', 'true');
        turn.innerHTML = '<div class="avatar" aria-hidden="true"></div><div class="answer-text"></div><div class="turn-actions"><button>Copy</button></div>';
        main.append(user, turn);
        const container = turn.querySelector('.answer-text')!;
        const pieces = answer.match(/\S+\s*/g) ?? [];
        const per = Math.ceil(words / 400);
        for (let i = 0; i < pieces.length; i += per) {
          await new Promise((r) => setTimeout(r, 10));
          render(container, pieces.slice(0, i + per).join('').trim());
        }
        turn.setAttribute('aria-busy', 'false');
        const streamMs = performance.now() - t0;
        const deadline = performance.now() + 10_000;
        while (w.__reports.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const reportDelayMs = performance.now() - t0 - streamMs;
        await new Promise((r) => setTimeout(r, 1500));
        w.__watcher.stop();
        const after = w.__stats;
        return {
          streamMs,
          reportDelayMs,
          busyMs: after.busyMs - before.busyMs,
          scans: after.scans - before.scans,
          extractions: after.extractions - before.extractions,
          reports: w.__reports as Array<{ q: string; n: number; site: string }>,
          health: w.__health as Array<{ site: string; status: string }>,
        };
      },
      { answer, words },
    );
    const shapeReportsRight = onShape.reports.length === 1 && onShape.reports[0].site === 'shape' && onShape.reports[0].q === 'Explain everything in detail.';

    const share = (measured.busyMs / measured.streamMs) * 100;
    const shapeShare = (onShape.busyMs / onShape.streamMs) * 100;
    return [
      {
        name: 'watcher main-thread share while streaming',
        value: Number(share.toFixed(3)),
        unit: '%',
        budget: '< 1 %',
        note: `${words} words in ${chunks} chunks over ${measured.streamMs.toFixed(0)} ms, 100 exchanges on the page; includes the final read of the answer`,
      },
      { name: 'watcher busy time while streaming', value: Number(measured.busyMs.toFixed(2)), unit: 'ms' },
      { name: 'watcher startup (100 exchanges)', value: Number(startup.busyMs.toFixed(2)), unit: 'ms', note: 'first 1.5 s: baseline read of the old answers, the shape cross-check' },
      { name: 'mutation callbacks while streaming', value: measured.callbacks, unit: 'count' },
      { name: 'scans while streaming', value: measured.scans, unit: 'count' },
      { name: 'answer texts read while streaming', value: measured.extractions, unit: 'count' },
      { name: 'reports for the streamed answer', value: measured.reports.length, unit: 'count', budget: '= 1' },
      { name: 'report delay after the stream ended', value: Number(measured.reportDelayMs.toFixed(0)), unit: 'ms', note: 'quiet period 1000 ms' },
      {
        name: 'shape adapter: locate turns and answers (101 exchanges)',
        value: Number(shapeCost.locateMs.toFixed(2)),
        unit: 'ms',
        budget: '< 16 ms',
        note: `median of 9; ${shapeCost.answers} answers located; what a watcher scan on shape costs`,
      },
      {
        name: 'shape adapter: findExchangesByShape (101 exchanges)',
        value: Number(shapeCost.findMs.toFixed(2)),
        unit: 'ms',
        note: `median of 5; ${shapeCost.exchanges} exchanges with their texts`,
      },
      {
        name: 'watcher on shape (unknown site): main-thread share while streaming',
        value: Number(shapeShare.toFixed(3)),
        unit: '%',
        budget: '< 1 %',
        note: `same stream over ${onShape.streamMs.toFixed(0)} ms; ${onShape.scans} scans, ${onShape.extractions} texts read; health ${JSON.stringify(onShape.health)}`,
      },
      { name: 'watcher on shape (unknown site): startup (100 exchanges)', value: Number(shapeStartup.busyMs.toFixed(2)), unit: 'ms', note: 'first 1.5 s' },
      {
        name: 'watcher on shape (unknown site): reports for the streamed answer',
        value: onShape.reports.length,
        unit: 'count',
        budget: '= 1',
        note: shapeReportsRight ? "site 'shape', question right" : `wrong: ${JSON.stringify(onShape.reports)}`,
      },
      { name: 'watcher on shape (unknown site): report delay after the stream ended', value: Number(onShape.reportDelayMs.toFixed(0)), unit: 'ms' },
    ];
  } finally {
    await browser.close();
  }
}
