import type { Page } from 'playwright-core';
import type { ExtensionBrowser } from './chromium';

/** Helpers for driving tests/fixtures/sites/demo.html (and pages built like it) with Realign loaded. */

export interface Streamed {
  /** The new assistant turn's outerHTML the moment the demo page finished streaming it. */
  turnHtml: string;
  /** Its `.answer-text` element's outerHTML at that moment. */
  answerHtml: string;
  /** document.body.innerHTML / document.head.innerHTML at that moment. */
  bodyHtml: string;
  headHtml: string;
  /** Whether any Realign panel was in that turn already (it must not be: the answer just finished). */
  panelAlready: boolean;
}

/** Opens a page of the local server and waits for the demo build's content script to be live. */
export async function openPage(browser: ExtensionBrowser, url: string, options: { colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
  const page = await browser.context.newPage();
  if (options.colorScheme) await page.emulateMedia({ colorScheme: options.colorScheme });
  await page.goto(url);
  await page.waitForSelector('html[data-realign-active]');
  return page;
}

/**
 * Streams a question/answer pair into the demo chat and returns snapshots taken the moment
 * the page marks the answer finished (before Realign can have mounted anything). The new turn
 * and its answer element are kept as `window.__turn` / `window.__answer`.
 */
export async function streamAnswer(page: Page, question: string, answer: string): Promise<Streamed> {
  return page.evaluate(
    async ([q, a]) => {
      const w = window as unknown as { demoChat: { ask(q: string, a: string, o: object): Promise<Element> }; __turn: Element; __answer: Element };
      const turn = await w.demoChat.ask(q!, a!, { chunkMs: 15 });
      w.__turn = turn;
      w.__answer = turn.querySelector('.answer-text')!;
      return {
        turnHtml: turn.outerHTML,
        answerHtml: w.__answer.outerHTML,
        bodyHtml: document.body.innerHTML,
        headHtml: document.head.innerHTML,
        panelAlready: turn.querySelector('realign-panel') !== null,
      };
    },
    [question, answer],
  );
}

/** Asks the demo chat a question; it streams the given answer (resolves once streaming started). */
export async function askDemo(page: Page, question: string, answer: string, options: { chunkMs?: number; chunkWords?: number } = {}): Promise<void> {
  await page.evaluate(
    ([q, a, o]) => void (window as unknown as { demoChat: { ask(q: string, a: string, o: object): Promise<Element> } }).demoChat.ask(q as string, a as string, o as object),
    [question, answer, { chunkMs: 15, ...options }] as const,
  );
}
