/**
 * Hostile inputs in a real chat tab: the longest main-thread block (long task) of the page
 * while Realign handles each one, from the answer finishing to the panel's final state (and, for
 * Markdown, showing the Corrected view). The model is a loopback server that streams what each
 * case says, through the remote engine. Goal: no block over 200 ms for any input of ≤ 1 MB
 * (issue 12). Node-side timings of the same inputs: tests/bench/hostile.bench.ts.
 */
import { createServer } from 'node:http';
import { launchWithExtension, setSettings, tinyAlignerSettings, type ExtensionBrowser } from '../support/chromium';
import { askDemo, openPage } from '../support/demo-page';
import { hugeQuestion, markdownCases, shortParagraphs, streamCases } from '../support/hostile-inputs';
import { startHubServer } from '../support/hub-server';
import { listenOnLoopback } from '../support/loopback';
import { Panels } from '../support/panels';
import { generateAnswer, seededRandom } from '../support/prose';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };

/** What the fake model streams for the next request: the answer echoed, or a given SSE body. */
let nextBody: ((prompt: string) => string[]) | null = null;
const sse = (piece: string) => `data: ${JSON.stringify({ choices: [{ text: piece }] })}\n\n`;
const echo = (prompt: string): string[] => {
  const answer = prompt.slice(prompt.lastIndexOf('| ') + 2, prompt.lastIndexOf(' ASSISTANT:'));
  const pieces = answer.match(/.{1,24}/gs) ?? [];
  return [...pieces.map(sse), 'data: [DONE]\n\n'];
};

async function startModelServer() {
  const server = createServer((req, res) => {
    const cors = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': '*' };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    if (req.url?.endsWith('/v1/models')) return void res.writeHead(200, { ...cors, 'Content-Type': 'application/json' }).end(JSON.stringify({ data: [{ id: 'm' }] }));
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      const prompt = String((JSON.parse(body) as { prompt?: string }).prompt ?? '');
      res.writeHead(200, { ...cors, 'Content-Type': 'text/event-stream' });
      const chunks = (nextBody ?? echo)(prompt);
      // Delivered as a network would: in pieces, with a pause now and then.
      for (const [i, chunk] of chunks.entries()) {
        if (res.destroyed) return;
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        if (i % 64 === 63) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      res.end();
    });
  });
  return listenOnLoopback(server);
}

interface Case {
  name: string;
  question: string;
  answer: string;
  model?: (prompt: string) => string[];
  /** Show the Corrected view at the end (Markdown rendering of the model's output). */
  corrected?: boolean;
}

function cases(): Case[] {
  const prose = (chars: number, seed: number) => generateAnswer(seededRandom(seed), chars);
  const list: Case[] = [
    { name: 'answer: 1 MB (refused as too long)', question: 'Explain.', answer: prose(1_000_000, 1) },
    { name: 'answer: 58 KB of prose, corrected', question: 'Explain.', answer: prose(58_000, 2), corrected: true },
    { name: 'question: 100 KB, answer: 3,000 short paragraphs', question: hugeQuestion(100_000), answer: shortParagraphs(3_000) },
    { name: 'question: 1 MB', question: hugeQuestion(1_000_000), answer: prose(2_000, 3) },
  ];
  for (const stream of streamCases()) {
    list.push({ name: `remote stream: ${stream.name}`, question: 'Q?', answer: prose(3_000, 4), model: () => stream.chunks });
  }
  for (const markdown of markdownCases().filter((entry) => !entry.name.includes('1 MB'))) {
    const pieces = (markdown.text.match(/[\s\S]{1,64}/g) ?? []).map(sse);
    // A long answer, so the correction may be long too (a correction is capped at 3× its answer).
    list.push({ name: `model output Markdown: ${markdown.name}`, question: 'Q?', answer: prose(40_000, 5), model: () => [...pieces, 'data: [DONE]\n\n'], corrected: true });
  }
  return list;
}

async function measure(browser: ExtensionBrowser, pageUrl: string, entry: Case): Promise<{ longest: number; phase: string; shown: string }> {
  nextBody = entry.model ?? null;
  const page = await openPage(browser, pageUrl);
  await page.evaluate(() => {
    const w = window as unknown as { __long: number[] };
    w.__long = [];
    new PerformanceObserver((list) => {
      for (const item of list.getEntries()) w.__long.push(item.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
  await askDemo(page, entry.question, entry.answer, { chunkMs: 5, chunkWords: 4000 });
  const panels = await Panels.of(page);
  const final = await panels.waitFor((panel) => panel.phase === 'done' || panel.phase === 'error', { timeout: 180_000, what: 'finished' });
  if (entry.corrected && final.phase === 'done' && final.controls.some((control) => control.name === 'corrected')) {
    if (final.body === null) await panels.click('collapse');
    await panels.click('corrected');
    await page.waitForTimeout(500);
  }
  const last = await panels.at(-1);
  const shown = last?.view ? `${last.view} view, ${Math.round((last.body?.length ?? 0) / 1000)} KB shown` : last?.status.slice(0, 60) ?? '';
  await page.waitForTimeout(300);
  const long = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
  await panels.close();
  await page.close();
  return { longest: Math.round(Math.max(0, ...long)), phase: final.phase, shown };
}

export default async function run(): Promise<Result[]> {
  const hub = await startHubServer({ repos: {}, pages: 'tests/fixtures/sites' });
  const model = await startModelServer();
  const browser = await launchWithExtension({ webgpu: false });
  const results: Result[] = [];
  try {
    await setSettings(browser.worker, {
      ...tinyAlignerSettings(hub.url),
      engine: 'remote',
      remoteEndpoint: model.url,
      remoteModel: 'm',
      remoteTemplate: 'aligner-v1',
      maxNewTokens: 32_768,
      customContextLength: 8192,
    });
    for (const entry of cases()) {
      const { longest, phase, shown } = await measure(browser, `${hub.url}/pages/demo.html`, entry);
      results.push({ name: `longest block in the tab, ${entry.name}`, value: longest, unit: 'ms', budget: '≤ 200', note: `${phase}: ${shown}` });
    }
  } finally {
    await browser.close();
    await model.close();
    await hub.close();
  }
  return results;
}
